"""A small U-Net that segments visible RFI directly: image (and optionally a model's residual) -> RFI logits.

Not an autoencoder, so not one of the registered families (`registry`, `names.FAMILIES`: the app and the evaluation
treat every registered family as a reconstructing model). It uses the same checkpoint format (one safetensors file,
the `rfi_models` JSON document in its header, `checkpoint.checked_info` / `check_weights_fit` on load) with its own
`save_segmenter` / `load_segmenter`, architecture "segmenter".

Shape of the network, `levels` = len(widths) (stride 2 ** (levels - 1)):
    input [B, in_chans, H, W]            (VV, VH in [0, 1]; then the residual channels, if any)
    pad to a multiple of the stride      (reflect padding at the bottom and right, cropped back at the end)
    encoder level k: two 3x3 conv-BN-ReLU at widths[k], then 2x2 max-pool (not after the last level)
    decoder level k: 2x2 transposed conv up, concatenate the encoder's level-k features, two 3x3 conv-BN-ReLU
    head: 1x1 conv -> logits [B, 1, H, W]
The sigmoid of the logits is the RFI probability; `rfi_scores` returns it as [B, H, W] numpy, the detectors' unit.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..artifacts.errors import CheckpointError

ARCHITECTURE = "segmenter"
FORMAT_VERSION = 1  # rfi_models.artifacts.checkpoint's
METADATA_KEY = "rfi_models"


@dataclass
class SegmenterConfig:
    in_chans: int = 2  # 2: VV, VH; 4: VV, VH and a model's residual of both
    widths: tuple[int, ...] = (12, 24, 48)  # one U-Net level per entry

    def __post_init__(self) -> None:
        self.in_chans = int(self.in_chans)
        self.widths = tuple(int(w) for w in self.widths)
        if self.in_chans < 1 or not 2 <= len(self.widths) <= 4 or min(self.widths) < 1:
            raise ValueError(f"need in_chans >= 1 and 2 to 4 positive widths, got {self.in_chans}, {self.widths}")

    @property
    def stride(self) -> int:
        return 2 ** (len(self.widths) - 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}


def double_conv(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 conv-BatchNorm-ReLU units (the U-Net block); the convolutions have no bias (the norm has one)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )  # fmt: skip


class Segmenter(nn.Module):
    """U-Net RFI segmenter (module docstring): forward(x [B, in_chans, H, W]) -> logits [B, 1, H, W], any H, W."""

    name = ARCHITECTURE

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        self.down = nn.ModuleList(
            double_conv(cin, cout) for cin, cout in itertools.pairwise((config.in_chans, *widths))
        )
        self.up = nn.ModuleList(nn.ConvTranspose2d(w_deep, w, 2, stride=2) for w, w_deep in itertools.pairwise(widths))
        self.up_blocks = nn.ModuleList(double_conv(2 * w, w) for w in widths[:-1])
        self.head = nn.Conv2d(widths[0], 1, 1)

    def check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.config.in_chans:
            raise ValueError(f"segmenter input must be [B, {self.config.in_chans}, H, W], got {list(x.shape)}")

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, C, H', W'], reflect-padded at the bottom and right to multiples of the stride
        (replicate where the image is too small to reflect)."""
        s = self.config.stride
        pad_h, pad_w = -x.shape[2] % s, -x.shape[3] % s
        if not (pad_h or pad_w):
            return x
        mode = "reflect" if pad_h < x.shape[2] and pad_w < x.shape[3] else "replicate"
        return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Padded input [B, C, H', W'] -> features of every level, [B, widths[k], H' / 2^k, W' / 2^k]."""
        features = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            features.append(x)
        return features

    def decode(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Features of every level -> logits [B, 1, H', W'] at the padded size."""
        x = features[-1]
        for k in reversed(range(len(self.up))):
            x = self.up_blocks[k](torch.cat([self.up[k](x), features[k]], dim=1))
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        height, width = x.shape[2:]
        return self.decode(self.encode(self.pad(x)))[:, :, :height, :width]

    @torch.no_grad()
    def rfi_scores(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """[B, in_chans, H, W] -> RFI probability (sigmoid of the logits), float32 numpy [B, H, W]."""
        x = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
        device = next(self.parameters()).device
        return torch.sigmoid(self(x.to(device)))[:, 0].float().cpu().numpy()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_segmenter(model: Segmenter, path: str | Path, **info) -> Path:
    """Write `model` to `path` (.safetensors) in the checkpoint format of `rfi_models.artifacts.checkpoint` (domain
    "sar", architecture "segmenter", its config, any JSON-serialisable `info`: inputs, training, metrics), atomically;
    recorded in the folder's manifest when there is one."""
    from ..artifacts.checkpoint import write_weights

    document = {"format": FORMAT_VERSION, "architecture": ARCHITECTURE, "config": model.config.to_dict(),
                "domain": "sar", "normalization": {"input_range": [0.0, 1.0]}, **info}  # fmt: skip
    return write_weights(model, path, document)


def segmenter_from_info(path: Path, info: dict, device: str = "cpu") -> Segmenter:
    if info.get("architecture") != ARCHITECTURE:
        raise CheckpointError(f"{path.name} is a {info.get('architecture')!r} checkpoint, not a segmenter")
    try:
        with torch.device(device):
            return Segmenter(SegmenterConfig(**info["config"]))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path.name}: cannot rebuild the segmenter from its metadata ({err})") from None


def load_segmenter(path: str | Path, device: str = "cpu") -> tuple[Segmenter, dict]:
    """Rebuild a segmenter from its file alone (metadata checked as `checkpoint.load_checkpoint` does, the manifest
    too); returns (model in eval mode, info)."""
    from safetensors import SafetensorError, safe_open

    from ..artifacts.checkpoint import check_weights_fit, checked_info, tensor_shapes

    path = Path(path)
    info, vouched = checked_info(path)
    if not vouched:
        check_weights_fit(path, info, segmenter_from_info(path, info, "meta"), tensor_shapes(path))
    model = segmenter_from_info(path, info)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            state = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
        model.load_state_dict(state, strict=True)
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path.name}: weights do not match the segmenter config ({err})") from None
    return model.to(device).eval(), info
