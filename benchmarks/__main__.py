"""Run the benchmark suite: `python -m benchmarks` (what `make bench` does), or only some rows with --only.

Prints a table of every measurement against its target and writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import operator
import time
from dataclasses import dataclass
from pathlib import Path

from rfi_models.artifacts.atomic import write_bytes
from rfi_models.data import load_mnist_sample
from rfi_models.detection.detector import choose_detector, resolve_precision
from rfi_models.names import DOMAINS
from rfi_models.runtime import keep_large_blocks

from . import (
    cold_start,
    compute_limit,
    engines,
    interactive,
    page_switch,
    placement,
    scene_detection,
    screening,
    training,
)
from .timing import machine, use_benchmark_threads

RESULTS = Path(__file__).resolve().parent / "results.json"
SCENE_SIZE, LARGE_SCENE_SIZE = 4096, 8192


@dataclass(frozen=True)
class Target:
    what: str
    bound: float
    at_least: bool = False  # True: the value must be >= bound; False: <= bound

    def met(self, value: float) -> bool:
        return (operator.ge if self.at_least else operator.le)(value, self.bound)

    def text(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.bound:g}"


TARGETS = {
    "mnist_interact_ms": Target("MNIST image: 3 reconstructions + MAE rollout", 30),
    "mnist_ig_ms": Target("MNIST image: Integrated Gradients, 32 steps, slowest model", 150),
    "sar_interact_ms": Target("340x500 SAR patch: 3 reconstructions + MAE rollout", 300),
    "sar_ig_ms": Target("340x500 SAR patch: Integrated Gradients, 32 steps, slowest model", 2000),
    "scene_mpx_per_s": Target(f"RFI detection, {SCENE_SIZE}x{SCENE_SIZE} scene, file to mask file (ONNX)", 3.0, True),
    "scene_large_mpx_per_s": Target(f"the same, {LARGE_SCENE_SIZE}x{LARGE_SCENE_SIZE} scene (ONNX)", 4.0, True),
    "scene_peak_rss_mb": Target(f"peak RSS of the {SCENE_SIZE}x{SCENE_SIZE} run", 2048),
    "quicklooks_per_s": Target(
        f"screening {screening.QUICKLOOKS} real-size quick-looks, 2 workers, after the detector loaded (ONNX)", 20, True
    ),
    "screen_speedup_2_workers": Target(
        f"screening {screening.SCENES} scenes of {screening.SIZE}x{screening.SIZE}: 2 workers over 1 (ONNX)", 1.7, True
    ),
    "place_ms": Target("place 1 new sample in a 10,000-point map + 10 neighbours", 100),
    "cold_start_s": Target("app launch to first page rendered (headless Chromium)", 5),
    "page_switch_mnist_s": Target("MNIST: click to page rendered, slowest page's median of 3 rounds (Chromium)", 1.0),
    "page_switch_sar_s": Target("SAR: click to page rendered, slowest page's median of 3 rounds (Chromium)", 1.5),
    "train_ratio_vs_transformers": Target("MAE training img/s / transformers ViTMAE img/s", 2.0, True),
}
GROUPS = ("interactive", "scene", "screening", "engines", "placement", "cold_start", "page_switch", "training")
SCENE_ENGINES = ("onnx", "torch")  # the engine `--engine auto` picks, and its peer
PAGE_SWITCH_ROUNDS = 3


def run_interactive(repeats: int, results: dict, details: dict) -> None:
    for domain in DOMAINS:
        models = interactive.shipped_models(domain)
        image = interactive.benchmark_image(domain)
        results[f"{domain}_interact_ms"] = interactive.interact_ms(models, image, repeats)
        per_model = interactive.integrated_gradients_ms(models, image, max(3, repeats // 3))
        results[f"{domain}_ig_ms"] = max(per_model.values())
        details[f"{domain}_ig_ms_per_model"] = per_model


def run_scene(repeats: int, results: dict, details: dict) -> None:
    """Both scene sizes on both engines, each against the compute limit measured in this run."""
    checkpoint = Path(choose_detector()[0])
    for size in (SCENE_SIZE, LARGE_SCENE_SIZE):
        limit = compute_limit.compute_limit(checkpoint, [(size, size)])
        details[f"compute_limit_{size}"] = limit
        for engine in SCENE_ENGINES:
            run = scene_detection.scene_benchmark(
                size, max(1, repeats // 3) if size == SCENE_SIZE else 1, engine=engine
            )
            details[f"scene_{size}_{engine}"] = {
                "seconds": run.seconds,
                "mpx_per_s": run.mpx_per_s,
                "share_of_compute_limit": run.mpx_per_s / limit["limit_mpx_per_s"],
                "peak_rss_mb": run.peak_rss_mb,
                "peak_anonymous_mb": run.peak_anonymous_mb,
            }
    details["scene_precision_auto"] = resolve_precision("auto")
    results["scene_mpx_per_s"] = details[f"scene_{SCENE_SIZE}_onnx"]["mpx_per_s"]
    results["scene_large_mpx_per_s"] = details[f"scene_{LARGE_SCENE_SIZE}_onnx"]["mpx_per_s"]
    results["scene_peak_rss_mb"] = details[f"scene_{SCENE_SIZE}_onnx"]["peak_rss_mb"]
    details["detector"] = f"{scene_detection.default_detector()}, the CLI default, calibrated threshold"


def run_screening(repeats: int, results: dict, details: dict) -> None:
    run = screening.screening_benchmark()
    results["screen_speedup_2_workers"] = run["speedup"]
    details["screening"] = run
    details["screening_control_2_plain_processes"] = screening.parallel_ceiling()
    limit = compute_limit.compute_limit(Path(choose_detector()[0]), screening.quicklook_shapes())
    details["compute_limit_quicklooks"] = limit
    for engine in SCENE_ENGINES:
        archive = screening.quicklook_archive_benchmark(engine=engine)
        archive["share_of_compute_limit"] = limit["limit_seconds"] / archive["seconds_after_load"]
        details[f"quicklook_archive_{engine}"] = archive
    results["quicklooks_per_s"] = details["quicklook_archive_onnx"]["quicklooks_per_s"]


def run_engines(repeats: int, results: dict, details: dict) -> None:
    details["engines"] = engines.engines_benchmark(max(1, repeats // 3))


def run_placement(repeats: int, results: dict, details: dict) -> None:
    images, _ = load_mnist_sample()
    per_map = placement.placement_ms(interactive.shipped_models("mnist")["mae"], images[:, None], repeats)
    results["place_ms"] = max(per_map.values())
    details["place_ms_per_map"] = per_map


def run_cold_start(repeats: int, results: dict, details: dict) -> None:
    results["cold_start_s"] = cold_start.cold_start_seconds(max(3, repeats // 3))


def run_page_switch(repeats: int, results: dict, details: dict) -> None:
    medians = page_switch.page_switch_seconds(PAGE_SWITCH_ROUNDS)
    for domain, per_page in medians.items():
        results[f"page_switch_{domain}_s"] = max(per_page.values())
        details[f"page_switch_{domain}_s_per_page"] = {title: round(seconds, 3) for title, seconds in per_page.items()}


def run_training(repeats: int, results: dict, details: dict) -> None:
    images, _ = load_mnist_sample()
    throughput = training.training_throughput(images[:, None])
    results["train_ratio_vs_transformers"] = throughput.pop("ratio")
    details["training_img_per_s"] = throughput


RUNNERS = {
    "interactive": run_interactive,
    "scene": run_scene,
    "screening": run_screening,
    "engines": run_engines,
    "placement": run_placement,
    "cold_start": run_cold_start,
    "page_switch": run_page_switch,
    "training": run_training,
}


def table(results: dict) -> str:
    lines = [f"{'key':<30} {'value':>10} {'target':>9}  met  what", "-" * 110]
    for key, target in TARGETS.items():
        if key in results:
            value, met = results[key], "yes" if target.met(results[key]) else "NO"
            lines.append(f"{key:<30} {value:>10.3g} {target.text():>9}  {met:<3}  {target.what}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS), help="run only these groups")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per measurement (scene: a third of it)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (default benchmarks/results.json)")
    args = parser.parse_args(argv)
    use_benchmark_threads()
    keep_large_blocks()
    results: dict = {}
    details: dict = {}
    run = {"machine": machine()}
    started = time.time()
    for group in args.only:
        print(f"running {group}…", flush=True)
        RUNNERS[group](args.repeats, results, details)
    run["total_seconds"] = round(time.time() - started, 1)
    print(table(results))
    # --only keeps the stored rows of the groups it did not run, and the machine and duration of the full run
    partial = set(args.only) != set(GROUPS)
    details |= {f"only_{'+'.join(args.only)}": run} if partial else run
    stored = json.loads(args.out.read_text()) if args.out.exists() and partial else {}
    measured = {key: stored[key] for key in TARGETS if key in stored}
    measured |= {key: round(results[key], 4) for key in TARGETS if key in results}
    record = {
        **measured,
        "targets": {key: target.text() for key, target in TARGETS.items()},
        "met": {key: TARGETS[key].met(value) for key, value in measured.items()},
        "command": "make bench",
        "details": {**stored.get("details", {}), **details},
    }
    write_bytes(args.out, (json.dumps(record, indent=2) + "\n").encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
