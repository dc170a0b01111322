import sys

import pytest
import torch

import rfi_models

PYTEST_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _pytest_stays_main():
    """Streamlit's AppTest runs the app script as `__main__` and leaves it in sys.modules. A process spawned later
    in the session (a Dask worker) re-runs its parent's `__main__` file, so it would run the app script, fail to
    import the app's modules and never start ("Nanny failed to start"). Put pytest's back after every test."""
    yield
    sys.modules["__main__"] = PYTEST_MAIN


def sample_batch(model, n=2, seed=0):
    """A batch in [0, 1] that fits `model`."""
    c = model.config
    return torch.rand(n, c.in_chans, *c.img_size, generator=torch.Generator().manual_seed(seed))


# The smallest configs of each family that keep every part (two MAE blocks, two CAE stages): built in milliseconds.
TINY = {
    "mae": dict(embed_dim=16, depth=2, num_heads=2, decoder_embed_dim=8, decoder_depth=1, decoder_num_heads=2),
    "cae": dict(channels=(4, 8), latent_dim=8),
    "dae": {},
}


def tiny_model(name: str, preset: str = "mnist", **overrides):
    """A TINY model of family `name` for `preset`'s images, in eval mode; `overrides` change config fields."""
    return rfi_models.create_model(name, preset, **(TINY[name] | overrides)).eval()


ALL_MODELS = [(name, preset) for name in rfi_models.list_models() for preset in rfi_models.list_presets(name)]
