"""The SAR sections of RESULTS.md (pure functions of the SAR results of `train.evaluate.sar`)."""

from __future__ import annotations

import numpy as np

from rfi_models.data.semisynthetic import scene_split
from rfi_models.detection.controls import CONTROLS

from . import tables
from .sar import MAX_FLAGGED, VALIDATION_RULE, validation_score

CONTROL_SOURCES = ("control-input", "control-median")  # the classifier study's controls


def detector_rows(sar: dict) -> list[tuple[str, str, dict]]:
    """(source, method, entry) of every detector: the baseline, then each source's methods."""
    rows = [("baseline", "", sar["baseline"])]
    for source, methods in sar["sources"].items():
        rows += [(source, method, entry) for method, entry in methods.items()]
    return rows


def label(source: str, method: str) -> str:
    return source if not method else f"{source} ({method})"


def held_out_flagged(entry: dict) -> float:
    """Mean flagged share over the real RFI-free quick-looks of the test scenes: scenes nothing was trained or
    tuned on (the training ones are backgrounds the classifier, and models trained with `--real-share`, learned
    from; the validation one caps the thresholds, `sar.MAX_FLAGGED`)."""
    shares = [v for name, v in entry["real_rfi_free"]["per_image"].items() if scene_split(name) == "test"]
    return float(np.mean(shares)) if shares else float("nan")


REAL_RFI_COLUMN = "real RFI (3 patches, validation)"


def test_sets_of(sar: dict) -> list[str]:
    return [name for name in ("synthetic", "semi_synthetic") if name in sar["sets"]["test"]]


def detection_table(sar: dict) -> list[str]:
    test_sets = test_sets_of(sar)
    header = ["detector", "validation score"]
    for name in test_sets:
        header += [f"{name} ROC-AUC", f"{name} AP", f"{name} AP (exact mask)", f"{name} IoU @ thr."]
    header += [f"{REAL_RFI_COLUMN} AP", "real RFI recall @ thr.", "real RFI precision @ thr."]
    header += ["real RFI-free flagged", "held-out scenes flagged", "threshold"]
    rows = []
    for source, method, entry in detector_rows(sar):
        row = [label(source, method), tables.fmt(validation_score(entry))]
        for name in test_sets:
            metrics = entry[name]
            row += [tables.fmt(metrics[key]) for key in ("roc_auc", "average_precision")]
            row += [tables.fmt(metrics["exact"]["average_precision"]), tables.fmt(metrics.get("iou"))]
        real = entry.get("real_rfi", {})
        row += [tables.fmt(real.get(key)) for key in ("average_precision", "recall", "precision")]
        row += [f"{entry['real_rfi_free']['mean']:.2%}", f"{held_out_flagged(entry):.2%}"]
        row.append(tables.fmt(entry["threshold"], 4))
        rows.append(row)
    sets = sar["sets"]
    return [
        "### SAR RFI detection: models vs no-model controls (pixels)",
        f"Validation (thresholds: the best mean pixel F1, raised where needed to flag at most {MAX_FLAGGED:.0%} of "
        f"the validation scene's RFI-free quick-look pixels; the default detector: {VALIDATION_RULE}): the "
        f"{sets['calibration']} validation set and the {REAL_RFI_COLUMN}. "
        f"Test sets: {', '.join(f'{k} ({v} patches)' for k, v in sets['test'].items())}. Truth: visible RFI (VH "
        "raised by at least 1 dB; the rest of what the RFI changed is left out); '(exact mask)': every changed pixel "
        "positive. Real RFI: the hand-drawn boxes (their dash gaps included, so pixel recall understates), ignore "
        f"boxes left out. Real RFI-free: {len(sets['real_rfi_free'])} Sentinel-1 quick-looks without RFI (every "
        "flagged pixel is a false positive; mean share over images, at the calibrated threshold; 'held-out "
        "scenes': only the test scenes'). AP = average precision, pixel level.",
        tables.table(header, rows),
    ]


def box_table(sar: dict) -> list[str]:
    """Stripes as boxes (COCO, pycocotools): AP at IoU 0.5, mAP over 0.50:0.95, recall and precision at IoU 0.5."""
    sets = ["semi_synthetic", "real_rfi"] if "semi_synthetic" in sar["sets"]["test"] else ["synthetic", "real_rfi"]
    names = {"real_rfi": "real RFI", "semi_synthetic": "semi-synthetic", "synthetic": "synthetic"}
    header = ["detector"]
    for name in sets:
        header += [f"{names[name]} {key}" for key in ("box AP50", "mAP", "box recall", "box precision")]
    rows = []
    for source, method, entry in detector_rows(sar):
        row = [label(source, method)]
        for name in sets:
            metrics = entry.get(name, {})
            row += [tables.fmt(metrics.get(key)) for key in ("box_ap50", "box_map", "box_recall", "box_precision")]
        rows.append(row)
    return [
        "### SAR RFI detection: stripes as boxes",
        "Each score map's stripes at the calibrated threshold (flagged pixels, gaps of up to 32 columns closed along "
        "rows, 8-connected components at least 24 columns wide, scored by their mean score) against the truth "
        "boxes: the hand-drawn ones on the real patches (ignore boxes as COCO crowd regions), the stripes of the "
        "visible mask on generated sets (invisible ones as crowd regions). COCO box AP at IoU 0.5, mAP over IoU "
        "0.50:0.95 (ClearSAR's metric), and recall and precision at IoU 0.5, with pycocotools.",
        tables.table(header, rows),
    ]


def floor_table(sar: dict) -> list[str]:
    rows = []
    for model, per_set in sar.get("floor", {}).items():
        for name, r in per_set.items():
            mse = [tables.fmt(r["mse"], 5), tables.fmt(r["mean_predictor_mse"], 5)]
            rows.append([model, name, *mse, tables.fmt(r["ratio"])])
    return [
        "### SAR reconstruction floor (RFI-free test patches, valid pixels; MAE: hidden patches at its training ratio; "
        "band inpainters: the bands of their covering masks)",
        "A shipped SAR model must reach MSE <= 0.7 x that of the per-patch, per-channel mean predictor. The "
        "'control: neighbour patches' row does the MAE's task without a model (each hidden patch predicted by "
        "the mean of its visible neighbour patches, same patch size and mask ratio): a MAE that does not beat "
        "it has learned less than interpolation. The 'control: band interpolation' row does the band inpainters' "
        "and the range-line MAE's task without a model (every 20-row band interpolated, per column, between the "
        "rows above and below it: `control-band`).",
        tables.table(["model", "test set", "MSE", "mean-predictor MSE", "ratio"], rows),
    ]


def chosen(rows: list[tuple[str, str, dict]]) -> tuple[str, dict] | None:
    """(label, entry) of the row with the best `validation_score` (None for no rows)."""
    scored = [(label(s, m), e) for s, m, e in rows if not np.isnan(validation_score(e))]
    return max(scored, key=lambda row: validation_score(row[1])) if scored else None


OBJECTIVE_MEASURES = {  # (set, metric) the objective compares: pixel AP on visible RFI and box AP at IoU 0.5
    "semi-synthetic test AP": ("semi_synthetic", "average_precision"),
    "real RFI AP": ("real_rfi", "average_precision"),
    "semi-synthetic test box AP50": ("semi_synthetic", "box_ap50"),
    "real RFI box AP50": ("real_rfi", "box_ap50"),
}
OBJECTIVE_MARGIN = 0.05  # AP and box AP50 the model-based detector must lead by; it flags < MAX_FLAGGED too


def objective(sar: dict) -> dict:
    """The objective: the best model-based detector (by the validation rule) ahead of the best no-model detector
    (by the same rule) by at least OBJECTIVE_MARGIN in every measure of OBJECTIVE_MEASURES, flagging < MAX_FLAGGED
    of the real RFI-free quick-look pixels."""
    rows = detector_rows(sar)
    no_model = [r for r in rows if r[0] == "baseline" or r[0].startswith("control-")]
    models = chosen([r for r in rows if r not in no_model])
    control = chosen(no_model)
    if models is None or control is None:
        return {"best_model": "-", "reached": False}
    margins = {name: models[1].get(key, {}).get(metric, float("nan")) - control[1].get(key, {}).get(metric,
               float("nan")) for name, (key, metric) in OBJECTIVE_MEASURES.items()}  # fmt: skip
    flagged = models[1]["real_rfi_free"]["mean"]
    reached = all(m >= OBJECTIVE_MARGIN for m in margins.values()) and flagged < MAX_FLAGGED
    return {"best_model": models[0], "best_no_model": control[0], "margins": margins, "flagged": flagged,
            "reached": bool(reached)}  # fmt: skip


def objective_lines(sar: dict) -> list[str]:
    o = objective(sar)
    default = sar["default"]
    fmt = tables.fmt
    lines = ["### SAR objective and default detector"]
    if o["best_model"] == "-":
        lines.append("No model-based detector was evaluated (no SAR checkpoint in the folder).")
    else:
        margins = ", ".join(f"{name} {value:+.3f}" for name, value in o["margins"].items())
        lines.append(
            f"Chosen by the validation rule, the best model-based detector is {o['best_model']} ({o['flagged']:.2%} "
            f"of real RFI-free pixels flagged) and the best no-model detector is {o['best_no_model']}. Margins: "
            f"{margins}. The objective (every margin >= +{OBJECTIVE_MARGIN} and < {MAX_FLAGGED:.0%} flagged) "
            f"is {'reached' if o['reached'] else 'NOT reached'}."
        )
    lines.append(f"Default detector ({default['rule']}): {label(default['source'], default['method'])} "
                 f"(validation score {fmt(default['validation_score'])}).")  # fmt: skip
    return lines


def sar_sections(sar: dict) -> list[str]:
    if not sar or "sources" not in sar:
        return []
    return [*detection_table(sar), *box_table(sar), *floor_table(sar), *objective_lines(sar)]


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
        tables.table(["training data", "test set", "score", "mean (min-max)"], rows),
    ]


def classifier_studies(stored: dict) -> dict[str, dict]:
    """results.json's "sar_classifier_data" as {training patches per set: study} (one study stored directly, as a
    first version did, is read as such)."""
    return {str(stored["patches_per_set"]): stored} if "patches_per_set" in stored else dict(stored)


def classifier_data_tables(stored: dict) -> list[str]:
    """RESULTS.md sections of every `train.evaluate.classifier_study` run, fewest training patches first."""
    studies = classifier_studies(stored)
    return [part for n in sorted(studies, key=int) for part in classifier_data_table(studies[n])]


def classifier_data_table(study: dict) -> list[str]:
    """RESULTS.md section of `train.evaluate.classifier_study`: the learned score's test AP per source and training set,
    and each model's margin over the best control trained on the same set."""
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
        f"`python -m train.evaluate.classifier_study --sar-train {study['patches_per_set']}`)",
        f"Learned-score average precision on each test set, with the classifier trained on {study['patches_per_set']}"
        " patches per set of each training set; in brackets, a model's margin over the best control trained on the"
        " same set.",
        tables.table(["source", "test set", *variants], rows),
    ]


SELECTED_ON = {"": "real RFI patches", "_semival": "semi-synthetic validation"}  # a run key's suffix: what chose it


def segmenter_run(key: str) -> tuple[str, str, str]:
    """A run key of segmenter_study.json -> (its run, what the U-Net sees, what chose its weights): "input_semival"
    -> ("input", "input alone", "semi-synthetic validation"), "residual_mae_rows" -> ("residual_mae_rows",
    "input + mae_rows_sar residual", "real RFI patches")."""
    run, suffix = (key[: -len("_semival")], "_semival") if key.endswith("_semival") else (key, "")
    source = run.removeprefix("residual_")
    seen = "input alone" if run == "input" else f"input + {source}{'' if source in CONTROLS else '_sar'} residual"
    return run, seen, SELECTED_ON[suffix]


def segmenter_tables(study: dict) -> list[str]:
    """RESULTS.md section of `train.evaluate.segmenter_study`: the same U-Net trained on the input alone and on the
    input plus a model's residual, against the strongest scores of the evaluation on the same sets."""
    runs, references = study.get("runs", {}), study.get("references", {})
    if not runs:
        return []
    fmt = tables.fmt
    order = sorted(runs, key=lambda key: (key.endswith("_semival"), not key.startswith("input"), key))
    rows = [[*segmenter_run(key)[1:], fmt(runs[key]["semi_test_ap"]), fmt(runs[key]["real_ap"]),
             str(runs[key]["best"]["step"])] for key in order]  # fmt: skip
    weights = {"rfi": "none (hand-written filter)", "learned": "as the evaluation trains it"}
    rows += [[name, weights[name.rsplit(" ", 1)[1]], fmt(row["semi_test_ap"]), fmt(row["real_ap"]), "-"]
             for name, row in references.items() if name.endswith((" rfi", " learned"))]  # fmt: skip
    lines = [
        "### SAR: a supervised segmenter with and without a model's residual "
        "(`python -m train.evaluate.segmenter_study`)",
        f"A {runs[next(iter(runs))]['parameters'] / 1e3:.0f} k-parameter U-Net trained on the semi-synthetic masks "
        "(the same data, seed and step budget for every run), on the input alone and on the input plus one model's "
        "residual, its weights chosen on the real RFI patches (as asked) or on the semi-synthetic validation set. "
        "Pixel AP on visible RFI: semi-synthetic test set and the real RFI patches (validation: where the real "
        "patches chose the weights, their AP is not a test figure). Below, the `rfi` and `learned` scores of the "
        "evaluation on the same sets.",
        tables.table(["segmenter / score", "weights chosen on", "semi-synthetic test AP", "real RFI AP", "step"], rows),
    ]
    base = runs.get("input_semival")
    for key in order if base else ():
        run, seen, _ = segmenter_run(key)
        if run != "input" and key.endswith("_semival"):
            gain, real = (runs[key][ap] - base[ap] for ap in ("semi_test_ap", "real_ap"))
            source = seen.removeprefix("input + ")
            lines.append(f"What the {source} adds, chosen on semi-synthetic validation: {gain:+.3f} AP on the "
                         f"semi-synthetic test set, {real:+.3f} on the real patches.")  # fmt: skip
    return lines
