"""A real app server and Debian's Chromium for the browser tests (no test here: nothing is skipped on import);
the launching itself is shared with the cold-start benchmark (benchmarks/app_server.py)."""

from __future__ import annotations

import importlib
import os
import subprocess
import time

import pytest

from benchmarks.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    launch_app,
    wait_until_serving,
)

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "free_port", "playwright_or_skip", "start_server"]


def start_server(port: int, timeout: float = 90.0) -> subprocess.Popen:
    """`streamlit run` headless on the shipped checkpoints; returns once the health endpoint answers."""
    env = os.environ | {"RFI_MODELS_CHECKPOINTS": str(ROOT / "checkpoints")}
    server = launch_app(port, env=env, stderr=subprocess.PIPE)
    try:
        wait_until_serving(port, server, time.perf_counter() + timeout, poll_s=0.5)
    except (RuntimeError, TimeoutError):
        server.kill()
        said = server.stderr.read().decode(errors="replace")[-2000:]
        raise RuntimeError(f"streamlit did not start: {said}") from None
    return server


def playwright_or_skip(api: str):
    """The module playwright.{api} when Chromium and Playwright are installed; otherwise the calling test (or
    module) is skipped, except under RFI_E2E_REQUIRED=1 (set by CI), where a missing browser is a failure."""
    if os.environ.get("RFI_E2E_REQUIRED") == "1":
        return importlib.import_module(f"playwright.{api}")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
    return pytest.importorskip(f"playwright.{api}")
