"""The app as a real server, and the headless Chromium that visits it: shared by the cold-start benchmark and
the browser tests (tests/live_server.py). Chromium is Debian's /usr/bin/chromium; nothing is downloaded."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_app(port: int, env: dict | None = None, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """`streamlit run app/streamlit_app.py` headless on 127.0.0.1:`port`, with this environment's streamlit."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def wait_until_serving(port: int, server: subprocess.Popen, deadline: float, poll_s: float = 0.02) -> None:
    """Poll the health endpoint every `poll_s` until the server answers (deadline: a time.perf_counter() value);
    RuntimeError if the server exits first, TimeoutError if the deadline passes."""
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with code {server.returncode} before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(poll_s)
    raise TimeoutError("the app did not start serving in time")


def launch_chromium(playwright):
    """Headless Chromium from a Playwright instance (sync or async API: the async one returns an awaitable)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
