"""Band inpainting for the convolutional families, in the style of a context encoder (Pathak et al. 2016).

Bands are runs of `band_rows` image rows (azimuth lines; the last band may be shorter), the shape of RFI stripes,
which run along range. An inpainting model sees the input with some bands blanked (set to 0 after normalisation,
the mean) plus one mask channel (1 on blanked rows), and its loss is the MSE on the blanked rows only: it learns
to fill a band from the rows above and below, so a stripe inside a hidden band is not in what it sees.
Training blanks a random share `band_ratio` of the bands per image; scoring uses covering bands
(`covering_band_rows`): K masks, band b hidden by mask b mod K, so that every row is predicted exactly once while
hidden, with both neighbouring bands visible when K >= 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .base import Reconstruction

BAND_ROWS = 20  # the SAR MAE's patch height, and taller than most real RFI boxes (median about 10 rows)
BAND_RATIO = 0.5
SCORING_BANDS = 2  # covering masks: every other band hidden, each hidden band between two visible ones


@dataclass
class InpaintingConfig:
    """Fields of a family that can be trained as a band inpainter (a mixin of its config dataclass)."""

    inpaint: bool = False  # input = bands blanked + mask channel, loss on the blanked bands
    band_rows: int = BAND_ROWS
    band_ratio: float = BAND_RATIO  # share of the bands blanked per training image

    def __post_init__(self) -> None:
        super().__post_init__()
        self.band_rows = int(self.band_rows)
        if self.band_rows < 1 or not 0.0 < self.band_ratio < 1.0:
            raise ValueError(f"band_rows must be >= 1 and band_ratio in (0, 1), got {self.band_rows}, "
                             f"{self.band_ratio}")  # fmt: skip

    @property
    def model_channels(self) -> int:
        """Channels of what the network sees: the image's, plus the mask channel when inpainting."""
        return self.in_chans + int(self.inpaint)


def band_of_rows(height: int, band_rows: int) -> torch.Tensor:
    """[H] long: the band index of every row."""
    return torch.arange(height) // band_rows


def random_band_rows(n: int, height: int, band_rows: int, ratio: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """bool [N, H], True on the rows of round(ratio * bands) bands per image (at least 1, at most all but 1),
    chosen at random."""
    bands = math.ceil(height / band_rows)
    hidden = min(max(round(ratio * bands), 1), max(bands - 1, 1))
    ranks = torch.argsort(torch.argsort(torch.rand(n, bands, generator=generator), dim=1), dim=1)
    return (ranks < hidden)[:, band_of_rows(height, band_rows)]


def covering_band_rows(height: int, band_rows: int, k_masks: int = SCORING_BANDS) -> torch.Tensor:
    """bool [K, H]: mask k hides the bands b with b mod K == k, so every row is hidden by exactly one mask."""
    if k_masks < 1:
        raise ValueError(f"covering bands need at least one mask, got {k_masks}")
    return band_of_rows(height, band_rows)[None, :] % k_masks == torch.arange(k_masks)[:, None]


def blank_bands(x: torch.Tensor, hidden_rows: torch.Tensor) -> torch.Tensor:
    """Normalised x [N, C, H, W] and hidden_rows bool [N, H] -> [N, C + 1, H, W]: x with the hidden rows set to 0,
    then the mask channel (1 on hidden rows)."""
    hidden = hidden_rows[:, None, :, None].to(x.dtype).expand(-1, 1, -1, x.shape[-1])
    return torch.cat([x * (1 - hidden), hidden], dim=1)


def band_loss(out: torch.Tensor, x: torch.Tensor, hidden_rows: torch.Tensor) -> torch.Tensor:
    """MSE between out and x [N, C, H, W] over the hidden rows [N, H] only."""
    hidden = hidden_rows[:, None, :, None].to(x.dtype).expand_as(x)
    return (((out - x) ** 2) * hidden).sum() / hidden.sum().clamp_min(1)


def pixel_mask(hidden_rows: torch.Tensor, width: int) -> torch.Tensor:
    """bool [N, H] -> bool [N, H, W], what `Reconstruction.mask` holds."""
    return hidden_rows[:, :, None].expand(-1, -1, width)


def network_input(model, x: torch.Tensor, hidden_rows: torch.Tensor | None = None) -> torch.Tensor:
    """What a convolutional `model`'s first layer sees of x [N, C, H, W] in [0, 1]: normalised, channels_last; when
    its config inpaints, with the rows hidden_rows [N, H] (None = none) blanked and the mask channel appended."""
    h = model.channels_last_input(x)
    if not model.config.inpaint:
        return h
    if hidden_rows is None:
        hidden_rows = torch.zeros(x.shape[0], x.shape[2], dtype=torch.bool, device=x.device)
    return blank_bands(h, hidden_rows).contiguous(memory_format=torch.channels_last)


def training_band_rows(config: InpaintingConfig, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """The random bands [N, H] hidden in one training batch x [N, C, H, W]."""
    return random_band_rows(x.shape[0], x.shape[2], config.band_rows, config.band_ratio, generator).to(x.device)


def inpainted(model, seen: torch.Tensor, mask_ratio: float, generator: torch.Generator,
              hidden_rows: torch.Tensor | None = None) -> Reconstruction:  # fmt: skip
    """An inpainting `model`'s reconstruction of `seen` [N, C, H, W] (the input, or the DAE's noisy input) with the
    bands of hidden_rows [N, H] blanked (None = random bands at mask_ratio, else the config's band_ratio)."""
    if hidden_rows is None:
        ratio = mask_ratio or model.config.band_ratio
        hidden_rows = random_band_rows(seen.shape[0], seen.shape[2], model.config.band_rows, ratio, generator)
    hidden_rows = hidden_rows.to(seen.device)
    mask = pixel_mask(hidden_rows, seen.shape[3])
    return Reconstruction(image=model(seen, hidden_rows), model_input=seen * ~mask[:, None], mask=mask)
