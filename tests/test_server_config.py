"""The app server's defaults (.streamlit/config.toml, Makefile): localhost only, XSRF on, a justified upload limit."""

import re
import tomllib
from pathlib import Path

from rfi_models.io import MAX_ARRAY_BYTES, MAX_PIXELS

ROOT = Path(__file__).resolve().parents[1]
SERVER = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
MIB = 1 << 20


def test_binds_to_localhost_unless_asked():
    assert SERVER["address"] == "localhost"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^ADDRESS \?= localhost$", makefile, re.MULTILINE)
    assert "--server.address $(ADDRESS)" in makefile  # `make run ADDRESS=0.0.0.0` is the LAN switch


def test_xsrf_protection_is_on():
    assert SERVER["enableXsrfProtection"] is True
    assert SERVER.get("enableCORS", True) is True  # Streamlit turns XSRF off when CORS is off


def test_upload_limit_fits_the_largest_quicklook_scene_the_reader_accepts():
    largest_quicklook = 2 * MAX_PIXELS + 4096  # 2 bands of uint8 at the pixel limit, plus headers
    assert largest_quicklook <= SERVER["maxUploadSize"] * MIB < 2 * largest_quicklook
    assert SERVER["maxUploadSize"] * MIB < MAX_ARRAY_BYTES  # what one upload may decode to is bounded separately
