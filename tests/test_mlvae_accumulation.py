"""Group evidence accumulation against closed forms and numerical integration."""

from __future__ import annotations

import math

import pytest
import torch

from pyro_vaes.models.mlvae.accumulation import (
    accumulate,
    mean_of_gaussians,
    product_of_gaussians,
)

GEN = torch.Generator().manual_seed(0)
LOC = torch.randn(3, 4, 2, generator=GEN, dtype=torch.float64)
SCALE = 0.2 + torch.rand(3, 4, 2, generator=GEN, dtype=torch.float64)
MASK = torch.tensor([[True, True, True, True],
                     [True, True, False, False],
                     [True, False, False, False]])


def test_product_matches_the_explicit_formula():
    loc, scale = product_of_gaussians(LOC, SCALE, MASK)
    for g in range(3):
        for d in range(2):
            members = [i for i in range(4) if MASK[g, i]]
            precision = sum(1 / float(SCALE[g, i, d]) ** 2 for i in members)
            mean = sum(float(LOC[g, i, d]) / float(SCALE[g, i, d]) ** 2 for i in members)
            assert float(loc[g, d]) == pytest.approx(mean / precision, rel=1e-12)
            assert float(scale[g, d]) == pytest.approx(precision ** -0.5, rel=1e-12)


def test_product_is_the_normalised_product_density_in_one_dimension():
    mus, sigmas = [0.3, -1.2, 2.0], [0.7, 1.5, 0.9]
    grid = torch.linspace(-12, 12, 240_001, dtype=torch.float64)
    log_density = sum(-0.5 * ((grid - m) / s) ** 2 - math.log(s) for m, s in zip(mus, sigmas,
                                                                                   strict=True))
    density = torch.exp(log_density - log_density.max())
    density = density / torch.trapezoid(density, grid)          # numerical normalisation
    mean = torch.trapezoid(grid * density, grid)
    variance = torch.trapezoid((grid - mean) ** 2 * density, grid)
    loc, scale = product_of_gaussians(torch.tensor(mus, dtype=torch.float64).reshape(1, 3, 1),
                                      torch.tensor(sigmas, dtype=torch.float64).reshape(1, 3, 1),
                                      torch.ones(1, 3, dtype=torch.bool))
    assert float(loc) == pytest.approx(float(mean), abs=1e-8)
    assert float(scale) ** 2 == pytest.approx(float(variance), abs=1e-8)


def test_mean_accumulation_averages_means_and_variances():
    loc, scale = mean_of_gaussians(LOC, SCALE, MASK)
    for g, n in enumerate([4, 2, 1]):
        assert torch.allclose(loc[g], LOC[g, :n].mean(0))
        assert torch.allclose(scale[g] ** 2, (SCALE[g, :n] ** 2).mean(0))


@pytest.mark.parametrize("kind", ["product", "mean"])
def test_padded_members_change_nothing_whatever_they_hold(kind):
    garbage_loc, garbage_scale = LOC.clone(), SCALE.clone()
    garbage_loc[~MASK] = float("nan")
    garbage_scale[~MASK] = 0.0                                   # would be infinite precision
    padded = accumulate(kind, garbage_loc, garbage_scale, MASK)
    for g, n in enumerate([4, 2, 1]):
        alone = accumulate(kind, LOC[g:g + 1, :n], SCALE[g:g + 1, :n],
                           torch.ones(1, n, dtype=torch.bool))
        assert torch.allclose(padded[0][g], alone[0][0])
        assert torch.allclose(padded[1][g], alone[1][0])


@pytest.mark.parametrize("kind", ["product", "mean"])
def test_a_group_of_one_keeps_its_members_gaussian(kind):
    loc, scale = accumulate(kind, LOC[:, :1], SCALE[:, :1], torch.ones(3, 1, dtype=torch.bool))
    assert torch.allclose(loc, LOC[:, 0]) and torch.allclose(scale, SCALE[:, 0])


@pytest.mark.parametrize("kind", ["product", "mean"])
def test_gradients_reach_every_present_member_and_no_padded_one(kind):
    loc = LOC.clone().requires_grad_()
    scale = SCALE.clone().requires_grad_()
    mean, std = accumulate(kind, loc, scale, MASK)
    (mean.sum() + std.sum()).backward()
    for grad in (loc.grad, scale.grad):
        assert torch.isfinite(grad).all()
        assert torch.all(grad[MASK].abs().sum(-1) > 0)
        assert torch.all(grad[~MASK] == 0)
