"""python -m train --model {mae,cae,dae} --domain {mnist,sar} [--epochs N] [...]

Defaults come from train.recipes.RECIPES; every flag left out keeps the recipe's value. Training resumes
from the resume file next to the checkpoint when there is one (use --fresh to start over). Runs under
`torchrun --nproc_per_node N -m train ...` as well.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import torch

import rfi_models
from rfi_models.names import DOMAINS
from rfi_models.runtime import keep_large_blocks

from .engine import TrainConfig, recipe, run_to_end, set_up


def parse_override(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 84x124, got {text!r}") from None
    return h, w


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=rfi_models.list_models(), help="model family")
    parser.add_argument("--domain", required=True, choices=DOMAINS, help="data, and the model preset of that name")
    parser.add_argument("--epochs", type=int, help="epochs at most (the length of the cosine schedule)")
    parser.add_argument("--batch-size", type=int, help="images per optimizer step and rank")
    parser.add_argument("--lr", type=float, help="peak learning rate of AdamW, after the warmup")
    parser.add_argument("--weight-decay", type=float, help="AdamW weight decay")
    parser.add_argument("--warmup-epochs", type=float, help="epochs of linear learning-rate warmup (fractions allowed)")
    parser.add_argument("--seed", type=int, help="seed of the initial weights, the data order and the corruption")
    parser.add_argument("--train-size", type=int, help="SAR patches to generate, or the first N MNIST images")
    parser.add_argument("--val-size", type=int, help="validation images (MNIST: the first N of the validation split)")
    parser.add_argument("--rfi-probability", type=float, help="SAR: share of training patches with RFI (0)")
    parser.add_argument("--real-share", type=float,
                        help="SAR: share of patches with real Sentinel-1 backgrounds (0)")  # fmt: skip
    parser.add_argument("--override", action="append", default=[], type=parse_override, metavar="FIELD=JSON",
                        help="model config field, e.g. --override depth=2 --override 'channels=[8,16]'")  # fmt: skip
    parser.add_argument("--out", help="checkpoint path (default MODEL_DOMAIN.safetensors in the checkpoints folder: "
                        "$RFI_MODELS_CHECKPOINTS, else the repository's checkpoints/)")  # fmt: skip
    parser.add_argument("--log-path", help="JSON-lines log (default logs/MODEL_DOMAIN.jsonl in the checkpoints folder)")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument("--crop", type=parse_size, metavar="HxW",
                        help="train on random crops of this size (fully convolutional models: the DAE)")  # fmt: skip
    parser.add_argument("--converge-window", type=int,
                        help="stop once validation improved less than the tolerance over this many epochs")  # fmt: skip
    parser.add_argument("--converge-tolerance", type=float, help="relative improvement that counts as progress")
    parser.add_argument("--init-from", metavar="CHECKPOINT",
                        help="fine-tune: start from this checkpoint's weights (same config)")  # fmt: skip
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing resume file")
    args = parser.parse_args(argv)
    keep_large_blocks()
    if args.threads:
        torch.set_num_threads(args.threads)
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"model", "domain"}
    changes = {name: value for name, value in vars(args).items() if name in fields}
    config = recipe(args.model, args.domain, overrides=dict(args.override) or None, log=args.log_path, **changes)
    try:
        run = set_up(config, fresh=args.fresh)
    except ValueError as err:  # a setting or an --init-from checkpoint that cannot be used: say which, no traceback
        parser.error(str(err))
    checkpoint = run_to_end(run)
    print(f"checkpoint: {checkpoint}")
    if run.env.main and config.domain == "sar":  # the engines refuse the export of the earlier weights: rebuild it
        from rfi_models.detection.onnx_export import export_after_training

        print(export_after_training(checkpoint))


if __name__ == "__main__":
    main()
