"""Pure functions from arrays to things a page shows: display images, false colour, heat maps, overlays,
plotly figures, and PNG bytes for downloads.

Nothing here knows about Streamlit; every function takes arrays and returns arrays (uint8 images ready for
display), bytes, or a plotly figure. `talk=True` makes figures large for a projector.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from .data.quicklook import quicklook_to_db
from .training_log import TrainingLog


def to_uint8(gray: np.ndarray) -> np.ndarray:
    """[H, W] in [0, 1] -> uint8 [H, W]."""
    return np.clip(np.rint(np.asarray(gray, dtype=np.float32) * 255), 0, 255).astype(np.uint8)


def false_colour(image: np.ndarray) -> np.ndarray:
    """SAR [2, H, W] (VV, VH) in [0, 1] -> uint8 RGB [H, W, 3]: R = VV, G = VH, B = VV - VH (dB), no-data black.

    The usual Sentinel-1 dual-pol composite: sea dark blue-ish, land green-yellow, RFI (VH only) green.
    """
    vv, vh = image[0], image[1]
    ratio_db = quicklook_to_db(vv * 255) - quicklook_to_db(vh * 255)  # typically 0..15 dB
    blue = np.clip(ratio_db / 15.0, 0, 1)
    rgb = np.stack([vv, vh, blue], axis=-1)
    rgb[(vv == 0) & (vh == 0)] = 0
    return to_uint8(rgb)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """One uint8 picture of an image [C, H, W]: the digit, or the SAR false-colour composite."""
    return to_uint8(image[0]) if image.shape[0] == 1 else false_colour(image)


def channel_views(image: np.ndarray, domain: str) -> list[tuple[str, np.ndarray]]:
    """[(caption, uint8 image)] to show one image: the digit, or VV, VH and the false-colour composite."""
    if domain == "mnist":
        return [("digit", to_uint8(image[0]))]
    return [("VV", to_uint8(image[0])), ("VH", to_uint8(image[1])), ("false colour", false_colour(image))]


def heat_colours(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """[H, W] non-negative values -> uint8 RGB with a black-red-yellow-white ramp; NaN shown grey."""
    finite = np.isfinite(values)
    top = vmax if vmax is not None else (float(np.nanpercentile(values, 99.5)) if finite.any() else 1.0)
    t = np.clip(np.where(finite, values, 0) / max(top, 1e-12), 0, 1)
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], axis=-1)
    rgb[~finite] = 0.5
    return to_uint8(rgb)


def overlay(background: np.ndarray, heat: np.ndarray, opacity: float) -> np.ndarray:
    """Blend a uint8 heat image [H, W, 3] over a gray uint8 background [H, W] with `opacity` in [0, 1]."""
    base = np.repeat(background[..., None], 3, axis=-1).astype(np.float32)
    return np.clip((1 - opacity) * base + opacity * heat.astype(np.float32), 0, 255).astype(np.uint8)


def mask_overlay(background: np.ndarray, mask: np.ndarray, colour=(255, 0, 255), opacity: float = 0.6) -> np.ndarray:
    """Gray uint8 [H, W] with the bool mask [H, W] painted in `colour`."""
    rgb = np.repeat(background[..., None], 3, axis=-1).astype(np.float32)
    rgb[mask] = (1 - opacity) * rgb[mask] + opacity * np.asarray(colour, dtype=np.float32)
    return rgb.astype(np.uint8)


def nan_to_grey(heat: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mark NaN entries of `values` [H, W] (e.g. hidden MAE patches) as mid-grey in the uint8 RGB `heat`."""
    marked = heat.copy()
    marked[~np.isfinite(values)] = 128
    return marked


# ------------------------------------------------------------------------------------------ downloads
def as_rgb(picture: np.ndarray) -> np.ndarray:
    return np.repeat(picture[..., None], 3, axis=-1) if picture.ndim == 2 else picture


def image_strip(panels: list[tuple[str, np.ndarray]], gap: int = 8, caption_height: int = 16) -> np.ndarray:
    """Side-by-side uint8 panels (gray or RGB, any sizes) with their captions above: one RGB image."""
    scale = max(1, 128 // max(p.shape[0] for _, p in panels))  # small images (MNIST) are enlarged
    pictures = [np.kron(as_rgb(p), np.ones((scale, scale, 1), np.uint8)) for _, p in panels]
    height = max(p.shape[0] for p in pictures) + caption_height
    width = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    draw, left = ImageDraw.Draw(canvas), 0
    for (caption, _), picture in zip(panels, pictures, strict=True):
        draw.text((left + 2, 2), caption, fill="black")
        canvas.paste(Image.fromarray(picture), (left, caption_height))
        left += picture.shape[1] + gap
    return np.asarray(canvas)


def display_stride(shape: tuple[int, ...], max_side: int = 1600) -> int:
    """The step that brings an image of `shape` [..., H, W] down to at most `max_side` pixels a side for display."""
    return max(1, -(-max(shape[-2:]) // max_side))


# ------------------------------------------------------------------------------------------ figures
PLOTLY_PNG_EXPORT = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False}


def styled(figure: go.Figure, talk: bool = False, height: int | None = None) -> go.Figure:
    """Common layout: compact margins; large fonts and figures in talk mode."""
    base = 22 if talk else 13
    figure.update_layout(
        font={"size": base},
        height=height or (640 if talk else 420),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"font": {"size": base - 2}},
    )
    return figure


def latent_scatter(
    coords: np.ndarray,
    colour: np.ndarray,
    colour_name: str,
    hover: list[str],
    *,
    categorical: bool,
    title: str = "",
    placed: np.ndarray | None = None,
    neighbours: np.ndarray | None = None,
    sample_ids: np.ndarray | None = None,
    talk: bool = False,
) -> go.Figure:
    """A 2-D or 3-D latent map. coords [N, 2|3]; colour [N]; each point carries its sample id (default: its row
    index) as customdata, so a selection can be mapped back to samples.

    placed [M, 2|3]: new samples, drawn as large stars; neighbours [K]: row indices ringed in black.
    """
    three_d = coords.shape[1] == 3
    trace = go.Scatter3d if three_d else go.Scatter
    size = 3 if three_d else 6

    def axes(points: np.ndarray) -> dict:
        named = {"x": points[:, 0], "y": points[:, 1]}
        return named | ({"z": points[:, 2]} if three_d else {})

    figure = go.Figure()
    rows = np.arange(len(coords))
    ids = rows if sample_ids is None else np.asarray(sample_ids)
    if categorical:
        groups = [(str(value), colour == value) for value in np.unique(colour)]
    else:
        groups = [(colour_name, np.ones(len(coords), bool))]
    for name, members in groups:
        marker = {"size": size, "opacity": 0.8}
        if not categorical:
            marker |= {"color": colour, "colorscale": "Viridis", "showscale": True, "colorbar": {"title": colour_name}}
        figure.add_trace(
            trace(
                **axes(coords[members]),
                mode="markers",
                name=name,
                marker=marker,
                customdata=ids[members],
                text=[hover[i] for i in rows[members]],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if neighbours is not None and len(neighbours):
        ring = {"size": size + 6, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}}
        figure.add_trace(trace(**axes(coords[neighbours]), mode="markers", name="nearest neighbours", marker=ring,
                               hoverinfo="skip"))  # fmt: skip
    if placed is not None:
        star = {"size": size * 4, "color": "red", "symbol": "diamond" if three_d else "star",
                "line": {"color": "black", "width": 1}}  # fmt: skip
        figure.add_trace(trace(**axes(placed), mode="markers", name="current image", marker=star))
    figure.update_layout(title=title, legend_title_text=colour_name if categorical else "", dragmode="lasso")
    return styled(figure, talk)


def line_chart(
    series: dict[str, tuple[np.ndarray, np.ndarray]], x_title: str, y_title: str, title: str = "",
    log_y: bool = False, talk: bool = False,
) -> go.Figure:  # fmt: skip
    """One line per named (x, y) series."""
    figure = go.Figure([go.Scatter(x=x, y=y, mode="lines+markers" if len(x) < 40 else "lines", name=name)
                        for name, (x, y) in series.items()])  # fmt: skip
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title)
    if log_y:
        figure.update_yaxes(type="log")
    return styled(figure, talk)


def training_curves(log: TrainingLog, title: str, talk: bool = False) -> go.Figure:
    """Training loss per logged step, and training/validation loss per epoch on the step axis."""
    steps_per_epoch = log.steps[-1] / log.epochs[-1] if log.epochs and log.steps else 1.0
    epoch_steps = np.asarray(log.epochs) * steps_per_epoch
    return line_chart(
        {
            "training loss (per 10 steps)": (np.asarray(log.steps), np.asarray(log.step_losses)),
            "training loss (epoch)": (epoch_steps, np.asarray(log.train_losses)),
            "validation loss (epoch)": (epoch_steps, np.asarray(log.val_losses)),
        },
        "step",
        "loss",
        title,
        log_y=True,
        talk=talk,
    )


def weight_histograms(rows: list[dict], title: str, talk: bool = False) -> go.Figure:
    """Per-layer weight histograms from `analysis.weight_statistics` rows, overlaid (click a legend entry to hide)."""
    figure = go.Figure()
    for row in rows:
        edges = np.asarray(row["histogram"]["edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        share = np.asarray(row["histogram"]["counts"]) / max(row["count"], 1)
        label = f"{row['layer']} ({row['near_zero_share']:.0%} near 0)"
        figure.add_trace(go.Scatter(x=centres, y=share, mode="lines", name=label, line={"shape": "hvh"}))
    figure.update_layout(title=title, xaxis_title="weight value", yaxis_title="share of the layer's weights")
    return styled(figure, talk, height=700 if talk else 480)
