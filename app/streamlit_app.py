"""Entry script: draws the shared sidebar and routes to the pages. Computation lives in rfi_models."""

import streamlit as st
from sidebar import draw_sidebar

st.set_page_config(page_title="Autoencoder explorer: MAE vs CAE vs DAE", layout="wide")
pages = [
    st.Page("views/home.py", title="Home", default=True),
    st.Page("views/reconstruction.py", title="Reconstruction"),
]
navigation = st.navigation(pages)
st.session_state["selection"] = draw_sidebar()
navigation.run()
