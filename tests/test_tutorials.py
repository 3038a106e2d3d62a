"""The tutorials in docs/tutorials run, and what they train learned something."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

TUTORIALS = ("vae", "m2", "ccvae", "mlvae", "parted")


@pytest.mark.slow
@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs(tmp_path, name):
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "tutorials" / f"{name}.py"),
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT),
                                            "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / f"{name}-model.svg").stat().st_size > 0
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert math.isfinite(summary["test_elbo"])
    if "test_accuracy" in summary:                   # 200 labels: far above chance (0.1)
        assert summary["test_accuracy"] > 0.5, summary
    else:                                            # unsupervised: some latent is used
        assert max(summary["mutual_information"]) > 0.5, summary
    images = list(tmp_path.glob("*.png")) + list((tmp_path / "interventions").glob("*.png"))
    assert images
