"""How close synthetic SAR patches come to real Sentinel-1 quick-looks, by statistics of the 8-bit images.

API:
- `image_statistics(image uint8 [2, H, W]) -> dict[str, float]`: one image's statistics over its valid
  (non-zero) pixels, channel 0 = VV/HH, 1 = VH/HV (names in `STATISTICS`).
- `set_statistics(images) -> dict[str, float]`: the median over images of every statistic, plus the spread
  (standard deviation over images) of each channel's median, which shows how much the stretch varies.
- `rfi_box_statistics(patches) -> dict[str, float]`: median RFI box (connected component) height and width,
  mean 8-bit brightness and contrast (sd) inside boxes, for comparison with the published ClearSAR figures.
- `histogram_distance(a, b, channel)`: Wasserstein-1 distance (grey levels) between pooled 8-bit histograms.
- `stripe_strength(image uint8 [2, H, W], box) -> dict`: one RFI box measured against the rows just above and
  below it (VV and VH median excess, VH 90th-percentile excess, the dash duty cycle, the height).
- `rfi_strength(sets) -> dict`: the median of every `stripe_strength` measure over the boxes of each set: the real
  RFI patches' hand-drawn boxes against the boxes an annotator would draw on generated visible RFI.
- `comparison(patches=40, seed=0) -> dict`: real quick-looks vs the legacy and the quick-look recipes.
- `markdown_table(result) -> str`, and `python -m train.evaluate.realism [--patches N] [--out PATH]`,
  which writes docs/SAR_REALISM.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage, stats

from rfi_models.artifacts.atomic import write_bytes
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import real_quicklooks, semi_synthetic
from rfi_models.data.synthetic_sar import synthetic_sar_patches
from rfi_models.detection.stripes import find_stripes

CLEARSAR = {"box_height": 10.0, "box_width": 140.0, "box_brightness": 73.0, "box_contrast": 13.0}
STATISTICS = {
    "median": "median grey level",
    "iqr": "interquartile range of grey levels",
    "saturated": "share of valid pixels at 255",
    "local_cv": "median local coefficient of variation (5 x 5 windows)",
    "neighbour_diff": "median |difference| of range-adjacent pixels (grey levels)",
    "acf_row_1": "autocorrelation along range (within a row), lag 1",
    "acf_row_8": "autocorrelation along range, lag 8",
    "acf_col_1": "autocorrelation along azimuth (within a column), lag 1",
    "acf_col_8": "autocorrelation along azimuth, lag 8",
    "row_profile_sd": "sd of row means / sd of pixels (horizontal banding)",
}
PAIR_STATISTICS = {
    "vv_minus_vh": "median VV - VH (grey levels)",
    "vh_brighter": "share of valid pixels where VH > VV",
    "channel_corr": "correlation of VV and VH",
}


def autocorrelation(x: np.ndarray, valid: np.ndarray, lag: int, axis: int) -> float:
    """Correlation of pixels `lag` apart along `axis`, both valid."""
    n = x.shape[axis]
    if n <= lag:
        return float("nan")
    a, b = np.take(x, range(n - lag), axis=axis), np.take(x, range(lag, n), axis=axis)
    both = np.take(valid, range(n - lag), axis=axis) & np.take(valid, range(lag, n), axis=axis)
    if both.sum() < 10:
        return float("nan")
    return float(np.corrcoef(a[both], b[both])[0, 1])


def channel_statistics(x: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    values = x[valid]
    mean = ndimage.uniform_filter(x, 5)
    sd = np.sqrt(np.maximum(ndimage.uniform_filter(x**2, 5) - mean**2, 0))
    inner = ndimage.binary_erosion(valid, np.ones((5, 5)))
    row_counts = np.maximum(valid.sum(axis=1), 1)
    row_means = (x * valid).sum(axis=1)[valid.any(axis=1)] / row_counts[valid.any(axis=1)]
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return {
        "median": float(q50),
        "iqr": float(q75 - q25),
        "saturated": float((values >= 255).mean()),
        "local_cv": float(np.median(sd[inner] / np.maximum(mean[inner], 1))),
        "neighbour_diff": float(np.median(np.abs(np.diff(x, axis=1))[valid[:, 1:] & valid[:, :-1]])),
        "acf_row_1": autocorrelation(x, valid, 1, 1),
        "acf_row_8": autocorrelation(x, valid, 8, 1),
        "acf_col_1": autocorrelation(x, valid, 1, 0),
        "acf_col_8": autocorrelation(x, valid, 8, 0),
        "row_profile_sd": float(row_means.std() / (values.std() + 1e-6)),
    }


def image_statistics(image: np.ndarray) -> dict[str, float]:
    """Statistics of one uint8 [2, H, W] image over its valid pixels (see STATISTICS, PAIR_STATISTICS)."""
    x = np.asarray(image, dtype=np.float32)
    valid = (x > 0).all(axis=0)
    result = {}
    for channel, name in enumerate(("vv", "vh")):
        result |= {f"{name}_{key}": value for key, value in channel_statistics(x[channel], valid).items()}
    vv, vh = x[0][valid], x[1][valid]
    result["vv_minus_vh"] = float(np.median(vv - vh))
    result["vh_brighter"] = float((vh > vv).mean())
    result["channel_corr"] = float(np.corrcoef(vv, vh)[0, 1])
    return result


def set_statistics(images) -> dict[str, float]:
    """Median over images of each statistic, plus the sd over images of each channel's median."""
    rows = [image_statistics(image) for image in images]
    result = {key: float(np.nanmedian([row[key] for row in rows])) for key in rows[0]}
    for name in ("vv", "vh"):
        result[f"{name}_median_spread"] = float(np.std([row[f"{name}_median"] for row in rows]))
    return result


def histogram_distance(a, b, channel: int) -> float:
    """Wasserstein-1 distance in grey levels between the pooled valid-pixel histograms of two image sets."""
    histograms = []
    for images in (a, b):
        counts = np.zeros(256)
        for image in images:
            valid = (np.asarray(image) > 0).all(axis=0)
            counts += np.bincount(np.asarray(image)[channel][valid].ravel(), minlength=256)[:256]
        histograms.append(counts / counts.sum())
    levels = np.arange(256)
    return float(stats.wasserstein_distance(levels, levels, histograms[0], histograms[1]))


def rfi_box_statistics(patches) -> dict[str, float]:
    """Median RFI box size, mean brightness and median contrast (sd) inside boxes, on the mean of VV and VH.

    A box encloses a stripe as an annotator would draw it: the mask closed over gaps of up to 40 columns
    and 2 rows (dashes, holes where faint RFI left a pixel unchanged), then each connected part."""
    heights, widths, brightness, contrast = [], [], [], []
    for patch in patches:
        grey = patch.image.astype(np.float32).mean(axis=0)
        closed = ndimage.binary_closing(patch.rfi, np.ones((3, 41), dtype=bool)) | patch.rfi
        for box in ndimage.find_objects(ndimage.label(closed)[0]):
            heights.append(box[0].stop - box[0].start)
            widths.append(box[1].stop - box[1].start)
            brightness.append(grey[box].mean())
            contrast.append(grey[box].std())
    if not heights:
        return dict.fromkeys(CLEARSAR, float("nan"))
    return {"box_height": float(np.median(heights)), "box_width": float(np.median(widths)),
            "box_brightness": float(np.mean(brightness)), "box_contrast": float(np.median(contrast))}  # fmt: skip


STRENGTH = {
    "vv_median_excess": "VV median in the box minus that of the rows above and below (grey levels)",
    "vh_median_excess": "VH median excess (grey levels)",
    "vh_p90_excess": "VH 90th-percentile excess (grey levels)",
    "duty": "share of the box's columns whose VH maximum exceeds the reference rows' VH 90th percentile + 5",
    "height": "box height (rows)",
    "lit_rows": "rows of the box whose VH 90th percentile exceeds the reference rows' + 5 (the stripe's height)",
}


def stripe_strength(image: np.ndarray, box: tuple[int, int, int, int]) -> dict[str, float] | None:
    """One RFI box [row0, row1, col0, col1) of a uint8 [2, H, W] image, measured against the box's own height of
    rows just above and just below it (the valid pixels there); None where no reference pixel is valid."""
    row0, row1, col0, col1 = box
    height = row1 - row0
    image = image.astype(np.int32)
    reference = np.concatenate([image[:, max(0, row0 - height) : row0, col0:col1].reshape(2, -1),
                                image[:, row1 : row1 + height, col0:col1].reshape(2, -1)], axis=1)  # fmt: skip
    reference = reference[:, reference.any(axis=0)]
    inside = image[:, row0:row1, col0:col1]
    if reference.shape[1] == 0 or not inside.any():
        return None
    median, p90 = np.median(reference, axis=1), np.percentile(reference[1], 90)
    return {"vv_median_excess": float(np.median(inside[0]) - median[0]),
            "vh_median_excess": float(np.median(inside[1]) - median[1]),
            "vh_p90_excess": float(np.percentile(inside[1], 90) - p90),
            "duty": float((inside[1].max(axis=0) > p90 + 5).mean()), "height": float(height),
            "lit_rows": float((np.percentile(inside[1], 90, axis=1) > p90 + 5).sum())}  # fmt: skip


def annotated_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The truth boxes of a generated bool [H, W] visible-RFI mask, as the evaluation draws them
    (`detection.stripes.find_stripes`: gaps along rows closed, stripes at least MIN_WIDTH columns wide), as
    [row0, row1, col0, col1)."""
    return [(s["row0"], s["row1"] + 1, s["col0"], s["col1"] + 1) for s in find_stripes(mask.astype(np.float32), 0.5)]


def rfi_strength(sets: dict[str, list[tuple[np.ndarray, list]]]) -> dict[str, dict[str, float]]:
    """{set: {measure: median over its boxes}, plus "boxes": how many} for sets of (uint8 image, boxes) pairs."""
    result = {}
    for name, pairs in sets.items():
        rows = [m for image, boxes in pairs for box in boxes if (m := stripe_strength(image, box))]
        result[name] = {key: float(np.median([r[key] for r in rows])) if rows else float("nan") for key in STRENGTH}
        result[name]["boxes"] = float(len(rows))
    return result


def strength_sets(patches: int, seed: int) -> dict[str, list[tuple[np.ndarray, list]]]:
    """The real RFI patches with their hand-drawn boxes; generated patches (the quick-look recipe and the
    semi-synthetic validation split, all contaminated) with the evaluation's truth boxes of their visible RFI."""

    def as_uint8(x: np.ndarray) -> np.ndarray:
        return np.rint(x * 255).astype(np.uint8)

    real = [(as_uint8(p.image), list(p.boxes)) for p in real_rfi_patches().values()]
    synthetic = [(p.image, annotated_boxes(p.visible))
                 for p in synthetic_sar_patches(patches, seed=seed, rfi_probability=1.0)]  # fmt: skip
    semi = semi_synthetic("val", patches, seed=seed, rfi_probability=1.0)
    semi_pairs = [(as_uint8(x), annotated_boxes(v)) for x, v in zip(semi.images, semi.visible, strict=True)]
    return {"real RFI (3 patches)": real, "synthetic quicklook": synthetic, "semi-synthetic": semi_pairs}


def comparison(patches: int = 40, seed: int = 0) -> dict:
    """Statistics of the real quick-looks and of RFI-free patches of both recipes, distances to the real
    histograms, and RFI box statistics of contaminated patches against the ClearSAR figures."""
    real = [np.rint(image * 255).astype(np.uint8) for image in real_quicklooks().values()]
    sets = {"real quick-looks": real}
    boxes = {"ClearSAR (published)": CLEARSAR}
    for recipe in ("legacy", "quicklook"):
        clean = synthetic_sar_patches(patches, seed=seed, rfi_probability=0.0, recipe=recipe)
        sets[f"synthetic {recipe}"] = [p.image for p in clean]
        contaminated = synthetic_sar_patches(patches, seed=seed, rfi_probability=1.0, recipe=recipe)
        boxes[f"synthetic {recipe}"] = rfi_box_statistics(contaminated)
    statistics = {name: set_statistics(images) for name, images in sets.items()}
    for name, images in sets.items():
        for channel, label in enumerate(("vv", "vh")):
            statistics[name][f"{label}_histogram_w1"] = histogram_distance(images, real, channel)
    return {"statistics": statistics, "rfi_boxes": boxes, "strength": rfi_strength(strength_sets(patches, seed)),
            "patches": patches, "seed": seed, "real_images": len(real)}  # fmt: skip


def markdown_table(result: dict) -> str:
    names = list(result["statistics"])
    header = "| statistic | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    keys = list(result["statistics"][names[0]])
    rows = "".join(
        f"| `{key}` | " + " | ".join(f"{result['statistics'][n][key]:.3f}" for n in names) + " |\n" for key in keys
    )
    box_names = list(result["rfi_boxes"])
    boxes = "| RFI boxes | " + " | ".join(box_names) + " |\n|---|" + "---|" * len(box_names) + "\n"
    boxes += "".join(
        f"| {key} | " + " | ".join(f"{result['rfi_boxes'][n][key]:.1f}" for n in box_names) + " |\n" for key in CLEARSAR
    )
    names = list(result["strength"])
    strength = "| RFI strength (median over boxes) | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    strength += "".join(f"| `{key}` | " + " | ".join(f"{result['strength'][n][key]:.2f}" for n in names) + " |\n"
                        for key in (*STRENGTH, "boxes"))  # fmt: skip
    return rows and header + rows + "\n" + boxes + "\n" + strength


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate.realism", description=__doc__.split("\n")[0])
    parser.add_argument("--patches", type=int, default=40, help="synthetic patches per recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/SAR_REALISM.md")
    args = parser.parse_args(argv)
    result = comparison(args.patches, args.seed)
    text = Path(args.out).read_text() if Path(args.out).exists() else ""
    marker = "<!-- realism table -->"
    table = f"{marker}\n{markdown_table(result)}{marker}"
    text = text.split(marker)[0] + table + (text.split(marker)[2] if text.count(marker) == 2 else "\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_bytes(Path(args.out), text.encode())
    print(markdown_table(result))


if __name__ == "__main__":
    main()
