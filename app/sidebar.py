"""The shared sidebar: domain, checkpoints, image source, window, mask ratio and seed, kept across pages and in the URL.

Query parameters hold the page state (domain, checkpoints and SAR's second MAE, image, window, mask ratio, seed), so
a copied URL restores the view. Only checkpoint files listed in the checkpoints folder can be chosen. SAR images of
any size are accepted: `Selection.scene` is the whole image (the RFI detection page scores it), `Selection.current`
the movable window of the models' input size over it (the pages that run the models take it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import streamlit as st

from rfi_models.data.synthetic_sar import SAR_SIZE
from rfi_models.io import InputError
from rfi_models.names import DOMAINS, FAMILIES, MAE_DISPLAY_RATIO, checkpoints_dir
from rfi_models.view.gallery import (
    SAR_GALLERY,
    SEMI_SYNTHETIC_SIZE,
    CurrentImage,
    checkpoints_by_family,
    gallery_image,
    generated_image,
    mask_ratio_note,
    real_scene,
    real_scenes,
    sar_gallery_image,
    sar_gallery_label,
    semi_synthetic_image,
    short_name,
    windowed,
)
from rfi_models.view.model_names import display_name, labelled_checkpoints, model_key, second_mae_default
from rfi_models.view.window import Window, place_window


def checkpoints_folder() -> Path:
    """The checkpoints folder: $RFI_MODELS_CHECKPOINTS set by whoever runs the server, else the repository's."""
    return checkpoints_dir()


UPLOAD_TYPES = ["npy", "npz", "png", "jpg", "jpeg", "tif", "tiff", "zip"]
UPLOAD_HELP = {
    "mnist": "A digit: PNG/JPEG of any size, or a 1-band .npy/.npz/TIFF",
    "sar": "Any size: a Sentinel-1 quick-look PNG (dual-pol), a SAFE product .zip, a 2-band (VV, VH) .npy/.npz or "
    "(Geo)TIFF. The models look through a movable window of their input size.",
}
MAX_SEED = 10**6
REAL = "Sentinel-1"  # the real quick-looks, when they are there
SEMI = "semi-synthetic"  # real backgrounds with injected RFI, when the real data is there
SOURCES = {"mnist": ["gallery", "upload"], "sar": ["gallery", REAL, SEMI, "upload", "generate"]}


def loaded_models(checkpoints: dict) -> dict:
    """family -> model of each checkpoint path, loaded once per process (`cache.shared_model`).

    cache is imported here, not at the top: it imports torch, which the Home page does not need, so the app's
    first page renders sooner (`cold_start_s` in benchmarks/results.json) and torch is imported by the first page
    that uses a model."""
    from cache import shared_model

    return {family: shared_model(str(path))[0] for family, path in checkpoints.items()}


@dataclass
class Selection:
    domain: str
    checkpoints: dict  # family -> checkpoint path, only families with a checkpoint
    current: CurrentImage | None  # at the models' input size: the window over `scene` when it has another size
    mask_ratio: float
    seed: int
    problems: list[str] = field(default_factory=list)  # unreadable checkpoints, bad uploads
    scene: CurrentImage | None = None  # the whole image, any size
    window: Window | None = None  # where `current` is in `scene`, when it is a window
    second_mae: Path | None = None  # SAR: another MAE shown beside the chosen one (Explain, RFI detection)

    @cached_property
    def models(self) -> dict:
        """family -> loaded model, for the same families as `checkpoints`; loaded on first use."""
        return loaded_models(self.checkpoints)

    @cached_property
    def labelled(self) -> dict[str, Path]:
        """Model key -> checkpoint path (`view.model_names`): every family's, a SAR MAE named by its masking, and
        the second MAE beside the first."""
        return labelled_checkpoints(self.checkpoints, self.domain, self.second_mae)

    @cached_property
    def labelled_models(self) -> dict:
        """Model key -> loaded model, for the same keys as `labelled`; loaded on first use."""
        return loaded_models(self.labelled)

    def key(self, family: str) -> str:
        """The model key of the family's chosen checkpoint ("mae · rows" for a SAR MAE trained hiding rows)."""
        return model_key(family, self.domain, self.checkpoints[family])

    def label(self, family: str) -> str:
        """How a page names the family's chosen model ("MAE · rows")."""
        return display_name(self.key(family))


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
    domains = list(DOMAINS)
    domain = bar.radio("Domain", domains, index=domains.index(query_default("domain", str, "mnist")) if
                       query_default("domain", str, "mnist") in domains else 0,
                       format_func=str.upper, horizontal=True, key="domain")  # fmt: skip
    folder = checkpoints_folder()
    grouped, problems = checkpoints_by_family(folder, domain)
    checkpoints, second_mae = {}, None
    for family in FAMILIES:
        names = [p.name for p in grouped[family]]
        if not names:
            continue
        wanted = query_default(family, str, names[0])
        name = bar.selectbox(f"{family.upper()} checkpoint", names, index=names.index(wanted) if wanted in names else 0,
                             key=f"{domain}_{family}")  # fmt: skip
        checkpoints[family] = folder / name
        if family == "mae":
            second_mae = draw_second_mae(domain, grouped["mae"], checkpoints["mae"])
    if "mae" not in checkpoints:
        st.query_params.pop("mae2", None)

    sources = [s for s in SOURCES[domain] if s not in (REAL, SEMI) or real_scenes()]
    wanted_source = query_default("source", str, "gallery")
    source = bar.radio("Image source", sources, horizontal=True, key=f"{domain}_source",
                       index=sources.index(wanted_source) if wanted_source in sources else 0)  # fmt: skip
    scene = image_of_source(source, domain, problems)
    current, window = scene, None
    if domain == "sar" and scene is not None and scene.image.shape[1:] != SAR_SIZE:
        window = draw_window(scene, SAR_SIZE)
        current = windowed(scene, window)
    else:
        for key in ("wtop", "wleft"):
            st.query_params.pop(key, None)

    talk = bar.toggle("Talk mode", value=query_default("talk", int, 0) == 1, key="talk",
                      help="Large fonts and figures, a clean layout: for presenting")  # fmt: skip
    ratio = query_default("mask", float, MAE_DISPLAY_RATIO, 0.0, 0.95)
    mask_ratio = bar.slider("Mask ratio (MAE)", 0.0, 0.95, ratio, 0.05, key="mask_ratio")
    for which, mae in (("", checkpoints.get("mae")), ("Second MAE: ", second_mae)):
        if mae is not None and (note := mask_ratio_note(mae, mask_ratio)):
            bar.caption(which + note)
    url_seed = query_default("seed", int, 0, 0, MAX_SEED)
    seed = int(bar.number_input("Mask / noise seed", 0, MAX_SEED, url_seed, key="seed"))
    st.query_params.update({"domain": domain, "mask": mask_ratio, "seed": seed, "source": source, "talk": int(talk)})
    st.query_params.update({family: path.name for family, path in checkpoints.items()})
    return Selection(domain, checkpoints, current, mask_ratio, seed, problems, scene, window, second_mae)


def draw_second_mae(domain: str, maes: list[Path], selected: Path) -> Path | None:
    """SAR, with more than one MAE checkpoint: a "Second MAE" shown beside the chosen one, kept in the URL (mae2);
    by default one trained with another masking when there is one; "none" shows the chosen MAE alone."""
    others = [path for path in maes if path.name != selected.name]
    if domain != "sar" or not others:
        st.query_params.pop("mae2", None)
        return None
    names = ["none", *(path.name for path in others)]
    default = second_mae_default(selected, others).name
    wanted = query_default("mae2", str, default)
    name = st.sidebar.selectbox("Second MAE", names, index=names.index(wanted if wanted in names else default),
                                key=f"sar_mae2_{selected.name}",
                                help="shown beside the chosen MAE on Explain and RFI detection, each named by "
                                "the masking it was trained with")  # fmt: skip
    st.query_params["mae2"] = name
    return None if name == "none" else selected.parent / name


def image_of_source(source: str, domain: str, problems: list[str]) -> CurrentImage | None:
    """The sidebar's image from the chosen source, whole; an upload's refusal goes to `problems`."""
    bar = st.sidebar
    if source == "gallery" and domain == "sar":  # the real RFI patches first (the default), then synthetic ones
        wanted = query_default("sar_image", str, SAR_GALLERY[0])  # not MNIST's `image`: SAR opens on a real patch
        key = bar.selectbox("Gallery image", SAR_GALLERY, index=SAR_GALLERY.index(wanted) if wanted in SAR_GALLERY
                            else 0, format_func=sar_gallery_label, key="sar_image",
                            help="real Sentinel-1 with real RFI: the original study's validation patches, with "
                            "hand-drawn boxes; synthetic: the generator's test patches")  # fmt: skip
        st.query_params["sar_image"] = key
        return sar_gallery_image(key)
    if source == "gallery":
        index = bar.number_input("Gallery image", 0, 9999, query_default("image", int, 0, 0, 9999), key="mnist_image")
        st.query_params["image"] = int(index)
        return gallery_image(domain, int(index))
    if source == SEMI:
        last = SEMI_SYNTHETIC_SIZE - 1
        index = bar.number_input("Semi-synthetic patch (real background, injected RFI)", 0, last,
                                 query_default("semi", int, 0, 0, last), key="semi_image")  # fmt: skip
        st.query_params["semi"] = int(index)
        with st.spinner("Making the semi-synthetic patches (once)…"):
            return semi_synthetic_image(int(index))
    if source == REAL:
        names = real_scenes()
        wanted = query_default("scene", str, names[0])
        name = bar.selectbox("Real Sentinel-1 quick-look (no visible RFI)", names, key="real_scene",
                             index=names.index(wanted) if wanted in names else 0,
                             format_func=short_name)  # fmt: skip
        st.query_params["scene"] = name
        return real_scene(name)
    if source == "upload":
        upload = bar.file_uploader("Your image", type=UPLOAD_TYPES, key=f"{domain}_upload", help=UPLOAD_HELP[domain])
        if upload is None:
            return None
        from cache import upload as read_upload  # torch with it: only once something is uploaded

        try:
            return read_upload(upload.file_id, upload.name, domain, upload.getvalue())
        except InputError as err:
            problems.append(f"Upload refused: {err}")
            return None
    patch_seed = query_default("patch", int, 0, 0, MAX_SEED)
    seed = bar.number_input("Generator seed", 0, MAX_SEED, patch_seed, key="generator_seed")
    rfi = bar.toggle("RFI", value=query_default("rfi", int, 1) == 1, key="generator_rfi")
    strength_db = query_default("strength", float, 10.0, 1.0, 25.0)
    strength = bar.slider("RFI strength (dB above VH)", 1.0, 25.0, strength_db, 0.5, key="generator_strength")
    st.query_params.update({"patch": int(seed), "rfi": int(rfi), "strength": strength})
    return generated_image(int(seed), rfi, strength)


def draw_window(scene: CurrentImage, size: tuple[int, int]) -> Window:
    """Sliders that move the models' window over `scene`, kept in the URL (wtop, wleft).

    A new image starts at the window the baseline detector scores highest; the URL's position is used when the
    session starts (a shared link) and for as long as the image stays the same."""
    from cache import default_window

    digest = hashlib.sha1(f"{scene.image.shape}{scene.label}".encode() + scene.image[:, ::7, ::7].tobytes()).hexdigest()
    best = default_window(digest, size, scene.image)
    same_image = st.session_state.get("window_image") in (None, digest)
    st.session_state["window_image"] = digest
    max_top, max_left = best.limits
    top = query_default("wtop", int, best.top, 0, max_top) if same_image else best.top
    left = query_default("wleft", int, best.left, 0, max_left) if same_image else best.left
    bar = st.sidebar
    bar.caption(f"Models' window ({size[0]} x {size[1]}) over the {scene.image.shape[1]} x {scene.image.shape[2]} "
                "image; it starts where the baseline detector scores highest")  # fmt: skip
    if max_top > 0:
        top = bar.slider("Window top row", 0, max_top, top, key=f"wtop_{digest}")
    if max_left > 0:
        left = bar.slider("Window left column", 0, max_left, left, key=f"wleft_{digest}")
    st.query_params.update({"wtop": int(top), "wleft": int(left)})
    return place_window(scene.image.shape[1:], size, top, left)
