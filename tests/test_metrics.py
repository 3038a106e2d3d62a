"""Sanity checks of the disentanglement metrics on a full factorial grid of factors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from pyro_vaes.analysis import (
    beta_vae_score,
    dci,
    dci_disentanglement,
    factor_vae_score,
    mig,
    mig_continuous,
    mig_continuous_scores,
    mig_scores,
    sap,
)
from pyro_vaes.analysis.metrics.dci import scores_from_importance
from pyro_vaes.errors import DataError

LEVELS = (5, 6, 7, 8)
NUM_FACTORS = len(LEVELS)
CHANCE = 1.0 / NUM_FACTORS


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    """Every combination of 4 factors with 5, 6, 7 and 8 levels: 1680 rows."""
    return np.array(list(itertools.product(*[range(n) for n in LEVELS])))


@pytest.fixture(scope="module")
def representations(factors: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    num_points = factors.shape[0]
    return {
        "identity": factors + 0.01 * rng.normal(size=factors.shape),
        "constant": np.zeros((num_points, NUM_FACTORS)),
        "duplicated": np.repeat(factors, 2, axis=1).astype(np.float64),
        "noise": rng.normal(size=(num_points, 6)),
    }


def test_mig_hand_computed() -> None:
    # v1 = [0,0,1,1], v2 = [0,1,0,1]; z1 = v1 and z2 = v1 AND v2; two bins split at 0.5.
    # I(z1; v1) = log 2, I(z1; v2) = 0, H(v1) = H(v2) = log 2.
    # I(z2; v1) = H(z2) - H(z2 | v1) = H(3/4, 1/4) - 1/2 log 2 = 3/2 log 2 - 3/4 log 3 =: a,
    # and I(z2; v2) = a by symmetry. Gaps: v1 (log 2 - a) / log 2 = 3/4 log2(3) - 1/2,
    # v2 (a - 0) / log 2 = 3/2 - 3/4 log2(3); MIG = their mean = 1/2.
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    latents = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    scores = mig_scores(latents, factors, num_bins=2)
    a = 1.5 * math.log(2) - 0.75 * math.log(3)
    np.testing.assert_allclose(scores.mutual_information, [[math.log(2), 0.0], [a, a]],
                               atol=1e-12)
    np.testing.assert_allclose(scores.gaps, [0.75 * math.log2(3) - 0.5,
                                             1.5 - 0.75 * math.log2(3)], atol=1e-12)
    assert scores.score == pytest.approx(0.5, abs=1e-12)


def test_identity_scores_near_one(factors: np.ndarray,
                                  representations: dict[str, np.ndarray]) -> None:
    rep = representations["identity"]
    assert mig(rep, factors) > 0.95
    assert mig_continuous(rep, np.full(rep.shape, 0.05), factors) > 0.95
    assert sap(rep, factors) > 0.95
    scores = dci(rep, factors)
    assert min(scores.disentanglement, scores.completeness, scores.informativeness) > 0.9
    assert factor_vae_score(rep, factors) > 0.95
    assert beta_vae_score(rep, factors) > 0.95


def test_constant_scores_zero_or_chance(factors: np.ndarray,
                                        representations: dict[str, np.ndarray]) -> None:
    rep = representations["constant"]
    assert mig(rep, factors) == 0.0
    assert mig_continuous(rep, np.ones(rep.shape), factors) == pytest.approx(0.0, abs=1e-9)
    assert sap(rep, factors) == 0.0
    scores = dci(rep, factors)
    assert scores.disentanglement == 0.0 and scores.completeness == 0.0
    assert scores.informativeness < 1.0 / min(LEVELS) + 0.05
    assert factor_vae_score(rep, factors) <= CHANCE + 0.1
    assert beta_vae_score(rep, factors) <= CHANCE + 0.1


def test_duplicated_latents_have_no_gap(factors: np.ndarray,
                                        representations: dict[str, np.ndarray]) -> None:
    rep = representations["duplicated"]
    assert mig(rep, factors) < 0.01
    assert mig_continuous(rep, np.full(rep.shape, 0.05), factors) < 0.05
    assert sap(rep, factors) < 0.01


def test_noise_scores_low(factors: np.ndarray,
                          representations: dict[str, np.ndarray]) -> None:
    rep = representations["noise"]
    assert mig(rep, factors) < 0.05
    assert mig_continuous(rep, np.full(rep.shape, 0.5), factors) < 0.05
    assert sap(rep, factors) < 0.1
    assert dci_disentanglement(rep, factors) < 0.1
    assert factor_vae_score(rep, factors) <= CHANCE + 0.15
    assert beta_vae_score(rep, factors) <= CHANCE + 0.15


def test_mig_continuous_matrix_for_identity(factors: np.ndarray) -> None:
    # Levels 20 encoder sigmas apart: I(z_k; v_k) = H(v_k) = log(levels); on a full grid
    # the mixture of the points sharing v_k's level has the same z_j composition as the
    # aggregate for j != k, so those estimates are exactly 0.
    loc = torch.as_tensor(factors, dtype=torch.float64)
    scores = mig_continuous_scores(loc, torch.full(loc.shape, 0.05), factors, seed=1)
    np.testing.assert_allclose(np.diag(scores.mutual_information), np.log(LEVELS), atol=1e-6)
    off_diagonal = scores.mutual_information[~np.eye(NUM_FACTORS, dtype=bool)]
    assert np.abs(off_diagonal).max() < 1e-9


def test_dci_from_importance_by_hand() -> None:
    # One latent per factor: D = C = 1. One latent shared evenly by two factors: D = 0, and
    # each factor relies on one latent only, so C = 1.
    assert scores_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0))
    assert scores_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]])) == pytest.approx((0.0, 1.0))
    assert scores_from_importance(np.zeros((2, 2))) == (0.0, 0.0)


def test_seeded(factors: np.ndarray, representations: dict[str, np.ndarray]) -> None:
    rep = representations["noise"]
    assert factor_vae_score(rep, factors, seed=3) == factor_vae_score(rep, factors, seed=3)
    assert beta_vae_score(rep, factors, seed=3) == beta_vae_score(rep, factors, seed=3)
    assert sap(rep, factors, seed=3) == sap(rep, factors, seed=3)


def test_accepts_tensors_and_refuses_bad_shapes(factors: np.ndarray) -> None:
    rep = torch.as_tensor(factors, dtype=torch.float32)
    assert mig(rep, torch.as_tensor(factors)) > 0.95
    with pytest.raises(DataError):
        mig(rep[:-1], factors)
    with pytest.raises(DataError):
        sap(rep, -factors)
    with pytest.raises(DataError):
        factor_vae_score(rep, factors[:, :1])
