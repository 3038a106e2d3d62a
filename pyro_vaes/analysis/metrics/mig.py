"""Mutual Information Gap (Chen et al. 2018), binned and mixture-estimated variants.

MIG = mean_k [I(z_(1); v_k) - I(z_(2); v_k)] / H(v_k), where z_(1), z_(2) are the
latents with the largest and second largest mutual information with factor v_k.
Factors with a single level (H(v_k) = 0) are left out of the mean. The binned
form is disentanglement_lib's ``mig.compute_mig`` with its published
configuration (20-bin ``histogram_discretizer``); the continuous form is Chen et
al.'s mixture estimator, which the reference does not implement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pyro_vaes.analysis.metrics._discretize import (
    discrete_entropy,
    equal_width_bins,
    mutual_information_matrix,
)
from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.mutual_information import gaussian_mixture_log_density
from pyro_vaes.errors import ConfigError, DataError


@dataclass
class MIGScores:
    """MIG with its ingredients: I(z_j; v_k) (D, F), H(v_k) (F,), per-factor gaps (F,)."""

    score: float
    mutual_information: np.ndarray
    factor_entropy: np.ndarray
    gaps: np.ndarray


def _factor_entropies(factors: np.ndarray) -> np.ndarray:
    return np.array([discrete_entropy(factors[:, k]) for k in range(factors.shape[1])])


def gap_score(mutual_information: np.ndarray, factor_entropy: np.ndarray) -> MIGScores:
    """MIG from a (D, F) mutual-information matrix and the factors' entropies (nats)."""
    if not (factor_entropy > 0).any():
        raise DataError("every factor has a single level; MIG needs a factor that varies")
    top = np.sort(mutual_information, axis=0)[::-1]
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    varying = factor_entropy > 0
    gaps = np.full(factor_entropy.shape, np.nan)
    gaps[varying] = np.clip((top[0] - second)[varying] / factor_entropy[varying], 0.0, 1.0)
    return MIGScores(float(np.mean(gaps[varying])), mutual_information, factor_entropy, gaps)


def mig_scores(representation: Any, factors: Any, *, num_bins: int = 20) -> MIGScores:
    """Binned MIG: each latent cut into ``num_bins`` equal-width bins, plug-in discrete MI."""
    if num_bins < 2:
        raise ConfigError(f"num_bins must be at least 2; got {num_bins}")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    mi = mutual_information_matrix(equal_width_bins(rep, num_bins), fac)
    return gap_score(mi, _factor_entropies(fac))


def mig(representation: Any, factors: Any, *, num_bins: int = 20) -> float:
    """Binned Mutual Information Gap in [0, 1]."""
    return mig_scores(representation, factors, num_bins=num_bins).score


def _as_float64_tensor(array: Any) -> torch.Tensor:
    if isinstance(array, torch.Tensor):
        return array.detach().to(device="cpu", dtype=torch.float64)
    return torch.as_tensor(np.asarray(array, dtype=np.float64))


def mig_continuous_scores(loc: Any, scale: Any, factors: Any, *, num_samples: int = 1,
                          seed: int = 0, chunk_size: int | None = None) -> MIGScores:
    """MIG with I(z_j; v_k) = H(z_j) - H(z_j | v_k) from Gaussian-mixture aggregates.

    With z ~ q(z | x_n) (``num_samples`` per point), I(z_j; v_k) is the mean of
    log q(z_j | v_k = v_k(n)) - log q(z_j), where q(z_j | v_k = v) is the mixture of
    the encoder's Gaussians over the points with that level and q(z_j) the mixture
    over all points; negative estimates are clamped to 0.
    """
    if num_samples < 1:
        raise ConfigError(f"num_samples must be at least 1; got {num_samples}")
    loc64 = _as_float64_tensor(loc)
    scale64 = _as_float64_tensor(scale)
    as_representation(loc64)
    fac = as_factors(factors, loc64.shape[0])
    generator = torch.Generator().manual_seed(seed)
    eps = torch.randn((num_samples, *loc64.shape), generator=generator, dtype=torch.float64)
    z = (loc64 + scale64 * eps).reshape(-1, loc64.shape[1])
    log_marginal = gaussian_mixture_log_density(z, loc64, scale64, chunk_size=chunk_size)
    point_factors = torch.as_tensor(np.tile(fac, (num_samples, 1)))
    mi = np.zeros((loc64.shape[1], fac.shape[1]))
    for k in range(fac.shape[1]):
        log_cond = torch.empty_like(log_marginal)
        for level in np.unique(fac[:, k]).tolist():
            members = torch.as_tensor(np.flatnonzero(fac[:, k] == level))
            rows = point_factors[:, k] == level
            log_cond[rows] = gaussian_mixture_log_density(
                z[rows], loc64[members], scale64[members], chunk_size=chunk_size)
        mi[:, k] = (log_cond - log_marginal).mean(0).clamp_min(0.0).numpy()
    return gap_score(mi, _factor_entropies(fac))


def mig_continuous(loc: Any, scale: Any, factors: Any, *, num_samples: int = 1,
                   seed: int = 0) -> float:
    """MIG in [0, 1] with mixture-estimated I(z_j; v_k) from the encoder's loc and scale."""
    return mig_continuous_scores(loc, scale, factors, num_samples=num_samples, seed=seed).score
