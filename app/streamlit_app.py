"""Entry script: draws the shared sidebar and routes to the pages. Computation lives in rfi_models."""

import streamlit as st
from sidebar import draw_sidebar

TALK_STYLE = """<style>
html, body, [class*="st-"] { font-size: 1.35rem; }
h1 { font-size: 3.2rem !important; } h2, h3 { font-size: 2.2rem !important; }
header[data-testid="stHeader"], footer, #MainMenu { visibility: hidden; }
.block-container { padding-top: 1rem; max-width: 100%; }
</style>"""

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
