"""Band inpainting for the convolutional families, in the style of a context encoder (Pathak et al. 2016).

Bands are runs of `band_rows` image rows (azimuth lines; the last band may be shorter), the shape of RFI stripes,
which run along range. An inpainting model sees the input with some bands blanked plus one mask channel (1 on
blanked rows), and its loss is the MSE on the blanked rows only: it learns to fill a band from the rows above and
below, so a stripe inside a hidden band is not in what it sees. `band_fill` says what a blanked row holds:
- "interpolate" (the default): per column and channel, the linear interpolation between the nearest visible rows
  above and below (the no-model `control-band`'s prediction), and the network's last layer *corrects* it:
  output = sigmoid(logit(interpolation) + last layer), with the last layer starting at zero (`zero_last_layer`),
  so an untrained inpainter is the control and training can only earn its difference from it. Why: the
  ConvDenoiser's receptive field is about 30 rows (measured from the gradient of one output pixel), so from a
  zeroed 20-row band its centre sees at most a few visible rows on one side; and both families' bottlenecks lose
  the detail that a single visible row carries (the SAR CAE reconstructs a whole patch at 0.56 x the mean
  predictor's MSE, the control fills a band at 0.52), so an inpainter that must rebuild the band from its code
  stays behind the interpolation it could have started from;
- "zero": 0 after normalisation (the mean), as in a context encoder (Pathak et al.).
Scoring uses covering bands (`covering_band_rows`): K masks, band b hidden by mask b mod K, so that every row is
predicted exactly once while hidden, with both neighbouring bands visible when K >= 2. Training (`train_bands`)
hides one of those K masks per image, drawn at random ("covering", the default: the task it is scored on), or a
random share `band_ratio` of the bands ("random": hidden bands then often touch, and a model trained so learns
to bridge gaps of 40 rows and more that scoring never asks of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .base import Reconstruction

BAND_ROWS = 20  # the SAR MAE's patch height, and taller than most real RFI boxes (median about 10 rows)
BAND_RATIO = 0.5
SCORING_BANDS = 2  # covering masks: every other band hidden, each hidden band between two visible ones
BAND_FILLS = ("interpolate", "zero")
TRAIN_BANDS = ("covering", "random")


@dataclass
class InpaintingConfig:
    """Fields of a family that can be trained as a band inpainter (a mixin of its config dataclass)."""

    inpaint: bool = False  # input = bands blanked + mask channel, loss on the blanked bands
    band_rows: int = BAND_ROWS
    band_ratio: float = BAND_RATIO  # share of the bands blanked per training image
    band_fill: str = "interpolate"  # what the blanked rows hold: "interpolate" or "zero" (module docstring)
    train_bands: str = "covering"  # the training masks: "covering" or "random" (module docstring)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.band_rows = int(self.band_rows)
        if self.band_fill not in BAND_FILLS or self.train_bands not in TRAIN_BANDS:
            raise ValueError(f"band_fill must be one of {BAND_FILLS} and train_bands one of {TRAIN_BANDS}, got "
                             f"{self.band_fill!r}, {self.train_bands!r}")  # fmt: skip
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


def interpolate_rows(x: torch.Tensor, hidden_rows: torch.Tensor) -> torch.Tensor:
    """x [N, C, H, W] with each hidden row (hidden_rows bool [N, H]) replaced, per column and channel, by the linear
    interpolation between the nearest visible rows above and below it (the one that exists at an edge; 0 where an
    image has no visible row). Visible rows are unchanged."""
    n, _, height, _ = x.shape
    rows = torch.arange(height, device=x.device).expand(n, -1)
    visible = ~hidden_rows
    # Nearest visible row at or above each row (-1 = none) and at or below (H = none), over an [N, H, H] table of
    # (row, candidate row) pairs rather than cummax/cummin, which ONNX export does not support.
    candidate, row = rows[0, None, :], rows[0, :, None]
    above = torch.where((candidate <= row) & visible[:, None, :], rows[:, None, :], -1).amax(dim=2)
    below = torch.where((candidate >= row) & visible[:, None, :], rows[:, None, :], height).amin(dim=2)
    has_above, has_below = above >= 0, below < height
    above_i, below_i = torch.where(has_above, above, below), torch.where(has_below, below, above)
    span = (below_i - above_i).clamp_min(1).to(x.dtype)
    weight = torch.where(has_above & has_below, (rows - above_i).to(x.dtype) / span, torch.zeros_like(span))
    row_above, row_below = (
        x.gather(2, i.clamp(0, height - 1)[:, None, :, None].expand_as(x)) for i in (above_i, below_i)
    )
    filled = (1 - weight)[:, None, :, None] * row_above + weight[:, None, :, None] * row_below
    filled = filled * (has_above | has_below)[:, None, :, None].to(x.dtype)
    return torch.where(hidden_rows[:, None, :, None], filled, x)


FILL_EPS = 1e-4  # the interpolation is clamped to [eps, 1 - eps] before its logit


def inpainter_output(model, logits: torch.Tensor, x: torch.Tensor, hidden_rows: torch.Tensor | None) -> torch.Tensor:
    """A convolutional `model`'s output [N, C, H, W] in [0, 1] from its last layer's logits, for input x in [0, 1]:
    sigmoid(logits), or for an inpainter with fill "interpolate" sigmoid(logit(interpolate_rows(x)) + logits)."""
    config = model.config
    if not (config.inpaint and config.band_fill == "interpolate"):
        return torch.sigmoid(logits)
    if hidden_rows is None:
        hidden_rows = torch.zeros(x.shape[0], x.shape[2], dtype=torch.bool, device=x.device)
    fill = interpolate_rows(x, hidden_rows).clamp(FILL_EPS, 1 - FILL_EPS)
    return torch.sigmoid(torch.log(fill) - torch.log1p(-fill) + logits)


def zero_last_layer(model, layer: torch.nn.Conv2d) -> None:
    """Start an "interpolate" inpainter's correction at zero: its output is then the band interpolation."""
    if model.config.inpaint and model.config.band_fill == "interpolate":
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)


def blank_bands(x: torch.Tensor, hidden_rows: torch.Tensor, fill: str = "interpolate") -> torch.Tensor:
    """Normalised x [N, C, H, W] and hidden_rows bool [N, H] -> [N, C + 1, H, W]: x with the hidden rows filled
    (`interpolate_rows`, or 0 for fill "zero"), then the mask channel (1 on hidden rows)."""
    hidden = hidden_rows[:, None, :, None].to(x.dtype).expand(-1, 1, -1, x.shape[-1])
    blanked = interpolate_rows(x, hidden_rows) if fill == "interpolate" else x * (1 - hidden)
    return torch.cat([blanked, hidden], dim=1)


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
    return blank_bands(h, hidden_rows, model.config.band_fill).contiguous(memory_format=torch.channels_last)


def training_band_rows(config: InpaintingConfig, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """The bands [N, H] hidden in one training batch x [N, C, H, W], drawn as `config.train_bands` says."""
    n, height = x.shape[0], x.shape[2]
    if config.train_bands == "random":
        return random_band_rows(n, height, config.band_rows, config.band_ratio, generator).to(x.device)
    masks = covering_band_rows(height, config.band_rows)
    return masks[torch.randint(len(masks), (n,), generator=generator)].to(x.device)


def inpainted(model, seen: torch.Tensor, mask_ratio: float, generator: torch.Generator,
              hidden_rows: torch.Tensor | None = None) -> Reconstruction:  # fmt: skip
    """An inpainting `model`'s reconstruction of `seen` [N, C, H, W] (the input, or the DAE's noisy input) with the
    bands of hidden_rows [N, H] blanked (None = random bands at mask_ratio, else its training masks)."""
    if hidden_rows is None and mask_ratio:
        hidden_rows = random_band_rows(seen.shape[0], seen.shape[2], model.config.band_rows, mask_ratio, generator)
    elif hidden_rows is None:
        hidden_rows = training_band_rows(model.config, seen, generator)
    hidden_rows = hidden_rows.to(seen.device)
    mask = pixel_mask(hidden_rows, seen.shape[3])
    return Reconstruction(image=model(seen, hidden_rows), model_input=seen * ~mask[:, None], mask=mask)
