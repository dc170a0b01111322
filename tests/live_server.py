"""A real app server and Debian's Chromium for the browser tests (no test here: nothing is skipped on import)."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, timeout: float = 90.0) -> subprocess.Popen:
    """`streamlit run` headless on the shipped checkpoints; returns once the health endpoint answers."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = os.environ | {"RFI_MODELS_CHECKPOINTS": str(ROOT / "checkpoints")}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"streamlit did not start: {server.stderr.read().decode(errors='replace')[-2000:]}")


def playwright_or_skip(api: str):
    """The module playwright.{api} when Chromium and Playwright are installed; otherwise the calling test (or
    module) is skipped, except under RFI_E2E_REQUIRED=1 (set by CI), where a missing browser is a failure."""
    if os.environ.get("RFI_E2E_REQUIRED") == "1":
        return importlib.import_module(f"playwright.{api}")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
    return pytest.importorskip(f"playwright.{api}")
