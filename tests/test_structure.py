"""The package's structural promises: importing rfi_models changes no process-wide setting, and names shared
by every layer agree with what they name."""

import json
import subprocess
import sys
from pathlib import Path

import rfi_models
from rfi_models.names import DOMAINS, FAMILIES

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter, after the libraries that change the environment on their own import: records
# every libc function looked up through ctypes and the settings a library could change (environment, torch
# threads and dtype, recursion limit), imports every rfi_models module, then calls keep_large_blocks()
# explicitly, which must be seen (so the recorder works).
PROBE = """
import ctypes, importlib, json, os, pkgutil, sys
import rasterio, sklearn, torch  # they set KMP_* and *_CURL_CA_BUNDLE on their own import: not ours
looked_up = []
class Recording(ctypes.CDLL):
    def __getattr__(self, name):
        looked_up.append(name)
        return super().__getattr__(name)
ctypes.CDLL = Recording
def settings():
    return {"env": dict(os.environ), "threads": torch.get_num_threads(), "dtype": str(torch.get_default_dtype()),
            "recursion": sys.getrecursionlimit()}
before = settings()
import rfi_models
modules = [m.name for m in pkgutil.walk_packages(rfi_models.__path__, "rfi_models.") if not m.name.endswith("__main__")]
for name in modules:
    importlib.import_module(name)
after, on_import = settings(), list(looked_up)
from rfi_models.runtime import keep_large_blocks
keep_large_blocks()
print(json.dumps({"modules": modules, "same": before == after, "on_import": on_import, "explicit": looked_up}))
"""


def test_importing_rfi_models_changes_no_process_wide_setting():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.splitlines()[-1])
    assert "rfi_models.runtime" in report["modules"] and "rfi_models.models.mae" in report["modules"]
    assert report["same"], "importing rfi_models changed the environment, torch's settings or the recursion limit"
    assert "mallopt" not in report["on_import"], "importing rfi_models called mallopt"
    if sys.platform == "linux":
        assert "mallopt" in report["explicit"]  # the recorder sees an explicit call


def test_the_shared_family_names_are_the_registered_models():
    assert sorted(FAMILIES) == rfi_models.list_models()
    assert all(domain in rfi_models.list_presets(family) for family in FAMILIES for domain in DOMAINS)
