"""Entry script: draws the shared sidebar and routes to the pages. Computation lives in rfi_models."""

import importlib
import threading

import streamlit as st
from sidebar import draw_sidebar

from rfi_models.runtime import keep_large_blocks

# What app/cache.py imports: torch, the models, Captum. The background import waits PRELOAD_DELAY_S: started
# at once, it holds the GIL while Streamlit finishes the first run, and the page is reported done later
# (`cold_start_s` in benchmarks/results.json, measured by benchmarks/cold_start.py).
PRELOADED_MODULES = ("rfi_models.detection.detector", "rfi_models.analysis.explain", "rfi_models.analysis.latent_maps")
PRELOAD_DELAY_S = 1.0
# Talk mode: large type, no Streamlit chrome, little padding, so that a page's main figure fits a 1280 x 720 projector.
TALK_STYLE = """<style>
html, body, [class*="st-"] { font-size: 1.3rem; }
h1, h1 * { font-size: 2.4rem !important; } h1 { padding: 0 0 0.3rem 0 !important; }
h2, h2 *, h3, h3 * { font-size: 1.8rem !important; }
header[data-testid="stHeader"], footer, #MainMenu, [data-testid="stToolbar"] { display: none; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 1.5rem 1rem 1.5rem !important; max-width: 100%; }
</style>"""
# Every page: less empty space above the title, so that the main figure sits higher.
PAGE_STYLE = "<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>"
# MNIST digits are 28 x 28: the browser enlarges them pixel for pixel instead of blurring them.
PIXELATED_STYLE = "<style>[data-testid='stImage'] img { image-rendering: pixelated; }</style>"


@st.cache_resource(show_spinner=False)
def import_models_in_background() -> threading.Timer:
    """Once per process, shortly after the first page: import torch and the model code (seconds) in a
    background thread, so that the first page to use a model does not wait for them."""
    thread = threading.Timer(PRELOAD_DELAY_S, lambda: [importlib.import_module(name) for name in PRELOADED_MODULES])
    thread.daemon = True
    thread.start()
    return thread


keep_large_blocks()  # once per process
# A talk-mode link opens with the sidebar folded away: the projector's width goes to the figures. Decided once per
# session: a changed value would fold the sidebar again on a later run.
sidebar_start = st.session_state.setdefault(
    "sidebar_start", "collapsed" if st.query_params.get("talk") == "1" else "auto"
)
st.set_page_config(
    page_title="Autoencoder explorer: MAE vs CAE vs DAE", layout="wide", initial_sidebar_state=sidebar_start
)
pages = [
    st.Page("views/home.py", title="Home", default=True),
    st.Page("views/reconstruction.py", title="Reconstruction"),
    st.Page("views/explain.py", title="Explain"),
    st.Page("views/latent.py", title="Latent space"),
    st.Page("views/detection.py", title="RFI detection"),
    st.Page("views/models.py", title="Models"),
]
navigation = st.navigation(pages)
st.session_state["selection"] = draw_sidebar()
styles = [
    PAGE_STYLE,
    TALK_STYLE * st.session_state["talk"],
    PIXELATED_STYLE * (st.session_state["selection"].domain == "mnist"),
]
st.html("".join(styles))  # style only: takes no room on the page
navigation.run()
import_models_in_background()
