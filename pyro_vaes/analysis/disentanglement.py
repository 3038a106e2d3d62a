"""Every disentanglement metric, by name, for a model's latents on data with known factors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from pyro_vaes.analysis.influence import LatentAnalysis
from pyro_vaes.analysis.metrics import (
    beta_vae_score,
    dci,
    explicitness,
    factor_vae_score,
    gaussian_total_correlation,
    irs,
    mean_pairwise_mutual_information,
    mig,
    mig_continuous,
    modularity,
    sap,
)
from pyro_vaes.errors import ConfigError


@dataclass
class Codes:
    """A model's codes of N points: posterior means and scales (N, D), factors (N, F)."""

    loc: torch.Tensor
    scale: torch.Tensor
    factors: torch.Tensor
    seed: int

    def sampled(self) -> torch.Tensor:
        """One draw z ~ q(z | x) per point, seeded by ``seed``."""
        generator = torch.Generator().manual_seed(self.seed)
        noise = torch.randn(self.loc.shape, generator=generator, dtype=torch.float64)
        return self.loc + self.scale * noise


def _dci(codes: Codes) -> dict[str, float]:
    scores = dci(codes.loc, codes.factors, seed=codes.seed)
    return {"dci_disentanglement": scores.disentanglement,
            "dci_completeness": scores.completeness,
            "dci_informativeness": scores.informativeness}


def _one(key: str, fn: Callable[[Codes], float]) -> Callable[[Codes], dict[str, float]]:
    return lambda codes: {key: float(fn(codes))}


METRICS: dict[str, Callable[[Codes], dict[str, float]]] = {
    "mig_continuous": _one("mig_continuous", lambda c: mig_continuous(
        c.loc, c.scale, c.factors, seed=c.seed)),
    "mig_binned": _one("mig_binned", lambda c: mig(c.loc, c.factors)),
    "dci": _dci,
    "sap": _one("sap", lambda c: sap(c.loc, c.factors, seed=c.seed)),
    "factor_vae_score": _one("factor_vae_score", lambda c: factor_vae_score(
        c.loc, c.factors, seed=c.seed)),
    "beta_vae_score": _one("beta_vae_score", lambda c: beta_vae_score(
        c.loc, c.factors, seed=c.seed)),
    "modularity": _one("modularity", lambda c: modularity(c.loc, c.factors)),
    "explicitness": _one("explicitness", lambda c: explicitness(c.loc, c.factors, seed=c.seed)),
    "irs": _one("irs", lambda c: irs(c.loc, c.factors)),
    "gaussian_total_correlation": _one("gaussian_total_correlation",
                                       lambda c: gaussian_total_correlation(c.sampled())),
    "mutual_info_score": _one("mutual_info_score",
                              lambda c: mean_pairwise_mutual_information(c.sampled())),
}
"""Metric name -> its scores from a model's codes. All but the last two are computed on the
posterior means; the unsupervised scores on one sample z ~ q(z | x) per point."""


def select_metrics(names: Iterable[str] | None) -> list[str]:
    """The metric names to compute, in registry order; every metric when ``names`` is empty.

    Each entry may hold several names separated by commas.
    """
    wanted = [part.strip() for name in (names or ()) for part in name.split(",") if part.strip()]
    unknown = [name for name in wanted if name not in METRICS]
    if unknown:
        raise ConfigError(f"unknown metric {unknown[0]!r}; choose from {', '.join(METRICS)}")
    return [name for name in METRICS if name in wanted] if wanted else list(METRICS)


def score_codes(loc: Any, scale: Any, factors: Any, *, seed: int = 0,
                metrics: Iterable[str] | None = None) -> dict[str, float]:
    """The selected metrics (all by default) of codes given as posterior means and scales."""
    names = select_metrics(metrics)
    codes = Codes(torch.as_tensor(loc).double(), torch.as_tensor(scale).double(),
                  torch.as_tensor(factors), seed)
    scores: dict[str, float] = {}
    for name in names:
        scores.update(METRICS[name](codes))
    return scores


def disentanglement_scores(analysis: LatentAnalysis, factors: torch.Tensor | None, *,
                           seed: int = 0, metrics: Iterable[str] | None = None
                           ) -> dict[str, Any]:
    """The selected metrics (all by default) of every Gaussian latent site against the true
    factors (N, F), with the numbers of latents and points."""
    names = select_metrics(metrics)
    if factors is None:
        raise ConfigError("disentanglement metrics need a data set with known factors; "
                          "train on --data shapes or shapes-small")
    sites = list(analysis.sites)
    loc = torch.cat([analysis.sites[n].loc for n in sites], dim=1).double()
    scale = torch.cat([analysis.sites[n].scale for n in sites], dim=1).double()
    scores: dict[str, Any] = {"latents": int(loc.shape[1]), "points": int(loc.shape[0])}
    scores.update(score_codes(loc, scale, factors[: loc.shape[0]], seed=seed, metrics=names))
    return scores
