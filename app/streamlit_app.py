"""Entry script: draws the shared sidebar and routes to the pages. Computation lives in rfi_models."""

import importlib
import threading

import streamlit as st
from sidebar import draw_sidebar

from rfi_models.runtime import keep_large_blocks

# What app/cache.py imports: torch, the models, Captum. The background import waits PRELOAD_DELAY_S: started
# at once, it holds the GIL while Streamlit finishes the first run, and the page is reported done about 1.5 s
# later (measured with benchmarks/cold_start.py).
PRELOADED_MODULES = ("rfi_models.analysis.detector", "rfi_models.analysis.explain", "rfi_models.analysis.latent_maps")
PRELOAD_DELAY_S = 1.0
TALK_STYLE = """<style>
html, body, [class*="st-"] { font-size: 1.35rem; }
h1 { font-size: 3.2rem !important; } h2, h3 { font-size: 2.2rem !important; }
header[data-testid="stHeader"], footer, #MainMenu { visibility: hidden; }
.block-container { padding-top: 1rem; max-width: 100%; }
</style>"""


@st.cache_resource(show_spinner=False)
def import_models_in_background() -> threading.Timer:
    """Once per process, shortly after the first page: import torch and the model code (about 2 s) in a
    background thread, so that the first page to use a model does not wait for them."""
    thread = threading.Timer(PRELOAD_DELAY_S, lambda: [importlib.import_module(name) for name in PRELOADED_MODULES])
    thread.daemon = True
    thread.start()
    return thread


keep_large_blocks()  # once per process
st.set_page_config(page_title="Autoencoder explorer: MAE vs CAE vs DAE", layout="wide")
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
if st.session_state["talk"]:
    st.markdown(TALK_STYLE, unsafe_allow_html=True)
navigation.run()
import_models_in_background()
