"""`pyro-vaes analyze metrics RUN [--metrics NAMES]`: all metrics by default, a selection on
request, and a one-line error for an unknown name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pyro_vaes.analysis.disentanglement import METRICS, score_codes, select_metrics
from pyro_vaes.errors import ConfigError
from tests.conftest import run_cli

ALL_KEYS = ["mig_continuous", "mig_binned", "dci_disentanglement", "dci_completeness",
            "dci_informativeness", "sap", "factor_vae_score", "beta_vae_score", "modularity",
            "explicitness", "irs", "gaussian_total_correlation", "mutual_info_score"]


def test_select_metrics() -> None:
    assert select_metrics(None) == list(METRICS)
    assert select_metrics(["irs,sap", " mig_binned ", "sap"]) == ["mig_binned", "sap", "irs"]
    with pytest.raises(ConfigError, match="unknown metric 'mig'; choose from mig_continuous"):
        select_metrics(["sap,mig"])


def test_score_codes_reports_every_metric() -> None:
    factors = torch.cartesian_prod(torch.arange(3), torch.arange(4)).repeat(10, 1)
    loc = factors.double() + 0.01 * torch.randn(factors.shape, dtype=torch.float64)
    scores = score_codes(loc, torch.full(loc.shape, 0.01), factors,
                         metrics=[n for n in METRICS if n != "dci"])
    assert list(scores) == [k for k in ALL_KEYS if not k.startswith("dci")]
    assert scores["mig_binned"] > 0.9 and scores["irs"] > 0.9
    # The unsupervised scores see one sample per point: independent factors, small scale.
    assert scores["gaussian_total_correlation"] < 0.01
    sampled = score_codes(loc, torch.full(loc.shape, 0.01), factors, seed=1,
                          metrics=["gaussian_total_correlation"])
    assert sampled["gaussian_total_correlation"] != scores["gaussian_total_correlation"]
    assert np.isfinite(list(scores.values())).all()


def test_unknown_metric_is_refused_before_anything_is_read(tmp_path) -> None:
    result = run_cli("analyze", "metrics", str(tmp_path / "no-such-run"), "--metrics", "sap,foo")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: unknown metric 'foo'; choose from " + ", ".join(METRICS)]


@pytest.mark.slow
def test_metrics_selection_on_a_trained_run(tmp_path) -> None:
    run = tmp_path / "shapes"
    result = run_cli("train", "vae", "--data", "shapes-small", "--out", str(run), "--epochs",
                     "1", "--latent-dim", "4", "--max-train", "300")
    assert result.returncode == 0, result.stderr
    result = run_cli("analyze", "metrics", str(run), "--limit", "200", "--metrics", "irs,sap",
                     "--metrics", "gaussian_total_correlation")
    assert result.returncode == 0, result.stderr
    scores = json.loads((run / "analysis" / "metrics-test.json").read_text())
    assert list(scores) == ["latents", "points", "sap", "irs", "gaussian_total_correlation"]
    assert 0.0 <= scores["sap"] <= 1.0 and 0.0 <= scores["irs"] <= 1.0
    assert scores["gaussian_total_correlation"] >= 0.0
    result = run_cli("analyze", "metrics", str(run), "--limit", "200", "--metrics", "nope")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert json.loads((run / "analysis" / "metrics-test.json").read_text()) == scores
