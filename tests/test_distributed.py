"""Data-parallel training in real torchrun processes (gloo on CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT


def _torchrun(*args: str, timeout: int = 300, fault: str | None = None
              ) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("PYRO_VAES_FAULT", None)
    if fault:
        env["PYRO_VAES_FAULT"] = fault   # test hook: see pyro_vaes/training/faults.py
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_ranks_stay_in_sync_and_learn(tmp_path):
    result = _torchrun(str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["world_size"] == rank1["world_size"] == 2
    for key, value in rank0["state_dict"].items():
        # DDP averages gradients, so the two processes take identical steps ...
        assert torch.equal(value, rank1["state_dict"][key]), key
    # ... and the parameters moved, and the loss (summed over both ranks' shards) fell.
    moved = [k for k, v in rank0["state_dict"].items()
             if not torch.equal(v, rank0["initial"][k])]
    assert moved
    assert rank0["history"][-1]["train_loss"] < rank0["history"][0]["train_loss"]
    assert rank0["history"][0]["train_loss"] == rank1["history"][0]["train_loss"]


@pytest.mark.slow
def test_cli_under_torchrun_writes_one_run_directory(tmp_path):
    out = tmp_path / "run"
    result = _torchrun("-m", "runners.cli", "train", "vae", "--epochs", "2", "--max-train",
                       "200", "--latent-dim", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 2
    assert (out / "figures" / "samples.png").exists()
    assert result.stdout.count("trained vae for 2 epochs") == 1


@pytest.mark.slow
def test_resume_under_torchrun_continues_every_rank_exactly(tmp_path):
    """Each rank draws its own Monte Carlo noise; the checkpoint keeps every rank's RNG state
    (and its share of the epoch's loss), so 2 epochs straight, 1 + resume + 1, and a run
    interrupted in the middle of epoch 2 and resumed give identical parameters."""
    args = ["-m", "runners.cli", "train", "vae", "--max-train", "200", "--latent-dim", "3",
            "--hidden-dim", "16", "--batch-size", "40", "--no-progress"]
    straight, resumed, midway = tmp_path / "straight", tmp_path / "resumed", tmp_path / "mid"
    for extra, fault, code in (
            (["--epochs", "2", "--out", str(straight)], None, 0),
            (["--epochs", "1", "--out", str(resumed)], None, 0),
            (["--epochs", "2", "--out", str(resumed), "--resume"], None, 0),
            # 5 steps per epoch: Ctrl-C after step 8 keeps step 2 of epoch 2 (checkpoint at 7)
            (["--epochs", "2", "--checkpoint-every", "7", "--out", str(midway)],
             "step:8:interrupt", None),
            (["--out", str(midway), "--resume"], None, 0)):
        result = _torchrun(*args, *extra, fault=fault)
        if code is None:   # interrupted: both ranks stopped, step 7's checkpoint kept
            assert result.returncode != 0 and "Interrupted: stopped at step 3 of epoch 2" in \
                result.stderr, result.stderr[-3000:]
            kept = torch.load(midway / "checkpoint.pt", weights_only=True)["position"]
            assert (kept["global_step"], kept["batch"]) == (7, 2)
        else:
            assert result.returncode == code, result.stderr[-3000:]
    a = torch.load(straight / "checkpoint.pt", weights_only=True)
    assert len(a["ranks"]) == 2
    # the two ranks' noise differs (else saving only rank 0's state would pass this test)
    assert not torch.equal(a["ranks"][0]["torch"], a["ranks"][1]["torch"])
    for other in (resumed, midway):
        b = torch.load(other / "checkpoint.pt", weights_only=True)
        for key, value in a["state_dict"].items():
            assert torch.equal(value, b["state_dict"][key]), (other, key)
        assert [r["train_loss"] for r in a["history"]] == [r["train_loss"]
                                                          for r in b["history"]]
