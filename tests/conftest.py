import pytest
import torch

import rfi_models


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    torch.set_num_threads(2)


def sample_batch(model, n=2, seed=0):
    """A batch in [0, 1] that fits `model`."""
    c = model.config
    return torch.rand(n, c.in_chans, *c.img_size, generator=torch.Generator().manual_seed(seed))


ALL_MODELS = [(name, preset) for name in rfi_models.list_models() for preset in rfi_models.list_presets(name)]
