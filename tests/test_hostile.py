"""The hostile corpus (tests/hostile_corpus.py) through the readers and the detect CLI.

Every file ends in its recorded decision: refused with a one-line InputError saying what is wrong, or read
into [0, 1] float32. Nothing is unpickled, bombs are refused in small memory, and the next request works.
"""

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hostile_corpus import PICKLE_MARKER, forbid_unpickling, hostile_files, npy_bytes

from rfi_models.detect import main
from rfi_models.io import CHANNELS, MIN_SIDE, MNIST_SIZE, InputError, open_scene, read_image

CASES = hostile_files()
SAR_CASES = [case for case in CASES if case.domain == "sar"]
BOMB_PEAK_BYTES = 16 << 20  # traced memory while refusing a bomb: 1,000 times less than it claims
ANY_PEAK_BYTES = 256 << 20  # traced memory for any case, the large accepted ones included
GOOD = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)


@pytest.fixture(autouse=True)
def nothing_is_unpickled(monkeypatch):
    """Any unpickling during a test fails it, and so does the marker the corpus' pickles would create."""
    forbid_unpickling(monkeypatch)
    PICKLE_MARKER.unlink(missing_ok=True)
    yield
    assert not PICKLE_MARKER.exists()


def traced_peak(function):
    """(result or InputError raised, peak traced memory in bytes) of function()."""
    tracemalloc.start()
    try:
        outcome = function()
    except InputError as err:
        outcome = err
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


def assert_clear_refusal(err, message=""):
    assert isinstance(err, InputError), f"accepted, expected a refusal: {type(err)}"
    text = str(err)
    assert message in text and "\n" not in text and "Traceback" not in text and len(text) < 400


def assert_usable(image, domain):
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[0] == CHANNELS[domain]
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1 and image.any()
    if domain == "mnist":
        assert image.shape[1:] == (MNIST_SIZE, MNIST_SIZE)
    else:
        assert min(image.shape[1:]) >= MIN_SIDE["sar"]


def test_the_corpus_covers_enough_cases():
    assert len(CASES) >= 40
    assert len({case.filename for case in CASES}) == len(CASES)
    assert {case.expected for case in CASES} == {"refused", "accepted"}
    assert all(case.message for case in CASES if case.expected == "refused")
    assert sum(case.bomb for case in CASES) >= 6


@pytest.mark.parametrize("case", CASES, ids=[case.filename for case in CASES])
def test_reader_gives_the_decision_in_bounded_memory(case):
    outcome, peak = traced_peak(lambda: read_image(case.data, case.domain))
    if case.expected == "refused":
        assert_clear_refusal(outcome, case.message)
    else:
        assert not isinstance(outcome, InputError), f"refused: {outcome}"
        assert_usable(outcome, case.domain)
        if case.reference:
            reference = read_image(case.reference, case.domain)
            if case.suffix == ".jpg":  # lossy: the same picture, not the same bytes
                assert np.corrcoef(outcome.ravel(), reference.ravel())[0, 1] > 0.7
            else:
                assert np.allclose(outcome, reference, atol=1e-6)
    assert peak < (BOMB_PEAK_BYTES if case.bomb else ANY_PEAK_BYTES), f"peak {peak / 2**20:.0f} MiB"
    assert np.array_equal(read_image(npy_bytes(GOOD), "mnist")[0], GOOD / np.float32(255))  # the next request


@pytest.mark.parametrize("case", SAR_CASES, ids=[case.filename for case in SAR_CASES])
def test_open_scene_gives_the_same_decision(case, tmp_path):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    outcome, peak = traced_peak(lambda: open_scene(path))
    if case.expected == "refused":
        assert_clear_refusal(outcome)  # the wording may differ: memory-mapped files are checked in another order
    else:
        scene, to_unit = outcome
        assert np.allclose(to_unit(np.asarray(scene)), read_image(case.data, "sar"), atol=1e-6)
    assert peak < (BOMB_PEAK_BYTES if case.bomb else ANY_PEAK_BYTES)


@pytest.mark.parametrize("case", CASES, ids=[case.filename for case in CASES])
def test_detect_cli_exits_2_with_one_line_or_writes_scores(case, tmp_path, capsys):
    """Every file goes to the CLI, which reads it as SAR: scored exactly when the SAR reader accepts it (the
    recorded decision for SAR cases). A fixed threshold skips the baseline's calibration (see test_detect)."""
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    scores = tmp_path / "scores.npy"
    code = main([str(path), "--checkpoint", "baseline", "--threshold", "8", "--out", str(tmp_path / "mask.png"),
                 "--scores", str(scores)])  # fmt: skip
    out, err = capsys.readouterr()
    as_sar, _ = traced_peak(lambda: read_image(case.data, "sar"))
    if not isinstance(as_sar, InputError):
        assert code == 0 and "error" not in err and "Traceback" not in err  # stderr holds the progress bar
        assert np.load(scores).shape == as_sar.shape[1:]
    else:
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
        assert not out


def test_an_unreadable_input_is_reported_as_such(tmp_path, capsys, monkeypatch):
    path = tmp_path / "scene.npy"
    path.write_bytes(npy_bytes(np.ones((2, 40, 40), np.uint8)))

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "open", denied)
    monkeypatch.setattr(type(path), "read_bytes", denied)
    with pytest.raises(InputError, match=r"scene\.npy: cannot be read \(Permission denied\)"):
        read_image(path, "sar")
    assert main([str(path), "--checkpoint", "baseline", "--out", "m.png", "--scores", "s.npy"]) == 2
    assert capsys.readouterr().err == f"error: {path}: cannot be read (Permission denied)\n"


DRIVER = """
import re, sys
from rfi_models.detect import main

def kib(field):
    return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))

out = sys.argv[1]
args = ["--checkpoint", "baseline", "--threshold", "8", "--out", out + "/m.png", "--scores", out + "/s.npy"]
for path in sys.argv[2:]:
    open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) restarts from the current resident size
    before = kib("VmRSS")
    code = main([path, *args])
    print("exit", code, "rise_kib", kib("VmHWM") - before, flush=True)
"""


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux's resettable peak RSS")
def test_bombs_in_a_real_process_keep_its_memory(tmp_path):
    """The CLI in a fresh process, the peak resident memory measured per file (C allocations included):
    after a warm-up that loads every format's code, no bomb raises it by 32 MiB (they claim 0.5 to 2.5 GiB)."""
    by_name = {case.filename: case for case in CASES}
    warm_up = ["truncated.png", "truncated.jpg", "truncated.tif", "truncated.npz", "truncated.npy", "two_pages.tif"]
    bombs = [case.filename for case in CASES if case.bomb]
    for name in warm_up + bombs:
        (tmp_path / name).write_bytes(by_name[name].data)
    paths = [str(tmp_path / name) for name in warm_up + bombs]
    result = subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path), *paths], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("exit ")]
    codes, rises_mib = [int(row[1]) for row in rows], [int(row[3]) / 1024 for row in rows]
    assert codes == [2] * 5 + [0] + [2] * len(bombs), result.stderr
    assert result.stderr.count("\n") == len(warm_up) - 1 + len(bombs) and "Traceback" not in result.stderr
    rises = dict(zip(bombs, rises_mib[len(warm_up) :], strict=True))
    print("peak RSS rise per bomb (MiB):", {name: round(rise, 1) for name, rise in rises.items()})
    assert max(rises.values()) < 32
