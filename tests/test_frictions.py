"""What a new user meets on a walk-through: progress in a pipe, the ML-VAE's unit, resuming a
run with TensorBoard or a cut-off metrics line, help that lists only what is accepted,
readable figures, a warning on a collapsed model, and Ctrl-C that leaves a clean terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pyro_vaes import api
from pyro_vaes.analysis.mutual_information import format_nats
from pyro_vaes.config import TrainConfig
from pyro_vaes.figures import save_bar_chart, wrapped
from runners.cli import main
from tests.conftest import ROOT, default_sigint, run_cli

TINY = {"latent_dim": 2, "hidden_dim": 16}


def test_piped_training_prints_one_plain_line_per_epoch(tmp_path):
    """stderr is a pipe here: no bar, one line per epoch with the bar's summary."""
    out = tmp_path / "run"
    result = run_cli("train", "vae", "--max-train", "100", "--epochs", "2", "--batch-size", "50",
                     "--latent-dim", "2", "--hidden-dim", "16", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"], result.stderr
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    for line, record in zip(lines, records, strict=True):
        assert f"val_elbo {record['val_elbo']:.2f}" in line
        assert f"train_loss {record['train_loss']:.2f}" in line
    # --no-progress: nothing at all
    quiet = run_cli("train", "vae", "--max-train", "100", "--epochs", "1", "--latent-dim", "2",
                    "--hidden-dim", "16", "--no-progress", "--out", str(tmp_path / "quiet"))
    assert quiet.returncode == 0 and quiet.stderr.strip() == "", quiet.stderr


def test_mlvae_summary_says_its_elbo_is_per_group_and_counts_one_epoch(tmp_path, capsys):
    assert main(["train", "mlvae", "--max-train", "100", "--epochs", "1", "--latent-dim", "4",
                 "--content-dim", "2", "--hidden-dim", "16", "--no-progress",
                 "--out", str(tmp_path / "ml")]) == 0
    line = capsys.readouterr().out
    assert line.startswith("trained mlvae for 1 epoch: "), line
    assert "nats per group of up to 8 images sharing its class" in line, line
    assert main(["train", "vae", "--max-train", "100", "--epochs", "1", "--latent-dim", "2",
                 "--hidden-dim", "16", "--no-progress", "--out", str(tmp_path / "vae")]) == 0
    assert "nats per image" in capsys.readouterr().out
    guide = (ROOT / "docs" / "getting-started.md").read_text()
    assert "per group" in guide


def _scalar_steps(directory: Path) -> list[int]:
    events = EventAccumulator(str(directory))
    events.Reload()
    return [e.step for e in events.Scalars("val_elbo")]


def test_resume_keeps_tensorboard_as_the_run_was_started(tmp_path, capsys):
    out = tmp_path / "run"
    config = TrainConfig(epochs=1, max_train=100, batch_size=50)
    api.train("vae", out, model_options=TINY, train_config=config, tensorboard=True,
              figures=False)
    assert main(["train", "vae", "--out", str(out), "--resume", "--epochs", "2",
                 "--no-progress"]) == 0
    assert _scalar_steps(out / "tensorboard") == [1, 2]
    # --no-tensorboard stops it on purpose
    assert main(["train", "vae", "--out", str(out), "--resume", "--epochs", "3",
                 "--no-progress", "--no-tensorboard"]) == 0
    assert _scalar_steps(out / "tensorboard") == [1, 2]


@pytest.mark.parametrize("tail", ['{"epoch": 2, "train_lo', '{"epoch": 2, "train_loss": 1.0}\n'
                                  '{"epo'])
def test_resume_drops_a_cut_off_metrics_line_and_says_so_once(tmp_path, capsys, tail):
    out = tmp_path / "run"
    config = TrainConfig(epochs=1, max_train=100, batch_size=50)
    api.train("vae", out, model_options=TINY, train_config=config, figures=False)
    with (out / "metrics.jsonl").open("a") as handle:
        handle.write(tail)             # a kill while the next line was written
    capsys.readouterr()
    assert main(["train", "vae", "--out", str(out), "--resume", "--epochs", "2",
                 "--no-progress"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "not JSON" in line]
    assert len(notes) == 1 and notes[0].startswith("Note: "), notes
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]


def test_elbo_help_lists_only_what_the_model_accepts(capsys):
    def elbo_help(model: str) -> str:
        assert main(["train", model, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        return text.split("--elbo ")[1].split(" --")[0]

    assert "meanfield" not in elbo_help("ccvae") and "meanfield" not in elbo_help("m2")
    assert "meanfield" in elbo_help("vae")
    assert "enum (TraceEnum_ELBO)" in elbo_help("ccvae")


def test_mutual_information_is_never_shown_as_minus_zero():
    assert format_nats(-0.001) == "0.00"
    assert format_nats(-0.0049) == "0.00"
    assert format_nats(-0.02) == "-0.02"
    assert format_nats(0.664, 3) == "0.664"
    assert format_nats(-0.0004, 3) == "0.000"


def test_long_titles_are_wrapped_to_the_figure_width():
    title = "ccvae: characteristics z_c from the row image, style z_s from the column image"
    lines = wrapped(title, 4.35, 10).split("\n")
    assert len(lines) == 2 and " ".join(lines) == title
    assert all(len(line) <= int(4.35 * 72 / 5.5) for line in lines)
    assert wrapped("short", 3.0, 10) == "short"


def test_the_mi_bar_chart_is_readable_at_its_default_size(tmp_path):
    from PIL import Image

    labels = [f"z_c[{j}]" for j in range(10)] + [f"z_s[{j}]" for j in range(10)]
    values = {name: [0.1] * 20 for name in ("I mixture", "I closed form", "KL")}
    path = save_bar_chart(values, labels, tmp_path / "mi.png", ylabel="nats", xlabel="latent",
                          title="a title")
    width, height = Image.open(path).size
    assert width <= 14 * 120 and height >= 4 * 120       # was 2520 x 420 for 20 latents


def test_analyze_mi_says_latent_and_which_column_the_threshold_reads(tmp_path, capsys):
    out = tmp_path / "run"
    api.train("vae", out, model_options=TINY,
              train_config=TrainConfig(epochs=1, max_train=100, batch_size=50))
    capsys.readouterr()
    assert main(["analyze", "mi", str(out), "--limit", "50"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("latent ") and "influential (I mixture > 0.5)" in text
    assert "influential latents (I mixture > 0.5 nats)" in text
    assert "factor" not in text


def test_metrics_of_a_collapsed_model_come_with_a_warning(tmp_path, capsys):
    out = tmp_path / "run"
    api.train("vae", out, model_options=TINY, figures=False,
              train_config=TrainConfig(data="shapes-small", epochs=1, max_train=100,
                                       batch_size=50))
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    for key in ("posterior.loc.weight", "posterior.loc.bias"):   # every posterior mean 0
        checkpoint["state_dict"][key].zero_()
    torch.save(checkpoint, out / "checkpoint.pt")
    capsys.readouterr()
    assert main(["analyze", "metrics", str(out), "--limit", "200", "--metrics", "sap"]) == 0
    captured = capsys.readouterr()
    (warning,) = [line for line in captured.err.splitlines() if line.strip()]
    assert warning.startswith("Warning: none of the 2 latents is active"), warning
    assert "sap" in captured.out


@pytest.mark.slow
def test_ctrl_c_closes_the_bars_before_the_interrupted_line(tmp_path):
    """With the bars on, SIGINT at step 3: the last thing on stderr is the one
    "Interrupted" line, on a line of its own, with no bar redrawn after it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYRO_VAES_FAULT": "step:3:interrupt",
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "runners.cli", "train", "vae", "--max-train",
                             "300", "--batch-size", "50", "--epochs", "2", "--progress",
                             "--latent-dim", "2", "--hidden-dim", "16",
                             "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=600, env=env,
                            preexec_fn=default_sigint)
    assert result.returncode == 130, result.stderr
    before, _, after = result.stderr.rpartition("Interrupted")
    assert before.endswith("\n"), repr(result.stderr[-400:])
    rest = after.split("\n", 1)
    assert len(rest) == 1 or rest[1].strip() == "", repr(after)
    assert re.search(r"epochs\s+0%", after) is None


def test_sizes_larger_than_the_data_are_said_once(tmp_path, capsys):
    args = ["train", "vae", "--epochs", "1", "--latent-dim", "2", "--hidden-dim", "16",
            "--no-progress"]
    assert main([*args, "--max-train", "100", "--batch-size", "500",
                 "--out", str(tmp_path / "a")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["Note: --batch-size 500 is more than the 100 training images; every batch "
                   "holds all 100"], err
    available = len(api.load_splits(TrainConfig()).train)
    assert main([*args, "--max-train", "100000", "--out", str(tmp_path / "b")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"Note: --max-train 100000 is more than the {available} training images of "
                   f"digits; all {available} are used"], err


def test_an_intervention_names_the_options_it_does_not_use(tmp_path, capsys):
    run = tmp_path / "m2"
    api.train("m2", run, model_options=TINY, figures=False,
              train_config=TrainConfig(epochs=1, max_train=100, batch_size=50, labels=20))
    capsys.readouterr()
    assert main(["intervene", "traverse", str(run), "--num-images", "1", "--steps", "2",
                 "--seed", "3", "--num-samples", "2", "--out", str(tmp_path / "out")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["Note: --num-samples, --seed are not used by `intervene traverse` of model "
                   "'m2' (it takes --num-images, --steps, --span)"], err
