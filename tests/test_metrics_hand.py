"""Every metric's default (published) definition on small cases worked out by hand.

Most cases use two binary factors on a full grid, v = (v1, v2) in {0,1}^2, each
cell repeated; the split-based metrics (DCI, SAP, explicitness) are given the grid
once as an explicit held-out set so that held-out accuracies are exact fractions.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from pyro_vaes.analysis.metrics import (
    beta_vae_score,
    dci,
    explicitness,
    factor_vae_score,
    gaussian_total_correlation,
    irs,
    mean_pairwise_mutual_information,
    mig,
    modularity,
    modularity_from_mutual_information,
    sap,
    sap_scores,
)
from pyro_vaes.analysis.metrics.dci import scores_from_importance

CELLS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
GRID = np.tile(CELLS, (25, 1))           # 100 points, every cell 25 times
V1, V2 = GRID[:, 0].astype(float), GRID[:, 1].astype(float)
HELD_OUT = (CELLS.astype(float), CELLS)  # each cell once
LOG2 = math.log(2)


def codes(*columns: np.ndarray) -> np.ndarray:
    return np.stack(columns, axis=1).astype(float)


IDENTITY = codes(V1, V2)
SWAPPED = codes(V2, V1)
CONSTANT = np.zeros((GRID.shape[0], 2))


def held_out(*columns_of_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.stack(columns_of_cells, axis=1).astype(float), CELLS


C1, C2 = CELLS[:, 0].astype(float), CELLS[:, 1].astype(float)


# --- MIG ------------------------------------------------------------------------------------

def test_mig_by_hand() -> None:
    # I(z_k; v_k) = H(v_k) = log 2 and I(z_j; v_k) = 0 for j != k on a full grid: gaps 1.
    assert mig(IDENTITY, GRID) == pytest.approx(1.0, abs=1e-12)
    assert mig(SWAPPED, GRID) == pytest.approx(1.0, abs=1e-12)
    assert mig(CONSTANT, GRID) == 0.0
    # z = (v1, v1): both latents share I = log 2 with v1, none with v2: gaps 0.
    assert mig(codes(V1, V1), GRID) == 0.0


# --- DCI ------------------------------------------------------------------------------------

def test_dci_uses_the_reference_classifier() -> None:
    # Column k of R is the importance vector of sklearn's GradientBoostingClassifier() with its
    # defaults (100 stages of depth-3 trees), fitted on the training points.
    rng = np.random.default_rng(0)
    factors = np.array(list(itertools.product(range(3), range(4)))).repeat(5, axis=0)
    rep = factors @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(factors.shape[0], 3))
    scores = dci(rep, factors, test=(rep, factors))
    for k in range(2):
        reference = GradientBoostingClassifier(random_state=0).fit(rep, factors[:, k])
        np.testing.assert_allclose(scores.importance[:, k], reference.feature_importances_,
                                   atol=1e-12)


def test_dci_by_hand() -> None:
    # Identity or swapped: each factor's trees split on its own latent only (the other one
    # brings no impurity decrease), R is a permutation matrix: D = C = I = 1.
    for rep, test, importance in ((IDENTITY, held_out(C1, C2), np.eye(2)),
                                  (SWAPPED, held_out(C2, C1), np.eye(2)[::-1])):
        scores = dci(rep, GRID, test=test)
        np.testing.assert_allclose(scores.importance, importance, atol=1e-12)
        assert (scores.disentanglement, scores.completeness, scores.informativeness) == \
            pytest.approx((1.0, 1.0, 1.0), abs=1e-12)
    # One latent carries both factors, z = (v1 + 2 v2, 0): R = [[1, 1], [0, 0]]. The used
    # latent is split evenly between two factors, D = 1 - log_2(2) = 0; each factor relies on
    # one latent, C = 1; both are read perfectly, I = 1.
    scores = dci(codes(V1 + 2 * V2, np.zeros_like(V1)), GRID,
                 test=held_out(C1 + 2 * C2, np.zeros(4)))
    np.testing.assert_allclose(scores.importance, [[1.0, 1.0], [0.0, 0.0]], atol=1e-12)
    assert (scores.disentanglement, scores.completeness, scores.informativeness) == \
        pytest.approx((0.0, 1.0, 1.0), abs=1e-12)
    # Constant code: no tree splits, R = 0, D = C = 0; the classifier predicts the first of
    # two equally frequent levels, right on half of the balanced held-out grid.
    scores = dci(CONSTANT, GRID, test=held_out(np.zeros(4), np.zeros(4)))
    assert (scores.disentanglement, scores.completeness, scores.informativeness) == (0, 0, 0.5)


def test_dci_completeness_weighted_by_factor_importance() -> None:
    # R = [[1/2, 0], [1/2, 0], [0, 1]]: factor 1 spread over two of three latents,
    # C_1 = 1 - log_3 2; factor 2 on one latent, C_2 = 1; equal factor weights 1/2 each.
    # Every latent serves one factor: D = 1.
    d, c = scores_from_importance(np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]]))
    assert d == pytest.approx(1.0)
    assert c == pytest.approx(1.0 - 0.5 * math.log(2) / math.log(3))
    # A factor no tree could use (zero column) weighs 0 in the reference's completeness and
    # counts as 0 in the plain mean: R = [[1, 0], [0, 0]] gives C = 1 against 1/2.
    assert scores_from_importance(np.array([[1.0, 0.0], [0.0, 0.0]])) == (1.0, 1.0)
    assert scores_from_importance(np.array([[1.0, 0.0], [0.0, 0.0]]), "mean") == (1.0, 0.5)
    # Unequal factor weights (column sums 2 and 1): C = 2/3 * 1 + 1/3 * (1 - log_3 2).
    _, c = scores_from_importance(np.array([[2.0, 0.0], [0.0, 0.5], [0.0, 0.5]]))
    assert c == pytest.approx(2 / 3 + (1 - math.log(2) / math.log(3)) / 3)


# --- SAP ------------------------------------------------------------------------------------

def test_sap_by_hand() -> None:
    # A one-feature linear SVM on z = v_k (balanced classes, squared hinge, C = 0.01) has
    # w > 0 > b with w + b > 0 (stationarity of the primal), so it is always right: S_kk = 1.
    # On a latent independent of v_k over the grid any prediction is a function of that
    # latent and is right on exactly half of the balanced held-out grid: S_jk = 1/2.
    scores = sap_scores(IDENTITY, GRID, test=held_out(C1, C2))
    np.testing.assert_array_equal(scores.predictability, [[1.0, 0.5], [0.5, 1.0]])
    assert scores.score == 0.5
    assert sap(SWAPPED, GRID, test=held_out(C2, C1)) == 0.5
    # z = (v1, v1): both latents read v1 (gap 0) and neither reads v2 (gap 0).
    assert sap(codes(V1, V1), GRID, test=held_out(C1, C1)) == 0.0
    # z = (v1, v1 xor v2): v1 gap 1 - 1/2, v2 gap 1/2 - 1/2 (xor is independent of v2).
    xor = np.logical_xor(V1, V2).astype(float)
    assert sap(codes(V1, xor), GRID, test=held_out(C1, np.logical_xor(C1, C2))) == 0.25
    assert sap(CONSTANT, GRID, test=held_out(np.zeros(4), np.zeros(4))) == 0.0


def test_sap_exact_identity_of_four_factors_matches_the_reference_value() -> None:
    # Raw one-latent SVM accuracies cannot reach 1 for factors of 5-8 levels; on the exact
    # identity of the 5x6x7x8 grid disentanglement_lib's SAP is 0.312 (the project's binned
    # variant gives 1.000).
    factors = np.array(list(itertools.product(*[range(n) for n in (5, 6, 7, 8)])))
    assert sap(factors.astype(float), factors) == pytest.approx(0.312, abs=0.002)
    assert sap(factors.astype(float), factors, classifier="binned") == pytest.approx(1.0)


# --- FactorVAE ------------------------------------------------------------------------------

def test_factor_vae_by_hand() -> None:
    # The fixed factor's latent has zero variance in the batch and the other one positive
    # variance (a batch of 64 with a single level of the other factor has probability 2^-63):
    # every vote is right.
    assert factor_vae_score(IDENTITY, GRID) == 1.0
    assert factor_vae_score(SWAPPED, GRID) == 1.0
    # Duplicated latents are not penalised: the vote goes to either copy.
    assert factor_vae_score(codes(V1, V1, V2), GRID) == 1.0
    assert factor_vae_score(CONSTANT, GRID) == 0.0


def test_factor_vae_prunes_on_standard_deviation() -> None:
    # z1 = 0.3 v1 has standard deviation 0.15 (variance 0.0225): kept by the reference's rule
    # std >= 0.05, so the code is perfect. The earlier variant (variance > 0.05) drops it,
    # every vote goes to z2 and only the votes of one factor are right: about 1/2.
    rep = codes(0.3 * V1, V2)
    assert factor_vae_score(rep, GRID) == 1.0
    assert abs(factor_vae_score(rep, GRID, prune="variance") - 0.5) < 0.05
    # std 0.04 < 0.05: pruned by the reference's rule too.
    assert abs(factor_vae_score(codes(0.08 * V1, V2), GRID) - 0.5) < 0.05
    # Every latent below the threshold scores 0, however informative.
    assert factor_vae_score(0.01 * IDENTITY, GRID) == 0.0


# --- beta-VAE -------------------------------------------------------------------------------

def test_beta_vae_by_hand() -> None:
    # Features: 0 for the fixed factor's latent, the share of differing pairs (about 1/2) for
    # the other one; the classes are linearly separable by a wide margin.
    assert beta_vae_score(IDENTITY, GRID) == 1.0
    assert beta_vae_score(SWAPPED, GRID) == 1.0
    assert beta_vae_score(codes(V1, V1, V2), GRID) == 1.0
    # Constant code: every feature is 0, the classifier predicts its most frequent training
    # class, right on about half of 5000 evaluation examples (chance, not 0, as in the
    # reference).
    assert abs(beta_vae_score(CONSTANT, GRID) - 0.5) < 0.03


# --- modularity and explicitness ------------------------------------------------------------

def test_modularity_by_hand() -> None:
    # Identity: each latent has MI log 2 with one factor and 0 with the other: 1 per latent.
    assert modularity(IDENTITY, GRID) == pytest.approx(1.0)
    assert modularity(SWAPPED, GRID) == pytest.approx(1.0)
    assert modularity(CONSTANT, GRID) == 0.0
    # Duplicates are not penalised: each copy still depends on one factor.
    assert modularity(codes(V1, V1, V2), GRID) == pytest.approx(1.0)
    # z2 = v1 AND v2 has I(z2; v1) = I(z2; v2) = a > 0: delta = a^2 / a^2 = 1, so 0; z1 = v1
    # scores 1. Modularity 1/2.
    assert modularity(codes(V1, np.logical_and(V1, V2)), GRID) == pytest.approx(0.5)
    # Three binary factors; z1 = v1 + 2 v2 has MI (log 2, log 2, 0): delta = 1 / (1 * 2),
    # 1 - delta = 1/2; z2 = v3 scores 1. Modularity 3/4.
    grid3 = np.array(list(itertools.product(range(2), repeat=3))).repeat(3, axis=0)
    rep = codes(grid3[:, 0] + 2 * grid3[:, 1], grid3[:, 2])
    assert modularity(rep, grid3) == pytest.approx(0.75)
    assert modularity_from_mutual_information(np.array([[LOG2, 0.0, 0.0]])) == 1.0


def test_explicitness_by_hand() -> None:
    # Identity: the predicted probability of each level orders the held-out points perfectly.
    assert explicitness(IDENTITY, GRID, test=held_out(C1, C2)) == pytest.approx(1.0)
    assert explicitness(SWAPPED, GRID, test=held_out(C2, C1)) == pytest.approx(1.0)
    # Constant code: constant probabilities, ROC-AUC 1/2 for every level.
    assert explicitness(CONSTANT, GRID, test=held_out(np.zeros(4), np.zeros(4))) == 0.5
    # One latent z = v1 + 2 v2 in {0, 1, 2, 3}. v2 = [z >= 2] is monotone in z: AUC 1. v1 is
    # z mod 2: the fitted probability increases with z (positives have the larger mean), so
    # of the four (positive, negative) cell pairs (1,0), (1,2), (3,0), (3,2) three are ordered
    # right: AUC 3/4. Explicitness (1 + 3/4) / 2 = 7/8.
    rep = codes(V1 + 2 * V2)
    assert explicitness(rep, GRID, test=held_out(C1 + 2 * C2)) == pytest.approx(0.875)


# --- IRS ------------------------------------------------------------------------------------

def test_irs_by_hand() -> None:
    # Identity: fixing v_k fixes z_k (deviation 0, IRS_kk = 1).
    assert irs(IDENTITY, GRID) == pytest.approx(1.0)
    assert irs(SWAPPED, GRID) == pytest.approx(1.0)
    assert irs(codes(V1, V1, V2), GRID) == pytest.approx(1.0)  # duplicates not penalised
    assert irs(CONSTANT, GRID) == 0.0
    # z1 = v1 + 2 v2 (z2 constant, dropped). Max deviation from the mean 1.5. Fixing v1 leaves
    # z1 in {v1, v1 + 2}: deviation 1 from the group mean, IRS 1 - 1/1.5 = 1/3; fixing v2 leaves
    # {2 v2, 2 v2 + 1}: deviation 1/2, IRS 1 - 0.5/1.5 = 2/3. IRS = max = 2/3.
    assert irs(codes(V1 + 2 * V2, np.zeros_like(V1)), GRID) == pytest.approx(2 / 3)


def test_irs_rebins_factor_levels_as_the_reference() -> None:
    # Factor 1 has 21 levels 0..20; numpy's 20 histogram bins put 19 and 20 together. For
    # z1 = v1 that group has deviation 1/2 and the other 19 groups 0: mean deviation 1/40,
    # max deviation 10, IRS_11 = 1 - 1/400. z2 = v2 (binary) has IRS 1 with max deviation 1/2.
    # IRS = (10 (1 - 1/400) + 1/2) / 10.5; with the levels as given it is 1.
    factors = np.array(list(itertools.product(range(21), range(2))))
    rep = factors.astype(float)
    assert irs(rep, factors) == pytest.approx((10 * (1 - 1 / 400) + 0.5) / 10.5, abs=1e-12)
    assert irs(rep, factors, factor_bins=None) == pytest.approx(1.0)


# --- unsupervised scores --------------------------------------------------------------------

def test_gaussian_total_correlation_by_hand() -> None:
    # Independent latents (a full grid): diagonal covariance, TC = 0.
    assert gaussian_total_correlation(IDENTITY) == pytest.approx(0.0, abs=1e-12)
    assert gaussian_total_correlation(CONSTANT) == 0.0
    # z = (x, x + y), x and y independent with equal variance: correlation 1/sqrt(2),
    # TC = -1/2 log(1 - 1/2) = 1/2 log 2.
    assert gaussian_total_correlation(codes(V1, V1 + V2)) == pytest.approx(0.5 * LOG2)
    # A constant latent is left out; exact copies make the covariance singular.
    assert gaussian_total_correlation(codes(V1, V1 + V2, np.zeros_like(V1))) == \
        pytest.approx(0.5 * LOG2)
    assert gaussian_total_correlation(codes(V1, V1)) == math.inf


def test_mean_pairwise_mutual_information_by_hand() -> None:
    assert mean_pairwise_mutual_information(IDENTITY) == pytest.approx(0.0, abs=1e-12)
    assert mean_pairwise_mutual_information(CONSTANT) == 0.0
    assert mean_pairwise_mutual_information(codes(V1, V1)) == pytest.approx(LOG2)
    # (v1, v1, v2): of the 6 ordered pairs, (1, 2) and (2, 1) share log 2.
    assert mean_pairwise_mutual_information(codes(V1, V1, V2)) == pytest.approx(LOG2 / 3)
