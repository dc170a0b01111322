"""The interface shared by every autoencoder family.

All models take images in [0, 1] of shape [N, C, H, W] and return reconstructions in the same
units, so the app, the analysis code and the metrics never deal with per-model normalisation:
each model normalises internally with the mean and std of its config.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
from torch import nn

from ..data.mnist import MNIST_MEAN, MNIST_STD
from ..data.synthetic_sar import SAR_MEAN, SAR_SIZE, SAR_STD

# What each domain's images are (size, channels) and the statistics its presets normalise with.
MNIST_INPUT = dict(img_size=(28, 28), in_chans=1, mean=(MNIST_MEAN,), std=(MNIST_STD,))
SAR_INPUT = dict(img_size=SAR_SIZE, in_chans=2, mean=SAR_MEAN, std=SAR_STD)


@dataclass
class Reconstruction:
    """What `reconstruct` returns.

    image:       [N, C, H, W] reconstruction in [0, 1].
    model_input: [N, C, H, W] what the model actually saw, in [0, 1]: the masked image (hidden
                 patches or rows of patches set to 0) for the MAE, the noisy image for the DAE, the input for
                 the CAE, the input with its hidden bands set to 0 for a band inpainter (`models.bands`).
    mask:        [N, H, W] bool, True where the MAE or a band inpainter hid the pixel; None for models without
                 a mask.
    """

    image: torch.Tensor
    model_input: torch.Tensor
    mask: torch.Tensor | None = None

    @property
    def composite(self) -> torch.Tensor:
        """[N, C, H, W] the standard MAE display: the reconstruction on hidden pixels, the input on visible ones
        (the MAE's loss never trains its output on visible patches). The plain reconstruction for other models."""
        if self.mask is None:
            return self.image
        return torch.where(self.mask[:, None], self.image, self.model_input)

    def squared_error(self, x: torch.Tensor) -> torch.Tensor:
        """[N] mean squared error against the clean images x [N, C, H, W], over the hidden pixels when there is a
        mask (what the MAE predicted), else over every pixel."""
        squared = (self.image - x) ** 2
        if self.mask is None:
            return squared.mean(dim=(1, 2, 3))
        hidden = self.mask[:, None].expand_as(squared)
        return (squared * hidden).sum(dim=(1, 2, 3)) / hidden.sum(dim=(1, 2, 3)).clamp_min(1)


@dataclass
class AutoencoderConfig:
    """Fields every family shares. Families subclass this with their own fields."""

    img_size: tuple[int, int] = (28, 28)
    in_chans: int = 1
    mean: tuple[float, ...] = (0.1307,)
    std: tuple[float, ...] = (0.3081,)

    def __post_init__(self) -> None:
        # JSON round trips turn tuples into lists; keep the dataclass canonical.
        self.img_size = tuple(int(v) for v in self.img_size)
        self.mean = tuple(float(v) for v in self.mean)
        self.std = tuple(float(v) for v in self.std)
        if len(self.img_size) != 2 or min(self.img_size) < 1:
            raise ValueError(f"img_size must be (height, width) with positive sizes, got {self.img_size}")
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans:
            raise ValueError(f"mean/std need one value per channel ({self.in_chans}), got {self.mean} / {self.std}")

    def to_dict(self) -> dict:
        return asdict(self)


class Autoencoder(nn.Module, ABC):
    """Base class: normalisation plus the three methods every family implements.

    - `encode(x)`        [N, C, H, W] -> [N, latent_dim], one fixed-length vector per image.
    - `reconstruct(x, mask_ratio=, noise_factor=, seed=)` -> `Reconstruction`. Each family uses the
      corruption that belongs to it (MAE: mask_ratio, DAE: noise_factor, CAE: none; a band inpainter: bands
      at mask_ratio) and ignores the others, so callers can treat the three alike.
    - `training_loss(x, generator=None)` -> scalar loss for one batch, with the corruption of the
      config (the MAE's training mask ratio, the DAE's noise factor).
    """

    name: ClassVar[str]
    config_class: ClassVar[type[AutoencoderConfig]]

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        shape = (1, config.in_chans, 1, 1)
        self.register_buffer("input_mean", torch.tensor(config.mean).view(shape), persistent=False)
        self.register_buffer("input_std", torch.tensor(config.std).view(shape), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.input_mean) / self.input_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.input_std + self.input_mean

    def channels_last_input(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised input in channels_last memory format, for the convolutional families: they keep their
        weights and activations in that format, which oneDNN runs faster on a CPU (about 2x for the SAR DAE's
        gradients), and return contiguous images all the same."""
        return self.normalize(x).contiguous(memory_format=torch.channels_last)

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError naming the expected shape when `x` does not fit this model."""
        c = self.config
        if x.ndim != 4 or x.shape[1] != c.in_chans or tuple(x.shape[-2:]) != c.img_size:
            raise ValueError(
                f"{self.name} expects images of shape [N, {c.in_chans}, {c.img_size[0]}, {c.img_size[1]}], "
                f"got {list(x.shape)}"
            )

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters per top-level part (e.g. encoder blocks, decoder), in definition order."""
        counts: dict[str, int] = {}
        for name, parameter in self.named_parameters():
            part = name.split(".")[0]
            counts[part] = counts.get(part, 0) + parameter.numel()
        return counts

    @property
    @abstractmethod
    def latent_dim(self) -> int: ...

    @abstractmethod
    def encode(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def reconstruct(
        self, x: torch.Tensor, *, mask_ratio: float = 0.0, noise_factor: float = 0.0, seed: int = 0
    ) -> Reconstruction: ...

    @abstractmethod
    def training_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor: ...
