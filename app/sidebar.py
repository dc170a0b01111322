"""The shared sidebar: domain, checkpoints, image source, mask ratio and seed, kept across pages and in the URL.

Query parameters hold the page state (domain, checkpoints, image, mask ratio, seed), so a copied URL
restores the view. Only checkpoint files listed in the checkpoints folder can be chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import streamlit as st

from rfi_models.gallery import (
    FAMILIES,
    CurrentImage,
    checkpoints_by_family,
    gallery_image,
    generated_image,
    mask_ratio_note,
    uploaded_image,
)
from rfi_models.io import InputError

DEFAULT_CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def checkpoints_folder() -> Path:
    """The checkpoints folder: the repository's, or $RFI_MODELS_CHECKPOINTS set by whoever runs the server."""
    return Path(os.environ.get("RFI_MODELS_CHECKPOINTS", DEFAULT_CHECKPOINTS))


UPLOAD_TYPES = ["npy", "npz", "png", "jpg", "jpeg", "tif", "tiff"]
MAX_SEED = 10**6
SOURCES = {"mnist": ["gallery", "upload"], "sar": ["gallery", "upload", "generate"]}


def loaded_models(checkpoints: dict) -> dict:
    """family -> model of each checkpoint path, loaded once per process (`cache.shared_model`).

    cache is imported here, not at the top: it imports torch, which the Home page does not need, so the app's
    first page renders about 2 s sooner and torch is imported by the first page that uses a model."""
    from cache import shared_model

    return {family: shared_model(str(path))[0] for family, path in checkpoints.items()}


@dataclass
class Selection:
    domain: str
    checkpoints: dict  # family -> checkpoint path, only families with a checkpoint
    current: CurrentImage | None
    mask_ratio: float
    seed: int
    problems: list[str] = field(default_factory=list)  # unreadable checkpoints, bad uploads

    @cached_property
    def models(self) -> dict:
        """family -> loaded model, for the same families as `checkpoints`; loaded on first use."""
        return loaded_models(self.checkpoints)


def query_default(key: str, cast, default, low=None, high=None):
    """The URL's value for `key` as `cast`, or `default` when it is missing, malformed or outside [low, high]."""
    try:
        value = cast(st.query_params[key]) if key in st.query_params else default
    except (TypeError, ValueError):
        return default
    if (low is not None and value < low) or (high is not None and value > high):
        return default
    return value


def draw_sidebar() -> Selection:
    bar = st.sidebar
    domains = ["mnist", "sar"]
    domain = bar.radio("Domain", domains, index=domains.index(query_default("domain", str, "mnist")) if
                       query_default("domain", str, "mnist") in domains else 0,
                       format_func=str.upper, horizontal=True, key="domain")  # fmt: skip
    folder = checkpoints_folder()
    grouped, problems = checkpoints_by_family(folder, domain)
    checkpoints = {}
    for family in FAMILIES:
        names = [p.name for p in grouped[family]]
        if not names:
            continue
        wanted = query_default(family, str, names[0])
        name = bar.selectbox(f"{family.upper()} checkpoint", names, index=names.index(wanted) if wanted in names else 0,
                             key=f"{domain}_{family}")  # fmt: skip
        checkpoints[family] = folder / name

    sources = SOURCES[domain]
    wanted_source = query_default("source", str, "gallery")
    source = bar.radio("Image source", sources, horizontal=True, key=f"{domain}_source",
                       index=sources.index(wanted_source) if wanted_source in sources else 0)  # fmt: skip
    current = None
    if source == "gallery":
        limit = 9999 if domain == "mnist" else 119
        index = bar.number_input(
            "Gallery image", 0, limit, query_default("image", int, 0, 0, limit), key=f"{domain}_image"
        )
        current = gallery_image(domain, int(index))
        st.query_params["image"] = int(index)
    elif source == "upload":
        upload = bar.file_uploader("Your image", type=UPLOAD_TYPES, key=f"{domain}_upload")
        if upload is not None:
            models = loaded_models(checkpoints)
            size = next(iter(models.values())).config.img_size if models else (340, 500)
            try:
                current = uploaded_image(upload.getvalue(), upload.name, domain, size)
            except InputError as err:
                problems.append(f"Upload refused: {err}")
    else:
        patch_seed = query_default("patch", int, 0, 0, MAX_SEED)
        seed = bar.number_input("Generator seed", 0, MAX_SEED, patch_seed, key="generator_seed")
        rfi = bar.toggle("RFI", value=query_default("rfi", int, 1) == 1, key="generator_rfi")
        strength_db = query_default("strength", float, 10.0, 1.0, 25.0)
        strength = bar.slider("RFI strength (dB above VH)", 1.0, 25.0, strength_db, 0.5, key="generator_strength")
        current = generated_image(int(seed), rfi, strength)
        st.query_params.update({"patch": int(seed), "rfi": int(rfi), "strength": strength})

    talk = bar.toggle("Talk mode", value=query_default("talk", int, 0) == 1, key="talk",
                      help="Large fonts and figures, a clean layout: for presenting")  # fmt: skip
    ratio = query_default("mask", float, 0.75, 0.0, 0.95)
    mask_ratio = bar.slider("Mask ratio (MAE)", 0.0, 0.95, ratio, 0.05, key="mask_ratio")
    if "mae" in checkpoints and (note := mask_ratio_note(checkpoints["mae"], mask_ratio)):
        bar.caption(note)
    url_seed = query_default("seed", int, 0, 0, MAX_SEED)
    seed = int(bar.number_input("Mask / noise seed", 0, MAX_SEED, url_seed, key="seed"))
    st.query_params.update({"domain": domain, "mask": mask_ratio, "seed": seed, "source": source, "talk": int(talk)})
    st.query_params.update({family: path.name for family, path in checkpoints.items()})
    return Selection(domain, checkpoints, current, mask_ratio, seed, problems)
