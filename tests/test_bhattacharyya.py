"""The closed-form Bhattacharyya coefficient against numerical integration, and the hinge."""

from __future__ import annotations

import math

import pytest
import torch

from pyro_vaes.inference.bhattacharyya import (
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    bhattacharyya_hinge,
    pairwise_bhattacharyya,
    upper_pairs,
)


def _normal_density(x: torch.Tensor, mean: float, var: float) -> torch.Tensor:
    return torch.exp(-0.5 * (x - mean) ** 2 / var) / math.sqrt(2 * math.pi * var)


@pytest.mark.parametrize(("m1", "v1", "m2", "v2"),
                         [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.5, 1.0), (-1.0, 0.3, 2.0, 2.5),
                          (0.5, 0.05, 0.7, 4.0)])
def test_one_dimensional_coefficient_equals_the_integral_of_sqrt_pq(m1, v1, m2, v2):
    x = torch.linspace(-30, 30, 200001, dtype=torch.float64)
    integral = torch.trapezoid(torch.sqrt(_normal_density(x, m1, v1) * _normal_density(x, m2, v2)),
                               x)
    closed = bhattacharyya_coefficient(*(torch.tensor([v], dtype=torch.float64)
                                         for v in (m1, v1, m2, v2)))
    assert float(closed) == pytest.approx(float(integral), abs=1e-7)


def test_two_dimensional_diagonal_coefficient_equals_the_grid_integral():
    mean1, var1 = torch.tensor([0.3, -0.5]), torch.tensor([0.8, 1.7])
    mean2, var2 = torch.tensor([1.1, 0.4]), torch.tensor([0.4, 0.9])
    axis = torch.linspace(-12, 12, 1201, dtype=torch.float64)
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")

    def density(mean, var):
        return (_normal_density(gx, float(mean[0]), float(var[0]))
                * _normal_density(gy, float(mean[1]), float(var[1])))

    integrand = torch.sqrt(density(mean1, var1) * density(mean2, var2))
    integral = torch.trapezoid(torch.trapezoid(integrand, axis, dim=1), axis)
    closed = bhattacharyya_coefficient(mean1, var1, mean2, var2)
    assert float(closed) == pytest.approx(float(integral), abs=1e-5)
    # The diagonal coefficient factorises over dimensions.
    per_dim = bhattacharyya_coefficient(mean1[:, None], var1[:, None], mean2[:, None],
                                        var2[:, None])
    assert float(closed) == pytest.approx(float(per_dim.prod()), rel=1e-6)


def test_distance_by_hand():
    # D_B = 1/8 * 4 / 1.5 + 1/2 * (log 1.5 - 1/2 (log 1 + log 2)) in one dimension.
    expected = 4 / (8 * 1.5) + 0.5 * (math.log(1.5) - 0.5 * math.log(2.0))
    d = bhattacharyya_distance(torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([2.0]),
                               torch.tensor([2.0]))
    assert float(d) == pytest.approx(expected, rel=1e-6)


def test_pairwise_matrix_is_symmetric_with_ones_on_the_diagonal():
    generator = torch.Generator().manual_seed(0)
    means = torch.randn(5, 3, generator=generator)
    variances = torch.rand(5, 3, generator=generator) + 0.2
    matrix = pairwise_bhattacharyya(means, variances)
    assert matrix.shape == (5, 5)
    torch.testing.assert_close(matrix, matrix.T)
    torch.testing.assert_close(torch.diagonal(matrix), torch.ones(5))
    assert float(matrix[1, 3]) == pytest.approx(
        float(bhattacharyya_coefficient(means[1], variances[1], means[3], variances[3])))
    assert ((matrix > 0) & (matrix <= 1 + 1e-6)).all()
    assert upper_pairs(matrix).shape == (10,)


def test_hinge_is_zero_below_tau_and_sums_the_excess_above():
    variances = torch.ones(3, 1)
    far = torch.tensor([[0.0], [10.0], [20.0]])
    assert float(bhattacharyya_hinge(far, variances, tau=0.15)) == 0.0
    # BC between N(0,1) and N(d,1) is exp(-d^2 / 8).
    means = torch.tensor([[0.0], [1.0], [30.0]])
    expected = math.exp(-1 / 8) - 0.15
    assert float(bhattacharyya_hinge(means, variances, tau=0.15)) == pytest.approx(expected,
                                                                                    rel=1e-6)
    assert float(bhattacharyya_hinge(means, variances, tau=0.9)) == 0.0
    identical = torch.zeros(2, 4)
    assert float(bhattacharyya_hinge(identical, torch.ones(2, 4), tau=0.15)) == \
        pytest.approx(0.85)
