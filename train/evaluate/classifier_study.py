"""python -m train.evaluate.classifier_study: does the learned step lose because it learns from patches the models
have seen?

`python -m train.evaluate` trains each source's secondary classifier on the first synthetic training patches
(seed 1000), whose backgrounds every shipped SAR model trained on, and on semi-synthetic patches of the training
scenes, which the MAE and CAE fine-tuned with `--real-share` trained on. A model's residual is smaller there than
on new patches, so a classifier trained on it may learn the wrong scale. This study trains the same classifier
(same seed, pixel sample and features) on four training sets and reports the learned score's average precision on
both test sets, for every residual source:

- `current`: the training sets of `train.evaluate`;
- `fresh synthetic`: synthetic patches of another seed (FRESH_SEED, never trained on), and the same
  semi-synthetic patches;
- `unseen scenes`: the fresh synthetic patches, and semi-synthetic patches of the validation scenes (no model
  trained on them);
- `unseen scenes only`: the semi-synthetic validation patches alone.

The controls have seen nothing: how much their score moves between training sets is what the training sample
alone does, the yardstick for a model's change. Written to checkpoints/results.json ("sar_classifier_data", by
the number of training patches per set, `--sar-train`) and RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import synthetic_sar_truth
from rfi_models.names import checkpoints_dir
from rfi_models.runtime import keep_large_blocks

from . import report, report_sar
from .sar import all_scores, classifier_for, memoised, residual_sources
from .sar_metrics import Labelled, set_metrics
from .sar_sets import SarSets, add_set_arguments, load_sets

FRESH_SEED = 1500  # synthetic patches no model trained on (training 1000, validation 2000, test 3000)


def training_sets(sets: SarSets, n: int) -> dict[str, dict]:
    """The four classifier training sets (module docstring), each {set name: Labelled}."""
    images, exact, visible = synthetic_sar_truth(n, seed=FRESH_SEED, rfi_probability=0.5)
    fresh = Labelled(images, visible, exact)
    unseen = semi_synthetic("val", n, rfi_probability=0.5)
    unseen_pair = Labelled(unseen.images, unseen.visible, unseen.masks)
    return {
        "current": sets.train,
        "fresh synthetic": {"synthetic": fresh, "semi_synthetic": sets.train["semi_synthetic"]},
        "unseen scenes": {"synthetic": fresh, "semi_synthetic": unseen_pair},
        "unseen scenes only": {"semi_synthetic": unseen_pair},
    }


def study(folder: Path, sets: SarSets, n: int) -> dict:
    """{source: {training set: {test set: learned-score average precision}}} for every shipped SAR model and the
    controls."""
    sources = {name: memoised(residual_fn) for name, (residual_fn, _) in residual_sources(folder).items()}
    variants = training_sets(sets, n)
    results = {}
    for source, residual_fn in sources.items():
        results[source] = {}
        for variant, train_sets in variants.items():
            classifier = classifier_for(residual_fn, train_sets)
            results[source][variant] = {
                name: set_metrics(all_scores(labelled.images, residual_fn, classifier)["learned"], labelled, None)[
                    "average_precision"
                ]
                for name, labelled in sets.test.items()
            }
        print(source, json.dumps(results[source]), flush=True)
    return {"patches_per_set": n, "fresh_seed": FRESH_SEED, "average_precision": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate.classifier_study", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--checkpoints", default=str(checkpoints_dir()))
    add_set_arguments(parser)
    args = parser.parse_args(argv)
    keep_large_blocks()
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    done = study(folder, load_sets(args.sar_train, args.sar_val, args.sar_test), args.sar_train)
    report.merge_results(
        folder,
        "sar_classifier_data",
        lambda earlier: report_sar.classifier_studies(earlier) | {str(args.sar_train): done},
    )
    print("\n\n".join(report_sar.classifier_data_table(done)))


if __name__ == "__main__":
    main()
