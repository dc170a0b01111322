"""Properties of the readers, over generated arrays and damaged files: every input either reads into float32
[C, H, W] in [0, 1] with the domain's band count, or raises InputError; never another exception."""

import numpy as np
from hostile_corpus import hostile_files, npy_bytes, npz_bytes, pil_bytes, tiff_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from rfi_models.io import CHANNELS, MNIST_SIZE, InputError, read_image

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from(["uint8", "uint16", ">u2", "int16", "int32", "float16", "float32", "float64"])
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=48),
    st.tuples(st.integers(1, 48), st.integers(1, 48), st.integers(1, 4)),  # H x W x C
    st.tuples(st.integers(1, 4), st.integers(1, 48), st.integers(1, 48)),  # C x H x W
)
ENCODERS = {
    "npy": npy_bytes,
    "npz": lambda array: npz_bytes(image=array),
    "tiff": lambda array: tiff_bytes(array, photometric="minisblack"),
}


def read_or_refuse(data: bytes, domain: str) -> np.ndarray | None:
    """The image, checked against the reader's contract, or None for an InputError."""
    try:
        image = read_image(data, domain)
    except InputError as err:
        assert str(err) and "\n" not in str(err)
        return None
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[0] == CHANNELS[domain]
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
    if domain == "mnist":
        assert image.shape[1:] == (MNIST_SIZE, MNIST_SIZE)
    return image


@SETTINGS
@given(
    array=hnp.arrays(DTYPES, SHAPES, elements={"allow_subnormal": False}),
    container=st.sampled_from(sorted(ENCODERS)),
    domain=st.sampled_from(["mnist", "sar"]),
)
def test_any_array_in_any_container_reads_or_is_refused(array, container, domain):
    read_or_refuse(ENCODERS[container](array), domain)


@SETTINGS
@given(
    array=hnp.arrays(np.uint8, st.tuples(st.just(2), st.integers(20, 48), st.integers(20, 48))),
    container=st.sampled_from(sorted(ENCODERS)),
)
def test_valid_uint8_sar_round_trips_exactly(array, container):
    array[0, 0, 0] = 1  # not all no-data
    assert np.array_equal(read_or_refuse(ENCODERS[container](array), "sar"), array / np.float32(255))


@SETTINGS
@given(
    array=hnp.arrays(np.uint8, st.tuples(st.integers(8, 64), st.integers(8, 64))),
    mode=st.sampled_from(["L", "RGB", "RGBA", "P", "I;16"]),
    fmt=st.sampled_from(["PNG", "JPEG"]),
)
def test_any_photo_reads_as_one_mnist_digit_or_is_refused(array, mode, fmt):
    image = Image.fromarray(array).convert(mode) if mode != "I;16" else Image.fromarray(array.astype(np.uint16) * 257)
    if fmt == "JPEG" and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    read_or_refuse(pil_bytes(image, fmt), "mnist")


VALID_FILES = [case for case in hostile_files() if case.expected == "accepted" and len(case.data) < 100_000]


@SETTINGS
@given(
    case=st.sampled_from(VALID_FILES),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_read_or_are_refused(case, cut, flips):
    """Valid files, truncated and with bytes changed anywhere (headers included)."""
    data = bytearray(case.data[: max(1, round(len(case.data) * cut))])
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    read_or_refuse(bytes(data), case.domain)
