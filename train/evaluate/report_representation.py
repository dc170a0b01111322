"""The RESULTS.md sections of `python -m train.evaluate.representation_study` (pure functions of its results)."""

from __future__ import annotations

from . import tables

FRACTIONS = ("0.01", "0.1", "1.0")
TRAINED = ("mae", "mae_fixed", "cae", "dae")


def latent_of(study: dict, name: str) -> str:
    return study["stages"][name][-1]["name"]


def mnist_sections(study: dict) -> list[str]:
    probes, protocol = study["probes"], study["protocol"]
    rows = [[f"{name} / {stage}", *(tables.fmt(entry.get(f, {}).get("accuracy")) for f in FRACTIONS)]
            for name, stages in probes.items() for stage, entry in stages.items()]  # fmt: skip
    trained = [name for name in TRAINED if name in probes]
    latent_rows = []
    for name in trained:
        latent, best = latent_of(study, name), max(probes[name], key=lambda s: probes[name][s]["1.0"]["accuracy"])
        copy = f"{name.split('_')[0]} (random init)"
        best_cell = f"{best} ({tables.fmt(probes[name][best]['1.0']['accuracy'])})"
        latent_rows.append([name.upper(), *(tables.fmt(probes[name][latent][f]["accuracy"]) for f in FRACTIONS),
                            tables.fmt(probes[copy][latent]["1.0"]["accuracy"]), best_cell,
                            tables.fmt(study["cka"]["vs_random_init"][name][latent])])  # fmt: skip
    latents = study["cka"]["latents"]
    cka_rows = [
        [label.upper(), *map(tables.fmt, row)] for label, row in zip(latents["labels"], latents["matrix"], strict=True)
    ]
    header = ["model", "latent, 1 %", "10 %", "100 %", "random-init latent, 100 %", "best stage, 100 %",
              "CKA latent vs random init"]  # fmt: skip
    return [
        f"### Linear probes through the depth of each model (MNIST; {protocol['test_digits']} test digits)",
        f"Frozen features of the first {protocol['train_digits']} training digits; standardised, L2 logistic "
        f"regression (lbfgs, at most {protocol['max_iter']} iterations), C from {protocol['C_grid']} chosen on a "
        f"stratified {protocol['validation_share']:.0%} validation split of the labelled digits; 1 / 10 / 100 % of the "
        "training labels (seed 0). Conv stages are averaged over positions; the MAE's blocks read as the CLS token "
        "and as the mean over patch tokens; random-init copies are seeded (0). Test accuracy:",
        tables.table(header, latent_rows),
        tables.table(["features / stage", "1 % labels", "10 %", "100 %"], rows),
        "Linear CKA between the models' latents (10k test digits):",
        tables.table(["", *(label.upper() for label in latents["labels"])], cka_rows),
        *claim(study),
    ]


def claim(study: dict) -> list[str]:
    """The seed report's claim (more informative MAE latents) by the linear probe, worded from the figures."""
    probes = study["probes"]
    families = [name for name in ("mae", "cae", "dae") if name in probes]
    if len(families) < 3:
        return []
    lines = []
    for fraction, words in (("1.0", "all"), ("0.01", "1 % of the")):
        scores = {name: probes[name][latent_of(study, name)][fraction]["accuracy"] for name in families}
        best = max(scores, key=scores.get)
        lines.append(f"With {words} labels the latent probe's best is {best.upper()} ("
                     + ", ".join(f"{k.upper()} {tables.fmt(v)}" for k, v in scores.items()) + ").")  # fmt: skip
    return [" ".join(lines)]


def sar_rows(probes: dict) -> list[list[str]]:
    return [[f"{name} / {stage}", *(tables.fmt(e[where][metric]) for where in ("semi_synthetic", "real")
                                     for metric in ("roc_auc", "average_precision"))]
            for name, stages in probes.items() for stage, e in stages.items()]  # fmt: skip


def sar_sections(study: dict) -> list[str]:
    protocol, probes = study["protocol"], study["probes"]
    first = next(iter(next(iter(probes.values())).values()))
    semi, real = first["semi_synthetic"], first["real"]
    header = ["features / stage", "semi-synth. ROC-AUC", "semi-synth. AP", "real ROC-AUC", "real AP"]
    return [
        "### Linear probes for visible RFI (SAR, 20 x 100 px tiles)",
        f"Semi-synthetic patches split by scene ({protocol['patches']}); a tile is positive with at least "
        f"{protocol['min_visible_pixels']} pixels of the generator's visible-RFI mask, negative with no RFI pixel "
        "at all (fainter RFI tiles are left out); C chosen by validation average precision. Real: the three real RFI "
        f"patches in {protocol['real_windows']} windows, a tile positive when it overlaps an RFI box (evaluation "
        f"only). Semi-synthetic test: {semi['tiles']} tiles, {semi['positive_share']:.1%} positive (chance AP); real: "
        f"{real['tiles']} tiles, {real['positive_share']:.1%} positive. Tile features as they are:",
        tables.table(header, sar_rows(probes)),
        "Tile features relative to their patch (minus the patch's median tile):",
        tables.table(header, sar_rows(study["probes_relative"])),
    ]


def representation_tables(results: dict) -> list[str]:
    """The sections of both domains that have a study."""
    sections = []
    if "mnist" in results:
        sections += mnist_sections(results["mnist"])
    if "sar" in results:
        sections += sar_sections(results["sar"])
    return sections
