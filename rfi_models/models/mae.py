"""ViT masked autoencoder with the mechanics of facebookresearch/mae, for any H x W and 1 or 2 channels.

Differences from the reference, each on purpose:
- Non-square images and patches: the patch grid is (H / ph) x (W / pw) and the fixed 2-D sin-cos
  position embedding is built for that grid.
- The mask ratio is an argument of every call (0.0 to 0.95), never a constructor constant. A mask is
  reproducible from a seed or from an explicit noise tensor, as in Hugging Face's ViTMAE.
- Inputs are images in [0, 1]; the model normalises with its config's mean/std.
- Attention runs through `scaled_dot_product_attention`; when asked, each block computes its weights
  explicitly and returns them (the fused kernel never exposes them).

Patch size of the SAR preset: 20 x 20. 20 is the largest common divisor of 340 and 500, so a patch
tiles the original study's 340 x 500 patches with no padding into a 17 x 25 grid (425 tokens). A
20-row patch is about the height of an RFI stripe (2 to 30 rows) and of the original 20-row SSIM
window, so the error of one hidden patch localises a stripe to about one grid row, while 425 tokens
keep attention cheap enough to train on a 2-core CPU (the original's 34 x 50 patches gave a 10 x 10
grid, too coarse to localise a stripe).

Patch size of the MNIST preset: 4 x 4 (a 7 x 7 grid). The seed report used 2 x 2 patches (196 tokens
of 4 pixels each); 16-pixel patches still cover a fraction of a stroke, give a readable rollout
map, and make training about 4x cheaper on a CPU.

Mask schemes (`mask_scheme`): "random" hides random patches (MAE's); "rows" hides whole rows of patches (range
lines, the shape of RFI stripes), at the mask ratio rounded to a whole number of rows (`effective_mask_ratio`), so
that a hidden stripe has no visible neighbours in its own row to be copied from. The scheme is a field of the
config (what training uses) and an argument of `reconstruct` and `mask_noise` (what a caller may choose).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..names import MASK_SCHEMES
from .base import MNIST_INPUT, SAR_INPUT, Autoencoder, AutoencoderConfig, Reconstruction
from .layers import Block, sincos_position_embedding
from .registry import register_model

MAX_MASK_RATIO = 0.95


@dataclass
class MAEConfig(AutoencoderConfig):
    patch_size: tuple[int, int] = (4, 4)
    embed_dim: int = 64
    depth: int = 4
    num_heads: int = 4
    decoder_embed_dim: int = 32
    decoder_depth: int = 2
    decoder_num_heads: int = 4
    mlp_ratio: float = 4.0
    norm_pix_loss: bool = False
    train_mask_ratio: float = 0.75  # training_loss's ratio (and validation's); reconstruct takes its own
    # When set, training_loss draws each batch's ratio uniformly from [low, high], so that every ratio in that
    # range is in the training distribution (the app's slider covers it); None = always train_mask_ratio.
    train_mask_ratio_range: tuple[float, float] | None = None
    mask_scheme: str = "random"  # "random" patches or whole "rows" of patches (training's; reconstruct takes its own)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.patch_size = tuple(int(v) for v in self.patch_size)
        (h, w), (ph, pw) = self.img_size, self.patch_size
        if h % ph or w % pw:
            raise ValueError(f"img_size {self.img_size} is not a multiple of patch_size {self.patch_size}")
        for width, heads in ((self.embed_dim, self.num_heads), (self.decoder_embed_dim, self.decoder_num_heads)):
            if width % 4 or width % heads:
                raise ValueError(f"width {width} must be divisible by 4 (sin-cos positions) and by {heads} heads")
        check_mask_ratio(self.train_mask_ratio)
        check_mask_scheme(self.mask_scheme)
        if self.train_mask_ratio_range is not None:
            low, high = self.train_mask_ratio_range = tuple(float(v) for v in self.train_mask_ratio_range)
            check_mask_ratio(low)
            check_mask_ratio(high)
            if low > high:
                raise ValueError(f"train_mask_ratio_range must be (low, high) with low <= high, got {(low, high)}")


def check_mask_ratio(mask_ratio: float) -> None:
    if not 0.0 <= mask_ratio <= MAX_MASK_RATIO:
        raise ValueError(f"mask_ratio must be between 0.0 and {MAX_MASK_RATIO}, got {mask_ratio}")


def check_mask_scheme(scheme: str) -> None:
    if scheme not in MASK_SCHEMES:
        raise ValueError(f"mask_scheme must be one of {MASK_SCHEMES}, got {scheme!r}")


@dataclass
class EncoderOutput:
    """latent: [N, 1 + L_keep, D], CLS first, then the visible tokens in shuffled order.
    mask: [N, L] float, 1 = hidden, 0 = visible, in grid order.
    ids_restore: [N, L], the permutation that puts shuffled tokens back in grid order.
    attentions: one [N, heads, 1 + L_keep, 1 + L_keep] tensor per block, or empty.
    """

    latent: torch.Tensor
    mask: torch.Tensor
    ids_restore: torch.Tensor
    attentions: list[torch.Tensor]


@register_model
class MaskedAutoencoder(Autoencoder):
    name = "mae"
    config_class = MAEConfig
    presets: ClassVar[dict[str, MAEConfig]] = {
        "mnist": MAEConfig(**MNIST_INPUT, patch_size=(4, 4), decoder_embed_dim=64, train_mask_ratio_range=(0.1, 0.9)),
        "sar": MAEConfig(
            **SAR_INPUT,
            patch_size=(20, 20),
            embed_dim=128,
            depth=4,
            num_heads=4,
            decoder_embed_dim=64,
            decoder_depth=2,
            decoder_num_heads=4,
            train_mask_ratio=0.6,
        ),
    }

    def __init__(self, config: MAEConfig) -> None:
        super().__init__(config)
        c = config
        self.grid_size = (c.img_size[0] // c.patch_size[0], c.img_size[1] // c.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        patch_dim = c.patch_size[0] * c.patch_size[1] * c.in_chans

        # encoder
        self.patch_embed = nn.Conv2d(c.in_chans, c.embed_dim, kernel_size=c.patch_size, stride=c.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.embed_dim))
        self.register_buffer(
            "pos_embed", sincos_position_embedding(c.embed_dim, *self.grid_size)[None], persistent=False
        )
        self.blocks = nn.ModuleList(Block(c.embed_dim, c.num_heads, c.mlp_ratio) for _ in range(c.depth))
        self.norm = nn.LayerNorm(c.embed_dim)

        # decoder
        self.decoder_embed = nn.Linear(c.embed_dim, c.decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, c.decoder_embed_dim))
        self.register_buffer(
            "decoder_pos_embed", sincos_position_embedding(c.decoder_embed_dim, *self.grid_size)[None], persistent=False
        )
        self.decoder_blocks = nn.ModuleList(
            Block(c.decoder_embed_dim, c.decoder_num_heads, c.mlp_ratio) for _ in range(c.decoder_depth)
        )
        self.decoder_norm = nn.LayerNorm(c.decoder_embed_dim)
        self.decoder_pred = nn.Linear(c.decoder_embed_dim, patch_dim)
        self._init_weights()

    def _init_weights(self) -> None:
        """MAE's initialisation: xavier for linear layers and the patch projection, N(0, 0.02) tokens."""
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def latent_dim(self) -> int:
        return self.config.embed_dim

    # ----------------------------------------------------------------------------------------- patches
    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N, L, ph * pw * C], patches in row-major grid order, pixels as (row, col, chan)."""
        (ph, pw), (gh, gw) = self.config.patch_size, self.grid_size
        n, c = imgs.shape[:2]
        x = imgs.reshape(n, c, gh, ph, gw, pw)
        return x.permute(0, 2, 4, 3, 5, 1).reshape(n, gh * gw, ph * pw * c)

    def unpatchify(self, patches: torch.Tensor) -> torch.Tensor:
        """[N, L, ph * pw * C] -> [N, C, H, W]; the inverse of `patchify`."""
        (ph, pw), (gh, gw) = self.config.patch_size, self.grid_size
        n, c = patches.shape[0], self.config.in_chans
        x = patches.reshape(n, gh, gw, ph, pw, c)
        return x.permute(0, 5, 1, 3, 2, 4).reshape(n, c, gh * ph, gw * pw)

    def patch_mask_to_pixels(self, mask: torch.Tensor) -> torch.Tensor:
        """[N, L] (1 = hidden) -> [N, H, W] bool."""
        (ph, pw), (gh, gw) = self.config.patch_size, self.grid_size
        grid = mask.reshape(-1, gh, gw).bool()
        return grid.repeat_interleave(ph, dim=1).repeat_interleave(pw, dim=2)

    # ----------------------------------------------------------------------------------------- masking
    def mask_noise(
        self,
        batch: int,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        scheme: str | None = None,
    ) -> torch.Tensor:
        """Uniform noise [N, L] whose argsort decides which patches stay visible (smallest first). Scheme "rows"
        (None = the config's) draws one value per row of patches, shared by the row's patches, so that whole rows
        are kept or hidden at an `effective_mask_ratio`."""
        scheme = scheme or self.config.mask_scheme
        check_mask_scheme(scheme)
        if seed is not None:
            generator = torch.Generator().manual_seed(seed)
        if scheme == "rows":
            rows = torch.rand(batch, self.grid_size[0], generator=generator)
            return rows.repeat_interleave(self.grid_size[1], dim=1).to(self.cls_token.device)
        return torch.rand(batch, self.num_patches, generator=generator).to(self.cls_token.device)

    def effective_mask_ratio(self, mask_ratio: float, scheme: str | None = None) -> float:
        """The ratio a mask of `scheme` (None = the config's) really hides: `mask_ratio` itself for random patches,
        the nearest whole number of patch rows (at least one kept; none hidden only at ratio 0) for rows."""
        check_mask_ratio(mask_ratio)
        if (scheme or self.config.mask_scheme) == "random" or mask_ratio == 0.0:
            return mask_ratio
        rows = self.grid_size[0]
        return min(max(round(mask_ratio * rows), 1), rows - 1) / rows

    def random_masking(
        self, x: torch.Tensor, mask_ratio: float, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample shuffling by argsort of noise (MAE's random_masking).

        x: [N, L, D], noise: [N, L] -> (kept [N, L_keep, D], mask [N, L] with 1 = hidden, ids_restore [N, L]).
        At least one patch always stays visible.
        """
        check_mask_ratio(mask_ratio)
        n, length, dim = x.shape
        if noise.shape != (n, length):
            raise ValueError(f"noise must have shape [{n}, {length}], got {list(noise.shape)}")
        len_keep = max(1, math.floor(length * (1 - mask_ratio) + 1e-6))  # 1e-6: whole rows survive rounding
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))
        mask = torch.ones(n, length, device=x.device)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        return kept, mask, ids_restore

    # ----------------------------------------------------------------------------------------- stages
    def forward_encoder(
        self,
        imgs: torch.Tensor,
        mask_ratio: float,
        noise: torch.Tensor,
        return_attention: bool = False,
        repeats: int = 1,
        scheme: str | None = None,
    ) -> EncoderOutput:
        """Normalised imgs [N, C, H, W] -> EncoderOutput; the encoder sees the visible patches only.

        With `repeats` = K the patches are embedded once and encoded under K masks, as if imgs had been
        repeated K times (mask-major: noise [K * N, L]), for the same result at a fraction of the embedding cost.
        The ratio is `effective_mask_ratio(mask_ratio, scheme)`; the noise decides which patches it hides.
        """
        x = self.patch_embed(imgs).flatten(2).transpose(1, 2)  # [N, L, D]
        x = (x + self.pos_embed[:, 1:, :]).repeat(repeats, 1, 1)
        x, mask, ids_restore = self.random_masking(x, self.effective_mask_ratio(mask_ratio, scheme), noise)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)  # [N, 1 + L_keep, D]
        attentions = []
        for block in self.blocks:
            x, weights = block(x, return_attention)
            if return_attention:
                attentions.append(weights)
        return EncoderOutput(self.norm(x), mask, ids_restore, attentions)

    def forward_decoder(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """latent [N, 1 + L_keep, D] -> predicted patches [N, L, ph * pw * C] (normalised pixel units)."""
        x = self.decoder_embed(latent)  # [N, 1 + L_keep, Dd]
        n, length = ids_restore.shape
        mask_tokens = self.mask_token.expand(n, length + 1 - x.shape[1], -1)
        shuffled = torch.cat([x[:, 1:, :], mask_tokens], dim=1)  # [N, L, Dd], shuffled order
        unshuffled = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1, :], unshuffled], dim=1) + self.decoder_pos_embed
        for block in self.decoder_blocks:
            x, _ = block(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:, :]

    def loss_target(self, imgs: torch.Tensor) -> torch.Tensor:
        """Normalised imgs -> target patches [N, L, P]; per-patch normalised when norm_pix_loss."""
        target = self.patchify(imgs)
        if self.config.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1e-6) ** 0.5
        return target

    def forward_loss(self, imgs: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """MSE per patch, averaged over hidden patches only (over all patches when none is hidden)."""
        per_patch = ((pred - self.loss_target(imgs)) ** 2).mean(dim=-1)  # [N, L]
        if mask.sum() == 0:
            return per_patch.mean()
        return (per_patch * mask).sum() / mask.sum()

    def forward(
        self, x: torch.Tensor, mask_ratio: float, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x in [0, 1], [N, C, H, W] -> (loss, pred [N, L, P], mask [N, L]), with the config's mask scheme."""
        imgs = self.normalize(x)
        encoded = self.forward_encoder(imgs, mask_ratio, noise)
        pred = self.forward_decoder(encoded.latent, encoded.ids_restore)
        return self.forward_loss(imgs, pred, encoded.mask), pred, encoded.mask

    # ----------------------------------------------------------------------------------------- interface
    def predictions_to_patches(self, pred: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """pred [N, L, P] -> patches [N, L, P] in [0, 1] units (not clamped), for the images x [N, C, H, W].

        With norm_pix_loss the per-patch statistics of the true image undo the normalisation, as in the
        MAE demo: such a reconstruction shows structure, not recovered brightness.
        """
        if self.config.norm_pix_loss:
            target = self.patchify(self.normalize(x))
            pred = pred * (target.var(dim=-1, keepdim=True) + 1e-6) ** 0.5 + target.mean(dim=-1, keepdim=True)
        pixels = self.config.patch_size[0] * self.config.patch_size[1]  # patch values are (row, col, chan)
        return pred * self.input_std.flatten().repeat(pixels) + self.input_mean.flatten().repeat(pixels)

    def predictions_to_image(self, pred: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """pred [N, L, P] -> image [N, C, H, W] in [0, 1] units (not clamped); see `predictions_to_patches`."""
        return self.unpatchify(self.predictions_to_patches(pred, x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> CLS token [N, embed_dim], with every patch visible (mask ratio 0)."""
        self.check_input(x)
        order = torch.arange(self.num_patches, dtype=torch.float32, device=x.device).expand(x.shape[0], -1)
        return self.forward_encoder(self.normalize(x), 0.0, order).latent[:, 0]

    def reconstruct(
        self,
        x: torch.Tensor,
        *,
        mask_ratio: float = 0.0,
        noise_factor: float = 0.0,
        seed: int = 0,
        noise: torch.Tensor | None = None,
        mask_scheme: str | None = None,
    ) -> Reconstruction:
        """Reconstruct every patch from the visible ones. The mask comes from `noise` [N, L] when given,
        else from `seed` and `mask_scheme` (None = the config's: "random" patches or whole "rows").
        noise_factor is not used by the MAE."""
        self.check_input(x)
        if noise is None:
            noise = self.mask_noise(x.shape[0], seed=seed, scheme=mask_scheme)
        encoded = self.forward_encoder(self.normalize(x), mask_ratio, noise, scheme=mask_scheme)
        pred = self.forward_decoder(encoded.latent, encoded.ids_restore)
        pixel_mask = self.patch_mask_to_pixels(encoded.mask)
        return Reconstruction(
            image=self.predictions_to_image(pred, x).clamp(0, 1),
            model_input=x * ~pixel_mask[:, None],
            mask=pixel_mask,
        )

    def training_mask_ratio(self, generator: torch.Generator | None = None) -> float:
        """The mask ratio of one training batch: fixed, or drawn uniformly from train_mask_ratio_range."""
        if self.config.train_mask_ratio_range is None:
            return self.config.train_mask_ratio
        low, high = self.config.train_mask_ratio_range
        return low + (high - low) * float(torch.rand((), generator=generator))

    def training_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        ratio = self.training_mask_ratio(generator)
        loss, _, _ = self(x, ratio, self.mask_noise(x.shape[0], generator=generator))
        return loss
