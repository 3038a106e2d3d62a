"""Per-latent mutual information I(x; z_j) of a Gaussian encoder, and related summaries.

For a guide q(z_j | x_n) = N(mu_nj, sigma_nj^2) over N data points the aggregate
posterior is the mixture q(z_j) = (1/N) sum_n q(z_j | x_n) and

    I(x; z_j) = E_n E_{q(z_j | x_n)} [log q(z_j | x_n) - log q(z_j)].

All functions are pure functions of ``loc`` and ``scale`` (float tensors (N, D))
and return float64 tensors of shape (D,). See ``docs/analysis.md`` for the bias
of each estimator and when to trust it.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch
from torch import Tensor

from pyro_vaes.errors import ConfigError, DataError
from pyro_vaes.process import torch_threads

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Elements of one (rows x N) float64 log-density block: 2**17 = 1 MiB, about half an L2.
_BLOCK_ELEMENTS = 2**17


def _check_gaussian(loc: Tensor, scale: Tensor) -> None:
    """Raise DataError unless loc and scale are finite (N, D) tensors with scale > 0."""
    if loc.dim() != 2 or loc.shape != scale.shape:
        raise DataError(f"loc and scale must both have shape (N, D); got {tuple(loc.shape)} "
                        f"and {tuple(scale.shape)}")
    if loc.shape[0] == 0 or loc.shape[1] == 0:
        raise DataError("loc and scale are empty; pass at least one data point and one latent")
    if not (torch.isfinite(loc).all() and torch.isfinite(scale).all()):
        raise DataError("loc and scale must be finite; drop the rows holding nan or inf")
    if not (scale > 0).all():
        raise DataError("scale must be strictly positive; clamp it, e.g. scale.clamp_min(1e-6)")


def default_chunk_size(num_components: int) -> int:
    """Rows per log-density block so that one block holds about 2**17 float64 values (1 MiB)."""
    return max(1, _BLOCK_ELEMENTS // max(1, num_components))


def _dimension_sums(feats: Tensor, coef: Tensor, out: Tensor, chunk: int) -> None:
    """out[m] = sum_n exp(feats[m] . coef[:, n]) for one latent, ``chunk`` rows at a time."""
    rows, num_points = feats.shape[0], coef.shape[1]
    block = torch.empty(min(chunk, rows), num_points, dtype=coef.dtype, device=coef.device)
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        part = block[: stop - start]
        torch.mm(feats[start:stop], coef, out=part)
        part.exp_()
        torch.sum(part, dim=1, out=out[start:stop])


def _blocked_sums(zc: Tensor, coef: Tensor, chunk: int) -> Tensor:
    """(D, M) sums of :func:`_dimension_sums`, shared out over worker threads.

    On the CPU, ``torch.get_num_threads()`` Python threads take (latent, row range)
    tasks while torch's own intra-op threading is set to 1 for the duration of the
    call (restored afterwards): independent workers degrade gracefully on a busy
    machine, where thousands of short multi-thread parallel regions stall at
    their barriers.
    """
    dims, rows = coef.shape[0], zc.shape[0]
    sums = torch.empty(dims, rows, dtype=torch.float64, device=zc.device)
    if dims == 0 or rows == 0:
        return sums
    workers = torch.get_num_threads() if zc.device.type == "cpu" else 1
    pieces = max(1, min(-(-2 * workers // dims), rows))  # rows split only when D is small
    step = -(-rows // pieces)
    tasks = [(j, start, min(start + step, rows)) for j in range(dims)
             for start in range(0, rows, step)]

    def run(task: tuple[int, int, int]) -> None:
        j, start, stop = task
        zj = zc[start:stop, j]
        feats = torch.stack([zj * zj, zj, torch.ones_like(zj)], dim=1)
        _dimension_sums(feats, coef[j], sums[j, start:stop], chunk)

    if workers <= 1:
        for task in tasks:
            run(task)
        return sums
    with torch_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, tasks))
    return sums


def gaussian_mixture_log_density(z: Tensor, loc: Tensor, scale: Tensor, *,
                                 chunk_size: int | None = None) -> Tensor:
    """log q(z_mj) of the per-dimension mixture q(z_j) = (1/N) sum_n N(loc_nj, scale_nj^2).

    ``z`` has shape (M, D); the result too (float64). Per dimension, a block of
    ``chunk_size`` rows of the (M x N) log-density matrix is one matmul of
    [z^2, z, 1] with the components' quadratic coefficients, exponentiated after
    subtracting the highest peak density (so nothing overflows) and summed, so
    extra memory is about ``chunk_size * N`` float64 values per worker thread.
    """
    _check_gaussian(loc, scale)
    if z.dim() != 2 or z.shape[1] != loc.shape[1]:
        raise DataError(f"z must have shape (M, {loc.shape[1]}); got {tuple(z.shape)}")
    num_points = loc.shape[0]
    chunk = default_chunk_size(num_points) if chunk_size is None else chunk_size
    if chunk < 1:
        raise ConfigError(f"chunk_size must be a positive integer; got {chunk}")
    chunk = min(chunk, max(z.shape[0], 1))

    loc64 = loc.detach().to(torch.float64)
    scale64 = scale.detach().to(torch.float64)
    centre = loc64.mean(0)
    mean = loc64 - centre  # centring shrinks the cancellation in the expanded square
    zc = z.detach().to(device=loc64.device, dtype=torch.float64) - centre
    log_scale = scale64.log()
    inv_var = scale64.pow(-2)
    peak = (-log_scale).amax(0)  # (D,): log of the highest peak, up to the 2*pi term
    coef = torch.stack([-0.5 * inv_var, mean * inv_var,
                        -0.5 * mean * mean * inv_var - log_scale - peak], dim=1)
    coef = coef.permute(2, 1, 0).contiguous()  # (D, 3, N)
    sums = _blocked_sums(zc, coef, chunk).T
    log_q = sums.log() + (peak - math.log(num_points) - _HALF_LOG_2PI)
    _fix_underflow(log_q, zc, mean, scale64, log_scale)
    return log_q


def _fix_underflow(log_q: Tensor, zc: Tensor, mean: Tensor, scale: Tensor,
                   log_scale: Tensor) -> None:
    """Recompute, with an exact logsumexp, the entries whose shifted sum underflowed to 0."""
    bad = torch.isneginf(log_q)
    if not bad.any():
        return
    for j in torch.nonzero(bad.any(0)).flatten().tolist():
        rows = torch.nonzero(bad[:, j]).flatten()
        diff = (zc[rows, j, None] - mean[None, :, j]) / scale[None, :, j]
        terms = -0.5 * diff * diff - log_scale[None, :, j]
        log_q[rows, j] = (torch.logsumexp(terms, dim=1) - math.log(mean.shape[0])
                          - _HALF_LOG_2PI)


def mixture_mutual_information(loc: Tensor, scale: Tensor, *, num_samples: int = 1,
                               chunk_size: int | None = None,
                               generator: torch.Generator | None = None) -> Tensor:
    """Monte Carlo I(x; z_j) against the full N-component aggregate posterior, shape (D,).

    Draws ``num_samples`` z ~ q(z | x_n) per point and averages
    log q(z_j | x_n) - log q(z_j), with log q(z_j) evaluated exactly over all N
    components in memory-bounded blocks (see :func:`gaussian_mixture_log_density`).
    """
    _check_gaussian(loc, scale)
    if num_samples < 1:
        raise ConfigError(f"num_samples must be at least 1; got {num_samples}")
    loc64 = loc.detach().to(torch.float64)
    scale64 = scale.detach().to(torch.float64)
    eps = torch.randn((num_samples, *loc64.shape), generator=generator,
                      dtype=torch.float64, device=loc64.device)
    z = (loc64 + scale64 * eps).reshape(-1, loc64.shape[1])
    log_cond = (-0.5 * eps * eps - scale64.log() - _HALF_LOG_2PI).reshape(z.shape)
    log_marginal = gaussian_mixture_log_density(z, loc64, scale64, chunk_size=chunk_size)
    return (log_cond - log_marginal).mean(0)


def moment_matched_mutual_information(loc: Tensor, scale: Tensor) -> Tensor:
    """Closed form 1/2 log mean_n(sigma^2 + mu^2) - mean_n 1/2 log sigma^2, shape (D,).

    Exact only when q(z_j) is a centred Gaussian; otherwise an over-estimate.
    """
    _check_gaussian(loc, scale)
    loc64 = loc.detach().to(torch.float64)
    scale64 = scale.detach().to(torch.float64)
    second_moment = (scale64.pow(2) + loc64.pow(2)).mean(0)
    return 0.5 * second_moment.log() - scale64.log().mean(0)


def kl_to_standard_normal(loc: Tensor, scale: Tensor) -> Tensor:
    """E_x KL(q(z_j | x) || N(0, 1)) = mean_n [(mu^2 + sigma^2 - 1) / 2 - log sigma], (D,)."""
    _check_gaussian(loc, scale)
    loc64 = loc.detach().to(torch.float64)
    scale64 = scale.detach().to(torch.float64)
    return (0.5 * (loc64.pow(2) + scale64.pow(2) - 1.0) - scale64.log()).mean(0)


def posterior_mean_variance(loc: Tensor) -> Tensor:
    """Variance over the data of each posterior mean, Var_n(mu_nj), shape (D,)."""
    if loc.dim() != 2 or loc.shape[0] == 0:
        raise DataError(f"loc must have shape (N, D) with N >= 1; got {tuple(loc.shape)}")
    return loc.detach().to(torch.float64).var(0, unbiased=False)


def format_nats(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals, never as "-0.00": a Monte Carlo estimate a hair
    below zero (the mixture estimate of an unused latent) is zero at that precision."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def active_units(loc: Tensor, threshold: float = 0.01) -> Tensor:
    """Boolean (D,): latents whose posterior mean varies over the data, Var_n(mu_nj) > threshold."""
    return posterior_mean_variance(loc) > threshold


@dataclass
class MutualInformationReport:
    """Per-latent summaries of a Gaussian encoder over a data set, each a tensor (D,)."""

    mixture: Tensor
    moment_matched: Tensor
    kl_to_standard_normal: Tensor
    posterior_mean_variance: Tensor
    active: Tensor

    def ranking(self) -> Tensor:
        """All latent indices, sorted by decreasing mixture mutual information."""
        return torch.argsort(self.mixture, descending=True, stable=True)

    def influential(self, threshold_nats: float = 0.5, top_k: int | None = None) -> Tensor:
        """Indices of latents with mixture MI above ``threshold_nats`` (or the ``top_k``
        most informative), sorted by decreasing mixture MI."""
        order = self.ranking()
        if top_k is not None:
            if top_k < 0:
                raise ConfigError(f"top_k must be non-negative; got {top_k}")
            return order[:top_k]
        return order[self.mixture[order] > threshold_nats]


def mutual_information_report(loc: Tensor, scale: Tensor, *, num_samples: int = 1,
                              generator: torch.Generator | None = None,
                              active_threshold: float = 0.01) -> MutualInformationReport:
    """All per-latent summaries of :mod:`pyro_vaes.analysis.mutual_information` at once."""
    return MutualInformationReport(
        mixture=mixture_mutual_information(loc, scale, num_samples=num_samples,
                                           generator=generator),
        moment_matched=moment_matched_mutual_information(loc, scale),
        kl_to_standard_normal=kl_to_standard_normal(loc, scale),
        posterior_mean_variance=posterior_mean_variance(loc),
        active=active_units(loc, active_threshold),
    )
