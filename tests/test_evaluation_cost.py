"""Importance-weighted evaluation in bounded vectorised passes."""

from __future__ import annotations

import pytest
import torch

import pyro_vaes.inference.importance as importance
from pyro_vaes.inference.importance import samples_per_pass
from pyro_vaes.models import Batch, DataInfo, build_model


def test_samples_per_pass_bounds_the_points_of_a_pass():
    assert samples_per_pass(256, 100, 8192) == 32
    assert samples_per_pass(100, 10, 8192) == 10       # never more than K
    assert samples_per_pass(20000, 100, 8192) == 1     # at least one sample
    assert samples_per_pass(0, 5, 8192) == 5


@pytest.mark.parametrize("name", ["vae", "mlvae"])
def test_passes_are_bounded_and_do_not_change_the_estimate(monkeypatch, name):
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model(name, info, {"hidden_dim": 16}).eval()
    x = torch.rand(40, 1, 8, 8)
    if name == "mlvae":
        batches = [Batch(x.reshape(10, 4, 1, 8, 8), None, torch.ones(10, 4, dtype=torch.bool))]
    else:
        batches = [Batch(x[:25]), Batch(x[25:])]
    seen: list[int] = []
    model.decoder.register_forward_hook(
        lambda module, args, out: seen.append(args[0].reshape(-1, args[0].shape[-1]).shape[0]))
    results = {}
    for budget in (10 ** 6, 100):
        monkeypatch.setattr(importance, "POINTS_PER_PASS", budget)
        monkeypatch.setattr(samples_per_pass, "__defaults__", (budget,))
        seen.clear()
        torch.manual_seed(0)
        results[budget] = model.log_likelihood_sums(batches, num_samples=30)
        assert max(seen) <= max(budget, 40)
    (elbo_a, iw_a, n_a), (elbo_b, iw_b, n_b) = results.values()
    assert n_a == n_b == (10 if name == "mlvae" else 40)
    # Other passes draw other noise (torch's normal_ fills by blocks): equal up to Monte Carlo
    # error, below 1 % here.
    assert elbo_b == pytest.approx(elbo_a, rel=1e-2)
    assert iw_b == pytest.approx(iw_a, rel=1e-2)
    assert elbo_a < iw_a
