"""Small UI pieces shared by the pages."""

import streamlit as st


def image_row(panels: list[tuple[str, object]], min_columns: int = 3) -> None:
    """Show (caption, image) panels side by side, at least `min_columns` wide so small images stay small."""
    columns = st.columns(max(len(panels), min_columns))
    for column, (caption, picture) in zip(columns[: len(panels)], panels, strict=True):
        column.image(picture, caption=caption, width="stretch")
