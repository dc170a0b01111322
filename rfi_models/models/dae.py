"""Denoising autoencoder: the Udacity ConvDenoiser, exactly, for 1 (MNIST) or 2 (SAR) channels.

Encoder: three 3x3 convs (C -> 32 -> 16 -> 8), each followed by ReLU and 2x2 max-pooling.
Decoder: ConvTranspose2d(8, 8, 3, stride 2) -> ConvTranspose2d(8, 16, 2, stride 2)
-> ConvTranspose2d(16, 32, 2, stride 2), each with ReLU, then Conv2d(32, C, 3) and a sigmoid.
Sizes: 28 -> 14 -> 7 -> 3 -> 7 -> 14 -> 28 (latent 8 x 3 x 3 = 72), and for SAR
340 x 500 -> 42 x 62 (latent 8 x 42 x 62) -> 340 x 500. The first transposed conv maps s -> 2s + 1,
so this design only fits sizes whose third pooling floors an odd size (28, 340 and 500 do).

Training corruption: x + noise_factor * N(0, 1), clipped to [0, 1]; loss MSE against the clean x.
MNIST: inputs are used in [0, 1] as in the original (mean 0, std 1), noise 0.5.

SAR preset, changed so that the family trains on SAR (the layers are untouched):
- inputs standardised per channel (SAR_MEAN / SAR_STD): SAR patches vary by about 0.1 around 0.3-0.5, and fed raw
  the network barely moved from a near-constant output in the steps a CPU can give it;
- noise factor 0.1 instead of 0.5: 0.5 is several times the spread of a SAR patch (about 0.1), so nearly all of
  the signal would be destroyed and the network would learn to output the patch's mean level;
- trained with a noise factor drawn per sample from [0, 0.1] (`train_noise_range`): the RFI detectors feed it
  clean patches, and trained at 0.1 only it reconstructed them worse than the per-patch mean (1.66 x its MSE,
  against 0.46 x on inputs with its training noise);
- trained on random crops (`python -m train ... --crop`): the network is fully convolutional, so crops of a size
  it reproduces (8k + 4 px, e.g. 84 x 124) train the same weights at a fraction of the cost; it reconstructs
  340 x 500 patches at evaluation.

Inpainting (`inpaint=True`, `models.bands`): the same ConvDenoiser sees the (noisy) input with bands of rows
blanked plus a mask channel (its first convolution takes C + 1 channels), and its loss is the MSE on the blanked
bands only: a context encoder with the ConvDenoiser's layers. With the default fill the blanked rows hold the band
interpolation and the last convolution corrects it (`bands`, "interpolate").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from . import bands
from .bands import InpaintingConfig
from .base import SAR_INPUT, Autoencoder, AutoencoderConfig, Reconstruction
from .registry import register_model

DAE_NOISE = 0.5  # the training corruption, and the one the app and the evaluation show


@dataclass
class DAEConfig(InpaintingConfig, AutoencoderConfig):
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    noise_factor: float = DAE_NOISE  # training corruption; reconstruct takes its own
    # When set, each training sample's noise factor is drawn uniformly from [low, high] instead, so that inputs
    # with less noise than noise_factor (down to clean ones, which the RFI detectors feed it) are in the training
    # distribution. None = always noise_factor.
    train_noise_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.train_noise_range is not None:
            low, high = self.train_noise_range = tuple(float(v) for v in self.train_noise_range)
            if not 0.0 <= low <= high:
                raise ValueError(f"train_noise_range must be (low, high) with 0 <= low <= high, got {(low, high)}")


@register_model
class DenoisingAutoencoder(Autoencoder):
    name = "dae"
    config_class = DAEConfig
    presets: ClassVar[dict[str, DAEConfig]] = {
        "mnist": DAEConfig(img_size=(28, 28), in_chans=1, mean=(0.0,), std=(1.0,)),
        "sar": DAEConfig(**SAR_INPUT, noise_factor=0.1, train_noise_range=(0.0, 0.1)),
    }

    def __init__(self, config: DAEConfig) -> None:
        super().__init__(config)
        c = config.in_chans
        self.encoder = nn.Sequential(
            nn.Conv2d(config.model_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.decoder = nn.Sequential(  # then the sigmoid, in `bands.inpainter_output`
            nn.ConvTranspose2d(8, 8, 3, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(8, 16, 2, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(16, 32, 2, stride=2), nn.ReLU(),
            nn.Conv2d(32, c, 3, padding=1),
        )  # fmt: skip
        bands.zero_last_layer(self, self.decoder[-1])
        h, w = config.img_size
        self.latent_shape = (8, h // 8, w // 8)
        if ((h // 8) * 2 + 1) * 4 != h or ((w // 8) * 2 + 1) * 4 != w:
            raise ValueError(f"the ConvDenoiser cannot reproduce size {config.img_size}; use e.g. 28x28 or 340x500")
        self.to(memory_format=torch.channels_last)

    @property
    def latent_dim(self) -> int:
        c, h, w = self.latent_shape
        return c * h * w

    def forward(self, x: torch.Tensor, hidden_rows: torch.Tensor | None = None) -> torch.Tensor:
        """[N, C, H, W] in [0, 1] -> reconstruction [N, C, H, W] in [0, 1] (contiguous); an inpainting DAE blanks
        the rows hidden_rows [N, H] (None = none) and sees the mask channel."""
        logits = self.decoder(self.encoder(bands.network_input(self, x, hidden_rows)))
        return bands.inpainter_output(self, logits, x, hidden_rows).contiguous()

    def add_noise(
        self, x: torch.Tensor, noise_factor: float | torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """x + noise_factor * N(0, 1), clipped to [0, 1]; noise_factor is a number or one per sample [N, 1, 1, 1]."""
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        return (x + noise_factor * noise).clamp(0, 1)

    def training_noise(self, x: torch.Tensor, generator: torch.Generator | None = None) -> float | torch.Tensor:
        """The training corruption of batch x: noise_factor, or one draw per sample from train_noise_range
        ([N, 1, 1, 1])."""
        if self.config.train_noise_range is None:
            return self.config.noise_factor
        low, high = self.config.train_noise_range
        return low + (high - low) * torch.rand(len(x), 1, 1, 1, generator=generator).to(x.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> flattened bottleneck [N, 8 * H/8 * W/8] of the clean input."""
        self.check_input(x)
        return self.encoder(bands.network_input(self, x)).flatten(1)

    def reconstruct(self, x: torch.Tensor, *, mask_ratio: float = 0.0, noise_factor: float = 0.0, seed: int = 0,
                    hidden_rows: torch.Tensor | None = None) -> Reconstruction:  # fmt: skip
        """Denoise x after adding Gaussian noise of `noise_factor` (seeded). An inpainting DAE also fills the bands
        of hidden_rows [N, H] (None = random bands, `seed`, at mask_ratio, else its training masks) and
        returns them as the mask; mask_ratio is not used otherwise."""
        self.check_input(x)
        generator = torch.Generator().manual_seed(seed)
        noisy = self.add_noise(x, noise_factor, generator) if noise_factor > 0 else x
        if not self.config.inpaint:
            return Reconstruction(image=self(noisy), model_input=noisy)
        return bands.inpainted(self, noisy, mask_ratio, generator, hidden_rows)

    def training_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        noisy = self.add_noise(x, self.training_noise(x, generator), generator)
        if not self.config.inpaint:
            return F.mse_loss(self(noisy), x)
        hidden_rows = bands.training_band_rows(self.config, x, generator)
        return bands.band_loss(self(noisy, hidden_rows), x, hidden_rows)
