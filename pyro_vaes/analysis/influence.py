"""Influential factors of any trained model, and their uses.

A *factor* is one dimension of one Gaussian latent site of the model's guide
(``("z", 3)``, ``("z_s", 0)``, ``("c", 2)`` ...). Factors are ranked by the
mixture estimate of I(x; z_j) over a data set (see
:mod:`pyro_vaes.analysis.mutual_information`); a factor is influential above a
threshold in nats (default 0.5) or among the top k. The uses follow the
influential-factors paper: traverse only the influential factors, reconstruct
keeping the top-k factors (the others at the prior mean), and classify from the
top-k factors as k grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from pyro_vaes.analysis.latent_priors import prior_kls_of
from pyro_vaes.analysis.latent_sites import (
    LatentSite,
    decode_latents,
    gaussian_latents,
    gaussian_latents_of,
    prior_means,
)
from pyro_vaes.analysis.mutual_information import (
    MutualInformationReport,
    mutual_information_report,
)
from pyro_vaes.analysis.probes import linear_probe_accuracy
from pyro_vaes.errors import ConfigError

Factor = tuple[str, int]


@dataclass
class LatentAnalysis:
    """Per-site latents of a data set and their mutual-information reports."""

    sites: dict[str, LatentSite]
    reports: dict[str, MutualInformationReport]
    prior_kls: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)

    def factors(self) -> list[Factor]:
        """Every factor, in site order."""
        return [(name, j) for name, site in self.sites.items() for j in range(site.dim)]

    def ranking(self) -> list[Factor]:
        """Every factor sorted by decreasing mixture mutual information."""
        return sorted(self.factors(), key=lambda f: -float(self.reports[f[0]].mixture[f[1]]))

    def influential(self, threshold_nats: float = 0.5, top_k: int | None = None) -> list[Factor]:
        """Factors with mixture MI above the threshold (or the top k), most informative first."""
        ranked = self.ranking()
        if top_k is not None:
            return ranked[:top_k]
        return [f for f in ranked if float(self.reports[f[0]].mixture[f[1]]) > threshold_nats]

    def rows(self) -> list[dict[str, Any]]:
        """One row per factor: the estimates side by side. ``kl_to_prior`` is against the
        model's own prior of the factor (labels summed out), ``kl_to_prior_given_label``
        against its prior at the image's label (None where the prior has no label), and
        ``kl_to_standard_normal`` against N(0, 1) (see :mod:`.latent_priors`)."""
        out = []
        for name, j in self.factors():
            report = self.reports[name]
            kls = self.prior_kls.get(name, {})
            given = kls.get("kl_to_prior_given_label")
            out.append({"site": name, "dim": j,
                        "mi_mixture": float(report.mixture[j]),
                        "mi_moment_matched": float(report.moment_matched[j]),
                        "kl_to_prior": float(kls["kl_to_prior"][j]) if kls else None,
                        "kl_to_prior_given_label": None if given is None else float(given[j]),
                        "kl_to_standard_normal": float(report.kl_to_standard_normal[j]),
                        "posterior_mean_variance": float(report.posterior_mean_variance[j]),
                        "active": bool(report.active[j])})
        return out

    def representation(self, factors: list[Factor] | None = None) -> torch.Tensor:
        """Posterior means of the given factors (default all), (N, len(factors))."""
        factors = self.factors() if factors is None else factors
        if not factors:
            return torch.zeros(next(iter(self.sites.values())).loc.shape[0], 0)
        return torch.stack([self.sites[s].loc[:, j] for s, j in factors], dim=1)


def analyse_latents(model: torch.nn.Module, dataset: Any, *, limit: int | None = 10_000,
                    num_samples: int = 1, seed: int = 0, kl_samples: int = 16,
                    device: torch.device | str = "cpu") -> LatentAnalysis:
    """Encode (up to ``limit`` images of) a data set and estimate I(x; z_j) per factor, and
    the KL of each factor to the model's prior (``kl_samples`` Monte Carlo draws per image
    where that prior is a mixture; at the images' labels too where the prior has one)."""
    sites = gaussian_latents_of(model, dataset, limit=limit, device=device)
    if not sites:
        raise ConfigError("the model's guide has no Gaussian latent site to analyse "
                          "(a flow guide is not Gaussian); train with --guide diagonal")
    generator = torch.Generator().manual_seed(seed)
    reports = {name: mutual_information_report(site.loc.double(), site.scale.double(),
                                               num_samples=num_samples, generator=generator)
               for name, site in sites.items()}
    kind = model.label_kind
    labels = None
    if kind is not None:
        labels = dataset.attributes if kind == "attributes" else dataset.targets
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        prior_kls = prior_kls_of(model, dataset, labels=labels, limit=limit,
                                 num_samples=kl_samples, generator=generator, device=device)
    return LatentAnalysis(sites, reports, prior_kls)


@torch.no_grad()
def traverse_factors(model: torch.nn.Module, x: torch.Tensor, factors: list[Factor],
                     ranges: dict[Factor, tuple[float, float]], steps: int) -> torch.Tensor:
    """For each image and factor, decode ``steps`` values of that factor swept over its range
    with every other latent at the image's posterior mean.

    Returns (B, len(factors), steps, C, H, W).
    """
    base = {name: site.loc for name, site in gaussian_latents(model, x).items()}
    rows = []
    for factor in factors:
        site, j = factor
        low, high = ranges[factor]
        row = []
        for value in torch.linspace(low, high, steps).tolist():
            values = {k: v.clone() for k, v in base.items()}
            values[site][:, j] = value
            row.append(decode_latents(model, x, values))
        rows.append(torch.stack(row, dim=1))
    return torch.stack(rows, dim=1)


def factor_ranges(analysis: LatentAnalysis, factors: list[Factor],
                  quantiles: tuple[float, float] = (0.02, 0.98)
                  ) -> dict[Factor, tuple[float, float]]:
    """Sweep range of each factor: quantiles of its posterior means over the data set."""
    q = torch.tensor(quantiles, dtype=torch.float64)
    out = {}
    for site, j in factors:
        low, high = torch.quantile(analysis.sites[site].loc[:, j].double(), q).tolist()
        out[(site, j)] = (low, high)
    return out


@torch.no_grad()
def pruned_reconstructions(model: torch.nn.Module, x: torch.Tensor, ranking: list[Factor],
                           ks: list[int]) -> torch.Tensor:
    """Reconstructions keeping the top-k factors of ``ranking`` at the posterior mean and all
    others at the model's prior mean, for each k. Returns (len(ks), B, C, H, W)."""
    posterior = {name: site.loc for name, site in gaussian_latents(model, x).items()}
    prior = prior_means(model, x, list(posterior))
    out = []
    for k in ks:
        kept = set(ranking[:k])
        values = {}
        for name, loc in posterior.items():
            keep = torch.tensor([(name, j) in kept for j in range(loc.shape[1])])
            values[name] = torch.where(keep, loc, prior[name])
        out.append(decode_latents(model, x, values))
    return torch.stack(out)


def accuracy_versus_kept(train: LatentAnalysis, test: LatentAnalysis, train_labels: torch.Tensor,
                         test_labels: torch.Tensor, ks: list[int], *, seed: int = 0
                         ) -> list[dict[str, float]]:
    """Linear-probe test accuracy from the top-k factors (by mixture MI on the training set),
    beside the bottom-k factors as the contrast, for each k."""
    ranking = train.ranking()
    rows = []
    for k in ks:
        row = {"k": k}
        for label, chosen in (("top", ranking[:k]), ("bottom", ranking[::-1][:k])):
            row[f"accuracy_{label}_k"] = linear_probe_accuracy(
                train.representation(chosen), train_labels, test.representation(chosen),
                test_labels, seed=seed)
        rows.append(row)
    return rows


def default_ks(num_factors: int) -> list[int]:
    """1, 2, 4, ... up to the number of factors (always included)."""
    ks, k = [], 1
    while k < num_factors:
        ks.append(k)
        k *= 2
    return ks + [num_factors]
