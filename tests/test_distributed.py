"""Data-parallel training in real torchrun processes (gloo on CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from tests.conftest import ROOT


def _torchrun(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


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
