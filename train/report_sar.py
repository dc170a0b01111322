"""The SAR sections of RESULTS.md (pure functions of the SAR results of `train.evaluate_sar`)."""

from __future__ import annotations

import numpy as np

from rfi_models.data.semisynthetic import scene_split

from . import report  # report imports this module: use its helpers at call time

CONTROL_SOURCES = ("control-input", "control-median")


def detector_rows(sar: dict) -> list[tuple[str, str, dict]]:
    """(source, method, entry) of every detector: the baseline, then each source's methods."""
    rows = [("baseline", "", sar["baseline"])]
    for source, methods in sar["sources"].items():
        rows += [(source, method, entry) for method, entry in methods.items()]
    return rows


def label(source: str, method: str) -> str:
    return source if not method else f"{source} ({method})"


def held_out_flagged(entry: dict) -> float:
    """Mean flagged share over the real RFI-free quick-looks outside the semi-synthetic training split: scenes no
    model or classifier was trained on (the training ones are backgrounds the classifier, and models trained with
    `--real-share`, learned from; the validation one served thresholds and the choice of checkpoints)."""
    shares = [v for name, v in entry["real_rfi_free"]["per_image"].items() if scene_split(name) != "train"]
    return float(np.mean(shares)) if shares else float("nan")


def detection_table(sar: dict) -> list[str]:
    test_sets = [name for name in ("synthetic", "semi_synthetic") if name in sar["sets"]["test"]]
    header = ["detector", "val AP"]
    for name in test_sets:
        header += [f"{name} ROC-AUC", f"{name} AP", f"{name} IoU @ thr."]
    header += ["real RFI-free flagged", "held-out scenes flagged", "threshold"]
    rows = []
    for source, method, entry in detector_rows(sar):
        row = [label(source, method), report.fmt(entry["val"]["average_precision"])]
        for name in test_sets:
            metrics = entry[name]
            row += [report.fmt(metrics[key]) for key in ("roc_auc", "average_precision")]
            row.append(report.fmt(metrics.get("iou")))
        row += [f"{entry['real_rfi_free']['mean']:.2%}", f"{held_out_flagged(entry):.2%}"]
        row.append(report.fmt(entry["threshold"], 4))
        rows.append(row)
    sets = sar["sets"]
    return [
        "### SAR RFI detection: models vs no-model controls",
        f"Validation (thresholds: best F1; the default detector): {sets['calibration']} validation set. "
        f"Test sets: {', '.join(f'{k} ({v} patches)' for k, v in sets['test'].items())}. Real RFI-free: "
        f"{len(sets['real_rfi_free'])} Sentinel-1 quick-looks without RFI (every flagged pixel is a false positive; "
        "mean share over images, at the calibrated threshold; 'held-out scenes': only those outside the "
        "semi-synthetic training split). AP = average precision, pixel level.",
        report.table(header, rows),
    ]


def floor_table(sar: dict) -> list[str]:
    rows = []
    for model, per_set in sar.get("floor", {}).items():
        for name, r in per_set.items():
            mse = [report.fmt(r["mse"], 5), report.fmt(r["mean_predictor_mse"], 5)]
            rows.append([model, name, *mse, report.fmt(r["ratio"])])
    return [
        "### SAR reconstruction floor (RFI-free test patches, valid pixels; MAE: hidden patches at its training ratio)",
        "A shipped SAR model must reach MSE <= 0.7 x that of the per-patch, per-channel mean predictor. The "
        "'control: neighbour patches' row does the MAE's task without a model (each hidden patch predicted by "
        "the mean of its visible neighbour patches, same patch size and mask ratio): a MAE that does not beat "
        "it has learned less than interpolation.",
        report.table(["model", "test set", "MSE", "mean-predictor MSE", "ratio"], rows),
    ]


def best(rows: list[tuple[str, str, dict]], test_set: str) -> tuple[str, float, float]:
    """(label, AP on test_set, real RFI-free flagged share) of the row with the highest AP on test_set."""
    scored = [(label(s, m), e[test_set]["average_precision"], e["real_rfi_free"]["mean"]) for s, m, e in rows]
    scored = [row for row in scored if not np.isnan(row[1])]
    return max(scored, key=lambda row: row[1]) if scored else ("-", float("nan"), float("nan"))


def objective(sar: dict) -> dict:
    """The issue's objective: a model-based detector at least 0.05 AP above the best no-model detector on the
    semi-synthetic test set (synthetic when there is none), flagging < 1 % of the real RFI-free pixels."""
    test_set = "semi_synthetic" if "semi_synthetic" in sar["sets"]["test"] else "synthetic"
    rows = detector_rows(sar)
    no_model = [r for r in rows if r[0] == "baseline" or r[0] in CONTROL_SOURCES]
    models = [r for r in rows if r not in no_model]
    model_label, model_ap, model_flagged = best(models, test_set)
    control_label, control_ap, _ = best(no_model, test_set)
    margin = model_ap - control_ap
    return {
        "test_set": test_set,
        "best_model": model_label,
        "best_model_ap": model_ap,
        "best_model_flagged": model_flagged,
        "best_no_model": control_label,
        "best_no_model_ap": control_ap,
        "margin": margin,
        "reached": bool(margin >= 0.05 and model_flagged < 0.01),
    }


def objective_lines(sar: dict) -> list[str]:
    o = objective(sar)
    default = sar["default"]
    fmt = report.fmt
    if o["best_model"] == "-":
        return [
            "### SAR objective and default detector",
            "No model-based detector was evaluated (no SAR checkpoint in the folder).",
            f"Default detector (highest AP on the {sar['sets']['calibration']} validation set): "
            f"{label(default['source'], default['method'])} (validation AP {fmt(default['val_average_precision'])}).",
        ]
    return [
        "### SAR objective and default detector",
        f"On the {o['test_set']} test set the best model-based detector is {o['best_model']} "
        f"(AP {fmt(o['best_model_ap'])}, {o['best_model_flagged']:.2%} of real RFI-free pixels flagged); "
        f"the best no-model detector is {o['best_no_model']} (AP {fmt(o['best_no_model_ap'])}). "
        f"Margin {o['margin']:+.3f} AP: the objective "
        f"(>= +0.05 AP and < 1 % flagged) is {'reached' if o['reached'] else 'NOT reached'}.",
        f"Default detector (highest AP on the {sar['sets']['calibration']} validation set): "
        f"{label(default['source'], default['method'])} "
        f"(validation AP {fmt(default['val_average_precision'])}).",
    ]


def sar_sections(sar: dict) -> list[str]:
    if not sar or "sources" not in sar:
        return []
    return [*detection_table(sar), *floor_table(sar), *objective_lines(sar)]


def ablations_by_family(stored: dict) -> dict[str, dict]:
    """results.json's "sar_ablation" as {family: summary} (an earlier version stored one family's summary there)."""
    return {stored["family"]: stored} if "family" in stored else dict(stored)


def ablation_tables(stored: dict) -> list[str]:
    """RESULTS.md sections of every ablated family (results.json's "sar_ablation")."""
    return [part for ablation in ablations_by_family(stored).values() for part in ablation_table(ablation)]


def recipe_changes_line(ablation: dict) -> list[str]:
    """The ablation's departures from the family's recipe, as a sentence (none: no line)."""
    changes = ablation.get("recipe_changes") or {}
    if not changes:
        return []
    return ["Recipe changed for the ablation: " + ", ".join(f"{k} = {v}" for k, v in changes.items()) + "."]


def ablation_table(ablation: dict) -> list[str]:
    """RESULTS.md section: mean (min-max) over seeds, per training condition, test set and score."""
    rows = []
    for condition, values in ablation.get("conditions", {}).items():
        for test_set, methods in values["average_precision"].items():
            for method, s in methods.items():
                rows.append([condition, test_set, method, f"{s['mean']:.3f} ({s['min']:.3f}-{s['max']:.3f})"])
        for test_set, s in values["floor"].items():
            rows.append([condition, test_set, "floor ratio", f"{s['mean']:.3f} ({s['min']:.3f}-{s['max']:.3f})"])
        if "epochs" in values:
            converged = f"{values['converged']} of {len(values['epochs'])} by the criterion"
            rows.append([condition, "", "epochs", f"{', '.join(map(str, values['epochs']))} ({converged})"])
    if not rows:
        return []
    return [
        f"### SAR ablation: RFI-free vs contaminated training ({ablation['family'].upper()}, seeds "
        f"{', '.join(map(str, ablation['seeds']))}; mean and range over seeds)",
        *recipe_changes_line(ablation),
        "Average precision on each test set per score, and the reconstruction floor ratio (lower is better).",
        report.table(["training data", "test set", "score", "mean (min-max)"], rows),
    ]


def classifier_studies(stored: dict) -> dict[str, dict]:
    """results.json's "sar_classifier_data" as {training patches per set: study} (one study stored directly, as a
    first version did, is read as such)."""
    return {str(stored["patches_per_set"]): stored} if "patches_per_set" in stored else dict(stored)


def classifier_data_tables(stored: dict) -> list[str]:
    """RESULTS.md sections of every `train.classifier_study` run, fewest training patches first."""
    studies = classifier_studies(stored)
    return [part for n in sorted(studies, key=int) for part in classifier_data_table(studies[n])]


def classifier_data_table(study: dict) -> list[str]:
    """RESULTS.md section of `train.classifier_study`: the learned score's test AP per source and training set, and
    each model's margin over the best control trained on the same set."""
    results = study.get("average_precision", {})
    if not results:
        return []
    first = next(iter(results.values()))
    variants, test_sets = list(first), list(first[next(iter(first))])
    rows = []
    for source, by_variant in results.items():
        for test_set in test_sets:
            row = [source, test_set]
            for variant in variants:
                ap = by_variant[variant][test_set]
                best_control = max(results[c][variant][test_set] for c in CONTROL_SOURCES if c in results)
                margin = "" if source in CONTROL_SOURCES else f" ({ap - best_control:+.3f})"
                row.append(f"{ap:.3f}{margin}")
            rows.append(row)
    return [
        f"### SAR: the learned step trained on patches the models have not seen ({study['patches_per_set']} per set, "
        f"`python -m train.classifier_study --sar-train {study['patches_per_set']}`)",
        f"Learned-score average precision on each test set, with the classifier trained on {study['patches_per_set']}"
        " patches per set of each training set; in brackets, a model's margin over the best control trained on the"
        " same set.",
        report.table(["source", "test set", *variants], rows),
    ]
