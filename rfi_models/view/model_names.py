"""How the app names its models: by family, and a SAR MAE or band inpainter also by its masking ("MAE · rows").

A page keys its models by a *model key*: the family ("mae", "cae", "dae") or, for a SAR MAE, the family and its
masking ("mae · random patches", "mae · rows"), so that two SAR MAEs can sit side by side as rows of one grid; a
CAE or DAE band inpainter (`models.bands`, bands of rows hidden) is "cae · rows", "dae · rows".
`display_name` turns a key (or a no-model detector's name) into what a grid, table or legend shows. Metadata only:
nothing here loads a model (or imports torch).
"""

from __future__ import annotations

from pathlib import Path

from ..artifacts.checkpoint import read_checkpoint_info
from ..names import MASK_SCHEMES

MASKING_NAMES = {"random": "random patches", "rows": "rows"}  # how a result names an MAE by its masking
MASKING_CHOICES = {"random": "random patches", "rows": "rows of patches"}  # how the masking control offers them
SEPARATOR = " · "


def trained_scheme(checkpoint: str | Path) -> str:
    """The mask scheme an MAE checkpoint was trained with ("random" for checkpoints from before the field)."""
    scheme = read_checkpoint_info(checkpoint)["config"].get("mask_scheme") or "random"
    return scheme if scheme in MASK_SCHEMES else "random"


def model_key(family: str, domain: str, checkpoint: str | Path) -> str:
    """A model's key: its family, and for a SAR MAE the masking it was trained with; "rows" for a band inpainter."""
    if family == "mae" and domain == "sar":
        return f"{family}{SEPARATOR}{MASKING_NAMES[trained_scheme(checkpoint)]}"
    if read_checkpoint_info(checkpoint)["config"].get("inpaint"):
        return f"{family}{SEPARATOR}{MASKING_NAMES['rows']}"
    return family


def family_of(key: str) -> str:
    """The family of a model key ("mae · rows" -> "mae")."""
    return key.split(SEPARATOR)[0]


def display_name(key: str) -> str:
    """What the app shows for a model key or a detector's name: the family in capitals, the masking as it is
    ("mae · rows" -> "MAE · rows", "control-input" -> "CONTROL-INPUT")."""
    family, *rest = key.split(SEPARATOR)
    return SEPARATOR.join([family.upper(), *rest])


def file_label(key: str) -> str:
    """A model key as part of a file name ("mae · random patches" -> "mae_random_patches")."""
    return "_".join(key.replace(SEPARATOR, " ").split())


def labelled_checkpoints(checkpoints: dict[str, Path], domain: str, second_mae: Path | None = None) -> dict[str, Path]:
    """Model key -> checkpoint path: each family's checkpoint in order, and `second_mae` right after the MAE. A key
    taken already (two MAEs trained with the same masking) gets the checkpoint's file name beside it."""
    labelled: dict[str, Path] = {}
    for family, path in checkpoints.items():
        for checkpoint in (path, second_mae) if family == "mae" and second_mae is not None else (path,):
            key = model_key(family, domain, checkpoint)
            labelled[key if key not in labelled else f"{key} ({Path(checkpoint).stem})"] = Path(checkpoint)
    return labelled


def second_mae_default(selected: Path, others: list[Path]) -> Path:
    """The second MAE a SAR page shows by default: the first of `others` (at least one) trained with another
    masking than the `selected` one, else the first of them."""
    scheme = trained_scheme(selected)
    return next((path for path in others if trained_scheme(path) != scheme), others[0])
