"""Convolutional autoencoder of the original RFI study, without its output bug.

Each encoder stage is a stride-2 3x3 convolution followed by a stride-1 3x3 convolution, each with
LeakyReLU, BatchNorm and Dropout (the study's layer recipe). A dense bottleneck maps the last feature
map to `latent_dim` and back; the decoder mirrors the encoder with transposed convolutions that
restore the exact encoder sizes (so odd sizes such as 85 x 125 round-trip).

Fixed on purpose: the study ended in a softmax over the 2 channels, which forces VV + VH = 1 at
every pixel. Here the output is a per-channel sigmoid. The loss is the study's 1 - SSIM
(11 x 11 Gaussian window, data range 1), optionally mixed with MSE through `ssim_weight`, and computed over
reflect-padded images when `ssim_padding` (the MNIST preset): unpadded windows leave the outer ring untrained.

SAR preset: five stages, 340 x 500 -> 170 x 250 -> 85 x 125 (the study's size) -> 43 x 63 -> 22 x 32
-> 11 x 16. The study flattened 85 x 125 maps into its dense layer; two more stages, the last 8 channels wide,
keep the dense bottleneck at 11 * 16 * 8 -> 512 (0.7 M weights each way instead of tens of millions). Changed so
that it reconstructs SAR, each for a measured reason:
- loss MSE (`ssim_weight=0`): on speckled SAR, 1 - SSIM drove the shipped CAE to a near-constant output
  (spatial std 0.006 against 0.067 for the input; the structure term is near 0 for any smooth output), and
  unpadded SSIM windows leave the borders unconstrained;
- latent 512: block means over 20 x 20 pixels (850 numbers for both channels) explain 42 % of a quick-look
  patch's variance, over 40 x 31 (256 numbers) only 28 %: the floor of 0.7 x the per-patch mean predictor's MSE
  needs a code of several hundred numbers; latents of 128 and 256 stayed above it (checkpoints/sar_attempts);
- no dropout: with dropout 0.1 in every unit the CAE trained to 1.6 x the mean predictor's MSE and stayed there
  for three epochs; without it, a check of 80 steps had already reached 1.7 x.

Inpainting (`inpaint=True`, `models.bands`): the same network sees the input with bands of rows blanked plus a
mask channel (its first convolution takes C + 1 channels) and is trained on the blanked bands only, a context
encoder with the study's strided encoder and dense bottleneck. With the default fill the blanked rows hold the band
interpolation and the head corrects it (`bands`, "interpolate").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from pytorch_msssim import ssim
from torch import nn

from . import bands
from .bands import InpaintingConfig
from .base import MNIST_INPUT, SAR_INPUT, Autoencoder, AutoencoderConfig, Reconstruction
from .registry import register_model

SSIM_LOSS_WINDOW = 11


@dataclass
class CAEConfig(InpaintingConfig, AutoencoderConfig):
    channels: tuple[int, ...] = (32, 64)  # one stride-2 stage per entry
    latent_dim: int = 64
    dropout: float = 0.1
    negative_slope: float = 0.3  # Keras' LeakyReLU default, as in the study
    ssim_weight: float = 1.0  # loss = w * (1 - SSIM) + (1 - w) * MSE
    # Reflect-pad both images by half the SSIM window before the loss, so every pixel is the centre of a window:
    # without it pytorch_msssim's unpadded windows leave the outer ring of pixels almost untrained.
    ssim_padding: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.channels = tuple(int(v) for v in self.channels)
        if not self.channels or not 0.0 <= self.ssim_weight <= 1.0:
            raise ValueError("channels needs at least one stage and ssim_weight must lie in [0, 1]")


def conv_unit(conv: nn.Module, channels: int, config: CAEConfig) -> nn.Sequential:
    """The study's layer recipe: convolution, LeakyReLU, BatchNorm, Dropout."""
    return nn.Sequential(
        conv, nn.LeakyReLU(config.negative_slope), nn.BatchNorm2d(channels), nn.Dropout(config.dropout)
    )


@register_model
class ConvAutoencoder(Autoencoder):
    name = "cae"
    config_class = CAEConfig
    presets: ClassVar[dict[str, CAEConfig]] = {
        "mnist": CAEConfig(**MNIST_INPUT, channels=(32, 64), latent_dim=64, ssim_padding=True),
        "sar": CAEConfig(**SAR_INPUT, channels=(8, 16, 32, 32, 8), latent_dim=512, ssim_weight=0.0, dropout=0.0),
    }

    def __init__(self, config: CAEConfig) -> None:
        super().__init__(config)
        c = config
        widths = (c.model_channels, *c.channels)
        self.down = nn.ModuleList(
            nn.Sequential(
                conv_unit(nn.Conv2d(cin, cout, 3, stride=2, padding=1), cout, c),
                conv_unit(nn.Conv2d(cout, cout, 3, padding=1), cout, c),
            )
            for cin, cout in itertools.pairwise(widths)
        )
        # Feature sizes per stage, [input, after stage 1, ...], for the decoder to restore exactly.
        self.stage_sizes = [tuple(c.img_size)]
        for _ in c.channels:
            h, w = self.stage_sizes[-1]
            self.stage_sizes.append(((h + 1) // 2, (w + 1) // 2))
        bottom_h, bottom_w = self.stage_sizes[-1]
        self.bottom_shape = (c.channels[-1], bottom_h, bottom_w)
        flat = c.channels[-1] * bottom_h * bottom_w
        self.to_latent = nn.Linear(flat, c.latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(c.latent_dim, flat), nn.LeakyReLU(c.negative_slope))
        # Mirror of the encoder: deepest stage first; the last one keeps the first stage's width.
        up_in = c.channels[::-1]
        up_out = (*up_in[1:], c.channels[0])
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1) for cin, cout in zip(up_in, up_out, strict=True)
        )
        self.up_post = nn.ModuleList(conv_unit(nn.Identity(), conv.out_channels, c) for conv in self.up)
        self.head = nn.Conv2d(c.channels[0], c.in_chans, 3, padding=1)
        bands.zero_last_layer(self, self.head)
        self.to(memory_format=torch.channels_last)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor, hidden_rows: torch.Tensor | None = None) -> torch.Tensor:
        """[N, C, H, W] -> latent [N, latent_dim]; hidden_rows [N, H] as in `bands.network_input`."""
        self.check_input(x)
        h = bands.network_input(self, x, hidden_rows)
        for stage in self.down:
            h = stage(h)
        return self.to_latent(h.flatten(1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """latent [N, latent_dim] -> the head's logits [N, C, H, W]."""
        h = self.from_latent(z).view(-1, *self.bottom_shape)
        for conv, post, size in zip(self.up, self.up_post, self.stage_sizes[-2::-1], strict=True):
            h = post(conv(h, output_size=size))
        return self.head(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """latent [N, latent_dim] -> image [N, C, H, W] in [0, 1] (sigmoid per channel, not a softmax), contiguous."""
        return torch.sigmoid(self.decode_logits(z)).contiguous()

    def forward(self, x: torch.Tensor, hidden_rows: torch.Tensor | None = None) -> torch.Tensor:
        """[N, C, H, W] in [0, 1] -> reconstruction [N, C, H, W] in [0, 1]; an inpainter blanks hidden_rows [N, H]
        (`bands.network_input`) and, with fill "interpolate", corrects their band interpolation."""
        logits = self.decode_logits(self.encode(x, hidden_rows))
        return bands.inpainter_output(self, logits, x, hidden_rows).contiguous()

    def reconstruct(self, x: torch.Tensor, *, mask_ratio: float = 0.0, noise_factor: float = 0.0, seed: int = 0,
                    hidden_rows: torch.Tensor | None = None) -> Reconstruction:  # fmt: skip
        """Plain reconstruction; noise_factor is not used. An inpainting CAE fills the bands of hidden_rows [N, H]
        (None = random bands, `seed`, at mask_ratio, else its training masks) and returns them as the mask."""
        if not self.config.inpaint:
            return Reconstruction(image=self(x), model_input=x)
        return bands.inpainted(self, x, mask_ratio, torch.Generator().manual_seed(seed), hidden_rows)

    def training_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.config.inpaint:
            hidden_rows = bands.training_band_rows(self.config, x, generator)
            return bands.band_loss(self(x, hidden_rows), x, hidden_rows)
        out = self(x)
        w = self.config.ssim_weight
        return w * (1 - self.loss_ssim(out, x)) + (1 - w) * F.mse_loss(out, x)

    def loss_ssim(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """SSIM of the loss (11 x 11 Gaussian window, data range 1), over padded images when ssim_padding."""
        if self.config.ssim_padding:
            pad = (SSIM_LOSS_WINDOW // 2,) * 4
            out, x = F.pad(out, pad, mode="reflect"), F.pad(x, pad, mode="reflect")
        return ssim(out, x, data_range=1.0, win_size=SSIM_LOSS_WINDOW)
