"""Training engine: a tiny run, a resume, and a 2-process DistributedDataParallel run on gloo."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rfi_models
from train.__main__ import main
from train.engine import TrainConfig, attention_backend, converged, lr_at

TINY_MAE = ["--override", "depth=1", "--override", "embed_dim=32", "--override", "decoder_depth=1"]


def run(tmp_path: Path, *extra: str) -> tuple[Path, list[dict]]:
    out, log = tmp_path / "mae.safetensors", tmp_path / "mae.jsonl"
    args = ["--model", "mae", "--domain", "mnist", "--train-size", "256", "--val-size", "128", "--batch-size", "64"]
    main([*args, *TINY_MAE, "--out", str(out), "--log-path", str(log), *extra])
    return out, [json.loads(line) for line in log.read_text().splitlines()]


def test_one_epoch_writes_a_loadable_checkpoint_and_a_log(tmp_path):
    out, records = run(tmp_path, "--epochs", "1")
    model, info = rfi_models.load_checkpoint(out)
    assert info["architecture"] == "mae" and info["domain"] == "mnist"
    assert info["training"]["epochs_completed"] == 1 and info["training"]["steps"] == 4
    assert model.config.depth == 1
    steps = [r for r in records if r["event"] == "step"]
    epochs = [r for r in records if r["event"] == "epoch"]
    assert steps and all(r["loss"] > 0 for r in steps)
    assert len(epochs) == 1 and {"val_loss", "val_psnr", "train_loss"} <= set(epochs[0])


def test_resume_continues_where_it_stopped_and_matches_an_uninterrupted_run(tmp_path):
    run(tmp_path / "a", "--epochs", "1")
    out_resumed, records = run(tmp_path / "a", "--epochs", "2")
    assert [r["event"] for r in records].count("resume") == 1
    out_straight, _ = run(tmp_path / "b", "--epochs", "2")
    resumed, info = rfi_models.load_checkpoint(out_resumed)
    straight, _ = rfi_models.load_checkpoint(out_straight)
    assert info["training"]["epochs_completed"] == 2
    for (name, a), b in zip(resumed.state_dict().items(), straight.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), name


def test_learning_rate_warms_up_then_decays():
    config = TrainConfig(model="mae", domain="mnist", epochs=1, batch_size=1, lr=1.0, weight_decay=0)
    rates = [lr_at(step, 100, 10, config) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(rates[10:])) and rates[-1] < 0.05


@pytest.mark.slow  # torchrun
def test_two_process_gloo_run(tmp_path):
    out, log = tmp_path / "ddp.safetensors", tmp_path / "ddp.jsonl"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "train"]
    command += ["--model", "cae", "--domain", "mnist", "--train-size", "256", "--val-size", "64", "--batch-size", "32"]
    command += ["--override", "channels=[4,8]", "--override", "latent_dim=8", "--epochs", "1"]
    command += ["--out", str(out), "--log-path", str(log), "--threads", "1"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    _, info = rfi_models.load_checkpoint(out)
    assert info["training"]["world_size"] == 2
    assert info["training"]["steps"] == 4  # 256 images / (32 per rank x 2 ranks)


def test_short_sequences_train_under_the_math_attention_backend_with_the_same_loss():
    cpu = torch.device("cpu")
    mae = rfi_models.create_model("mae", "mnist").train()
    x = torch.rand(4, 1, 28, 28)
    default_loss = mae.training_loss(x, generator=torch.Generator().manual_seed(0))
    with attention_backend(mae, cpu):
        assert torch.backends.cuda.math_sdp_enabled() and not torch.backends.cuda.flash_sdp_enabled()
        math_loss = mae.training_loss(x, generator=torch.Generator().manual_seed(0))
    assert torch.backends.cuda.flash_sdp_enabled()  # restored for everything else in the process
    assert torch.allclose(math_loss, default_loss, atol=1e-6)
    for long_or_convolutional in (rfi_models.create_model("mae", "sar"), rfi_models.create_model("cae", "mnist")):
        with attention_backend(long_or_convolutional, cpu):
            assert torch.backends.cuda.flash_sdp_enabled()


def test_convergence_is_less_than_the_tolerance_over_the_window():
    config = TrainConfig(model="mae", domain="mnist", epochs=9, batch_size=8, lr=1e-3, weight_decay=0.0)
    history = [{"val_loss": v} for v in (1.0, 0.40, 0.399, 0.398, 0.397)]
    assert not converged(history[:3], config)  # fewer epochs than the window + 1
    assert not converged(history[:4], config)  # 1.0 -> 0.398 over 3 epochs
    assert converged(history, config)  # 0.40 -> 0.397 over 3 epochs is 0.75 % < 1 %
    assert not converged(history, TrainConfig(**{**config.__dict__, "converge_window": 0}))
    noisy = [{"val_loss": v} for v in (1.0, 0.50, 0.48, 0.45, 0.51)]  # a bad last epoch: the best still improved
    assert not converged(noisy, config)  # best 0.50 before the window, 0.45 within it: 10 %


def test_training_stops_at_convergence_before_the_epoch_ceiling(tmp_path):
    out, records = run(tmp_path, "--epochs", "5", "--converge-window", "1", "--converge-tolerance", "10")
    epochs = [r for r in records if r["event"] == "epoch"]
    assert len(epochs) == 2 and records[-1] == {"event": "converged", "epoch": 2}
    assert rfi_models.load_checkpoint(out)[1]["training"]["converged"] is True


def test_an_ablation_run_counts_as_finished_only_when_its_log_says_so(tmp_path):
    from train.evaluate.ablation_sar import finished

    log = tmp_path / "run.jsonl"
    assert not finished(log)  # never started
    start = {"event": "start", "epochs": 3}
    lines = [start, {"event": "epoch", "epoch": 1}, {"event": "epoch", "epoch": 2}]
    log.write_text("\n".join(json.dumps(r) for r in lines))
    assert not finished(log)  # interrupted: resumes
    log.write_text("\n".join(json.dumps(r) for r in [*lines, {"event": "converged", "epoch": 2}]))
    assert finished(log)
    log.write_text("\n".join(json.dumps(r) for r in [*lines, {"event": "epoch", "epoch": 3}]))
    assert finished(log)  # the ceiling


def test_ablation_results_are_kept_per_family_and_read_in_the_earlier_single_family_form():
    from train.evaluate.ablation_sar import ABLATION_CHANGES, run_name
    from train.evaluate.report_sar import ablation_tables, ablations_by_family

    def summary(family: str, changes: dict) -> dict:
        spread = {"mean": 0.5, "min": 0.4, "max": 0.6}
        condition = {"average_precision": {"synthetic": {"rfi": spread}}, "floor": {"synthetic": spread}}
        return {"family": family, "seeds": [0, 1, 2], "recipe_changes": changes, "conditions": {"rfi 0": condition}}

    earlier = summary("dae", {})
    assert ablations_by_family(earlier) == {"dae": earlier}
    both = ablations_by_family(earlier) | {"mae": summary("mae", ABLATION_CHANGES["mae"])}
    text = "\n".join(ablation_tables(both))
    assert "(DAE, seeds 0, 1, 2" in text and "(MAE, seeds 0, 1, 2" in text
    assert "train_size = 480" in text and text.count("Recipe changed") == 1  # only the MAE departs from its recipe
    assert run_name("cae", 0.5, 2) == "cae_sar_rfi0.5_seed2"


def test_init_from_starts_at_the_checkpoint_weights_and_refuses_another_config(tmp_path, capsys):
    source, _ = run(tmp_path / "source", "--epochs", "1")
    log = tmp_path / "kept.jsonl"
    log.write_text("an earlier run's log\n")
    bad = ["--model", "mae", "--domain", "mnist", "--init-from", str(source), "--log-path", str(log)]
    with pytest.raises(SystemExit):
        main([*bad, "--override", "depth=2", "--out", str(tmp_path / "never.safetensors")])
    assert "not this run's mae" in capsys.readouterr().err  # the reason, not a traceback
    assert log.read_text() == "an earlier run's log\n"  # refused before anything was written
    frozen = ["--epochs", "1", "--max-steps", "1", "--lr", "0"]
    tuned, records = run(tmp_path / "tuned", *frozen, "--init-from", str(source))
    assert records[0]["init_from"] == str(source)
    before, after = rfi_models.load_checkpoint(source)[0], rfi_models.load_checkpoint(tuned)[0]
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values(), strict=True):
        assert torch.equal(a, b), name  # one step at learning rate 0 (no decay either) keeps the weights


def test_training_a_sar_model_rebuilds_its_onnx_export(tmp_path, capsys):
    from rfi_models.detection.onnx_engine import check_export, onnx_path

    out = tmp_path / "dae_sar.safetensors"
    args = [
        "--model",
        "dae",
        "--domain",
        "sar",
        "--train-size",
        "4",
        "--val-size",
        "2",
        "--batch-size",
        "2",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--log-path",
        str(tmp_path / "log"),
    ]
    onnx_path(out).write_bytes(b"the export of earlier weights")
    main(args)
    assert f"ONNX export: {onnx_path(out)}" in capsys.readouterr().out
    assert check_export(out) == onnx_path(out)  # current: the engines accept it


def test_real_share_mixes_real_backgrounds_into_the_sar_split():
    from rfi_models.data.semisynthetic import semi_synthetic
    from train import data

    with pytest.raises(ValueError, match="in \\[0, 1\\)"):
        data.sar_split("val", 4, 0.0, real_share=1.5)
    mixed = data.sar_split("val", 4, 0.0, real_share=0.5)
    synthetic = data.sar_split("val", 2, 0.0)
    real = semi_synthetic("val", 2, seed=2000, rfi_probability=0.0).images
    assert mixed.dtype == torch.uint8 and mixed.shape == (4, 2, 340, 500)
    assert torch.equal(mixed[:2], synthetic)
    assert torch.equal(mixed[2:], torch.from_numpy((real * 255).round().astype("uint8")))


def test_a_log_continued_by_a_fine_tune_numbers_its_epochs_and_steps_on(tmp_path):
    from rfi_models.artifacts.training_log import read_training_log

    source, _ = run(tmp_path / "base", "--epochs", "2")
    _, _ = run(tmp_path / "tuned", "--epochs", "1", "--init-from", str(source))
    combined = tmp_path / "combined.jsonl"
    combined.write_text((tmp_path / "base" / "mae.jsonl").read_text() + (tmp_path / "tuned" / "mae.jsonl").read_text())
    log = read_training_log(combined)
    assert log.epochs == [1, 2, 3] and len(log.val_losses) == 3
    assert log.steps == sorted(log.steps) and log.steps[-1] == 12  # 4 steps per epoch, numbered on


def test_classifier_study_table_gives_each_model_its_margin_over_the_best_control_of_the_same_training_set():
    from train.evaluate.report_sar import classifier_data_table, classifier_data_tables

    def aps(current: float, fresh: float) -> dict:
        return {"current": {"semi_synthetic": current}, "fresh synthetic": {"semi_synthetic": fresh}}

    study = {
        "patches_per_set": 16,
        "average_precision": {
            "control-input": aps(0.30, 0.20),
            "control-median": aps(0.25, 0.22),
            "mae_sar": aps(0.28, 0.27),
        },
    }
    table = "\n".join(classifier_data_table(study))
    assert "| mae_sar | semi_synthetic | 0.280 (-0.020) | 0.270 (+0.050) |" in table
    assert "| control-input | semi_synthetic | 0.300 | 0.200 |" in table  # controls get no margin
    assert classifier_data_table({}) == []
    both = {"64": study | {"patches_per_set": 64}, "16": study}
    titles = [line for line in classifier_data_tables(both) if line.startswith("###")]
    assert ["16 per set" in titles[0], "64 per set" in titles[1]] == [True, True]  # fewest patches first
    assert len(classifier_data_tables(study)) == 3  # one study stored directly reads as one section
