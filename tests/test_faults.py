"""Interruptions, kills and divergence: a run is never left broken, and resuming is exact.

The in-process tests stop training at a chosen step through the test hooks of
``pyro_vaes.training.faults``; the slow tests run real ``pyro-vaes train`` processes
(``python -m runners.cli``) that the ``PYRO_VAES_FAULT`` environment variable makes
receive SIGKILL or SIGINT at a chosen point, then resume them. In every case the final
parameters equal those of an uninterrupted run bit for bit (CPU).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError, TrainingDiverged, TrainingInterrupted
from pyro_vaes.training import faults, load_checkpoint
from runners.cli import main
from tests.conftest import ROOT, default_sigint

SMALL = {"latent_dim": 3, "hidden_dim": 16}
# 200 training images in batches of 32: 7 steps per epoch, 14 in two epochs
CONFIG = dict(max_train=200, batch_size=32, seed=4, checkpoint_every=3)


def _config(epochs: int = 2, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, **{**CONFIG, **kw})


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoint.pt")["state_dict"]


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _losses(run_dir: Path) -> list[float]:
    return [json.loads(line)["train_loss"]
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """The uninterrupted run every interrupted one is compared with."""
    out = tmp_path_factory.mktemp("straight") / "run"
    api.train("vae", out, model_options=SMALL, train_config=_config(), figures=False)
    return out


def _stop_at(monkeypatch, step: int, error: type[BaseException]) -> None:
    """Make optimiser step ``step`` of the run raise ``error`` once it is done."""
    def reached(point: str, count: int) -> None:
        if point == "step" and count == step:
            raise error()
    monkeypatch.setattr(faults, "reached", reached)


# -- in-process ---------------------------------------------------------------------------
# checkpoints are written at steps 0, 3, 6, 7 (end of epoch 1), 9, 12 and 14 (end of epoch 2);
# step N's is written after the step, so a stop at N keeps the one before
@pytest.mark.parametrize("stop,kept", [(1, 0), (3, 0), (7, 6), (8, 7), (10, 9), (13, 12)])
def test_interrupted_anywhere_then_resumed_equals_straight(tmp_path, monkeypatch, straight,
                                                           stop, kept):
    out = tmp_path / "run"
    _stop_at(monkeypatch, stop, KeyboardInterrupt)
    with pytest.raises(TrainingInterrupted) as info:
        api.train("vae", out, model_options=SMALL, train_config=_config(), figures=False)
    assert load_checkpoint(out / "checkpoint.pt")["position"]["global_step"] == kept
    assert f"continue with `pyro-vaes train vae --out {out} --resume`" in str(info.value)
    monkeypatch.undo()
    resumed = api.resume_run(out, figures=False)
    assert _same(_weights(out), _weights(straight))
    assert [r["train_loss"] for r in resumed.history] == _losses(straight) == _losses(out)
    assert json.loads((out / "config.json").read_text())["changes"] == []


def test_divergence_stops_keeps_the_last_good_checkpoint_and_resumes_with_a_lower_lr(
        tmp_path, monkeypatch, straight):
    out, ref = tmp_path / "run", tmp_path / "interrupted"
    monkeypatch.setattr(faults, "_FAULT", ("step", 11, "nan"))   # loss NaN from step 11 on
    with pytest.raises(TrainingDiverged) as info:
        api.train("vae", out, model_options=SMALL, train_config=_config(), figures=False)
    message = str(info.value)
    assert TrainingDiverged.exit_code == 3 and "\n" not in message
    assert "NaN or infinite at step 4 of epoch 2 (step 11 of the run)" in message
    assert "keeps step 2 of epoch 2, the last good state" in message
    assert "--resume --lr 0.0002" in message
    monkeypatch.setattr(faults, "_FAULT", None)
    # the checkpoint kept is the state after step 9, as in a run interrupted at step 10
    _stop_at(monkeypatch, 10, KeyboardInterrupt)
    with pytest.raises(TrainingInterrupted):
        api.train("vae", ref, model_options=SMALL, train_config=_config(), figures=False)
    monkeypatch.undo()
    assert load_checkpoint(out / "checkpoint.pt")["position"]["global_step"] == 9
    assert _same(_weights(out), _weights(ref))
    assert all(torch.isfinite(v).all() for v in _weights(out).values())
    # resume with a lower learning rate: finishes, records the change, steps differ from
    # the straight run's from step 10 on
    run = api.resume_run(out, options={"lr": 2e-4}, figures=False)
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in run.history)
    assert run.history[-1]["lr"] == 2e-4
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["lr"] == 2e-4
    assert config["changes"] == [{"epoch": 2, "step": 2,
                                  "changed": {"lr": {"from": 0.002, "to": 0.0002}}}]
    assert not _same(_weights(out), _weights(straight))


def test_a_resume_may_change_the_rate_and_schedule_but_nothing_else(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _stop_at(monkeypatch, 8, KeyboardInterrupt)   # keeps the end of epoch 1
    with pytest.raises(TrainingInterrupted):
        api.train("vae", out, model_options=SMALL, figures=False,
                  train_config=_config(3, lr_schedule="exponential", lr_decay=0.5))
    monkeypatch.undo()
    before = (out / "checkpoint.pt").read_bytes()
    with pytest.raises(ConfigError, match=r"cannot change --seed 5 \(the run has 4\); "
                                          r"--latent-dim 4 \(the run has 3\)"):
        api.resume_run(out, options={"seed": 5, "latent_dim": 4, "lr": 1e-3})
    assert (out / "checkpoint.pt").read_bytes() == before
    run = api.resume_run(out, figures=False,
                         options={"lr": 1e-3, "lr_schedule": "constant", "clip_norm": 5.0})
    # epoch 1 ran at 2e-3; from epoch 2 on the constant 1e-3 replaces 2e-3 * 0.5**(epoch - 1)
    assert [r["lr"] for r in run.history] == [2e-3, 1e-3, 1e-3]
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["lr_schedule"] == "constant" and config["train"]["clip_norm"] == 5.0
    assert config["changes"] == [{"epoch": 2, "step": 0, "changed": {
        "lr": {"from": 0.002, "to": 0.001},
        "lr_schedule": {"from": "exponential", "to": "constant"},
        "clip_norm": {"from": None, "to": 5.0}}}]
    assert load_checkpoint(out / "checkpoint.pt")["config"]["changes"] == config["changes"]


def test_an_unstarted_run_starts_again_and_stale_temporaries_go(tmp_path, straight, capsys):
    # what a kill before the first checkpoint (or an older version's Ctrl-C) leaves
    out = tmp_path / "run"
    (out / "figures").mkdir(parents=True)
    (out / ".lock").write_text("12345\n")
    (out / ".checkpoint-abc123.tmp").write_bytes(b"half a checkpoint")
    options = ["--max-train", "200", "--batch-size", "32", "--seed", "4", "--epochs", "2",
               "--latent-dim", "3", "--hidden-dim", "16", "--no-progress"]
    (out / "config.json").write_text(json.dumps({"model": "vae", "train": {
        "max_train": 200, "batch_size": 32, "seed": 4, "epochs": 2},
        "model_config": dict(SMALL)}))
    assert main(["train", "vae", "--out", str(out), "--resume"]) == 0, capsys.readouterr().err
    assert not list(out.glob(".checkpoint-*.tmp"))
    assert _same(_weights(out), _weights(straight))
    # the same command again, without --resume, on an unstarted directory
    again = tmp_path / "again"
    (again / "figures").mkdir(parents=True)
    assert main(["train", "vae", "--out", str(again), *options]) == 0
    assert _same(_weights(again), _weights(straight))


# -- real processes, real signals -----------------------------------------------------
ARGS = ["train", "vae", "--epochs", "2", "--max-train", "200", "--batch-size", "32", "--seed",
        "4", "--latent-dim", "3", "--hidden-dim", "16", "--checkpoint-every", "3",
        "--no-progress"]


def _train(out: Path, *extra: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop(faults.ENVIRONMENT_VARIABLE, None)
    if fault:
        env[faults.ENVIRONMENT_VARIABLE] = fault
    return subprocess.run([sys.executable, "-m", "runners.cli", *ARGS, "--out", str(out),
                           *extra], capture_output=True, text=True, timeout=600, env=env,
                          preexec_fn=default_sigint)


@pytest.fixture(scope="module")
def straight_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("straight-process") / "run"
    result = _train(out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fault,signum,then", [
    ("run-created:1:kill", signal.SIGKILL, []),               # before the first checkpoint
    ("step:5:kill", signal.SIGKILL, ["--resume"]),              # mid-epoch 1
    ("step:10:kill", signal.SIGKILL, ["--resume"]),             # mid-epoch 2
    ("checkpoint-write:3:kill", signal.SIGKILL, ["--resume"]),  # writing step 6's checkpoint
    ("step:8:interrupt", signal.SIGINT, ["--resume"]),          # Ctrl-C in epoch 2
], ids=["before-first-checkpoint", "mid-epoch-1", "mid-epoch-2", "during-checkpoint-write",
        "ctrl-c"])
def test_killed_process_resumes_to_the_uninterrupted_parameters(tmp_path, straight_process,
                                                               fault, signum, then):
    straight, out = straight_process, tmp_path / "run"
    stopped = _train(out, fault=fault)
    if signum == signal.SIGKILL:
        assert stopped.returncode == -signal.SIGKILL, stopped.stderr
        if fault.startswith("checkpoint-write"):
            assert len(list(out.glob(".checkpoint-*.tmp"))) == 1   # the half-written file
            assert load_checkpoint(out / "checkpoint.pt")["position"]["global_step"] == 3
    else:
        assert stopped.returncode == 130, stopped.stderr
        lines = [line for line in stopped.stderr.splitlines() if line.strip()]
        assert lines == [f"Interrupted: stopped at step 1 of epoch 2; {out}/checkpoint.pt keeps "
                         f"the end of epoch 1: continue with `pyro-vaes train vae --out {out} "
                         f"--resume`"], stopped.stderr
    resumed = _train(out, *then)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(out.glob(".checkpoint-*.tmp"))
    assert _same(_weights(out), _weights(straight))
    assert _losses(out) == _losses(straight)


@pytest.mark.slow
def test_forced_divergence_in_a_real_process_exits_3_and_resumes_with_a_lower_lr(tmp_path):
    out = tmp_path / "run"
    diverged = _train(out, fault="step:11:nan")
    assert diverged.returncode == 3, diverged.stderr
    lines = [line for line in diverged.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: the training loss became NaN or "
                                                   "infinite at step 4 of epoch 2"), lines
    assert load_checkpoint(out / "checkpoint.pt")["position"]["global_step"] == 9
    resumed = _train(out, "--resume", "--lr", "0.0002")
    assert resumed.returncode == 0, resumed.stderr
    changes = json.loads((out / "config.json").read_text())["changes"]
    assert changes == [{"epoch": 2, "step": 2, "changed": {"lr": {"from": 0.002,
                                                                  "to": 0.0002}}}]
