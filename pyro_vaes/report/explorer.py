"""The latent explorer's data: for a strip of test images, every dimension of every Gaussian
latent site swept through precomputed decoded frames, with each dimension's mutual
information.

A frame decodes the model's own generative story with one latent dimension set to a value
and every other latent at the image's posterior mean (discrete sites at their most probable
value): :func:`pyro_vaes.analysis.latent_sites.decode_latents`, so every model (z; z_c and
z_s; content and style; u and z) is explored the same way. A dimension sweeps

- the posterior mean +/- ``span`` posterior standard deviations of the picked image
  (``steps`` evenly spaced values, the middle one the mean when ``steps`` is odd), or
- for the CCVAE's characteristic latents z_c, from the conditional prior's "label off" mode
  to its "label on" mode, extended by ``MODE_MARGIN`` prior standard deviations on each side
  (:func:`pyro_vaes.models.ccvae.interventions.traversal_values`), the same for every image.

Sliders are ordered, within each site, by the mixture estimate of I(x; z_j) over the first
``limit`` test images (:func:`pyro_vaes.analysis.influence.analyse_latents`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from pyro_vaes.analysis.influence import analyse_latents
from pyro_vaes.analysis.latent_sites import decode_latents, gaussian_latents
from pyro_vaes.errors import ConfigError
from pyro_vaes.report.content import Explorer, Factor
from pyro_vaes.report.png import image_uri

MODE_MARGIN = 1.0
"""Conditional-prior standard deviations a z_c sweep extends beyond each mode."""

POSTERIOR = "posterior mean +/- {span:g} posterior sd"
MODES = "conditional-prior modes (label off -> on) +/- {margin:g} prior sd"


def _mode_sweep(model: Any, dim: int, steps: int) -> torch.Tensor:
    from pyro_vaes.models.ccvae.interventions import traversal_values

    return traversal_values(model, dim, steps, MODE_MARGIN).cpu()


def sweep(run: Any, site: str, dim: int, loc: torch.Tensor, scale: torch.Tensor, steps: int,
          span: float) -> tuple[str, torch.Tensor]:
    """The kind of range and the (B, steps) values of one dimension for images whose
    posterior means and sds of it are ``loc`` and ``scale`` (B,)."""
    if run.model_name == "ccvae" and site == "z_c":
        values = _mode_sweep(run.model, dim, steps)
        return MODES.format(margin=MODE_MARGIN), values.expand(loc.shape[0], steps)
    offsets = torch.linspace(-span, span, steps, dtype=loc.dtype)
    return POSTERIOR.format(span=span), loc[:, None] + offsets[None, :] * scale[:, None]


def factor_name(run: Any, site: str, dim: int) -> str:
    """How a slider is labelled: ``site[dim]``, or ``z_c[label]`` for the CCVAE."""
    if run.model_name == "ccvae" and site == "z_c":
        return f"z_c[{run.model.label_space.names[dim]}]"
    return f"{site}[{dim}]"


def _image_labels(run: Any, count: int) -> list[str]:
    test = run.splits.test
    names = run.splits.class_names
    if test.targets is None:
        return [f"test {i}" for i in range(count)]
    return [f"test {i}: {names[int(test.targets[i])] if names else int(test.targets[i])}"
            for i in range(count)]


def _uris(images: torch.Tensor) -> list[str]:
    array = images.detach().float().cpu().numpy()
    return [image_uri(image) for image in array]


@torch.no_grad()
def build_explorer(run: Any, *, num_images: int, steps: int, span: float, limit: int,
                   seed: int, tick: Callable[[], None] = lambda: None) -> Explorer:
    """The explorer of the first ``num_images`` test images (``tick`` is called after the
    mutual information and after each image's frames)."""
    model = run.model.eval()
    test = run.splits.test
    count = min(num_images, len(test))
    x = test.pixels(torch.arange(count)).to(run.device)
    originals = _uris(x)
    recon = _uris(model.reconstruct(x))
    labels = _image_labels(run, count)
    try:
        analysis = analyse_latents(model, test, limit=limit, seed=seed, device=run.device)
    except ConfigError as error:
        tick()
        return Explorer(originals, labels, recon, [], [[] for _ in range(count)], steps, "",
                        0, unavailable=str(error))
    tick()
    rows = {(r["site"], r["dim"]): r for r in analysis.rows()}
    base = gaussian_latents(model, x)
    factors: list[Factor] = []
    kinds: list[str] = []
    for site, latent in base.items():
        order = sorted(range(latent.dim), key=lambda j, s=site: -rows[(s, j)]["mi_mixture"])
        for j in order:
            kind, values = sweep(run, site, j, latent.loc[:, j].cpu(), latent.scale[:, j].cpu(),
                                 steps, span)
            reset = (values - latent.loc[:, j].cpu()[:, None]).abs().argmin(1)
            row = rows[(site, j)]
            factors.append(Factor(site, j, factor_name(run, site, j), row["mi_mixture"],
                                  row["kl_to_prior"], kind, values.tolist(), reset.tolist()))
            if kind not in kinds:
                kinds.append(kind)
    frames = []
    for i in range(count):
        frames.append(_image_frames(model, x[i], base, factors, i, steps))
        tick()
    mi_images = int(next(iter(analysis.sites.values())).loc.shape[0])
    return Explorer(originals, labels, recon, factors, frames, steps, "; ".join(kinds),
                    mi_images)


def _image_frames(model: Any, x: torch.Tensor, base: dict[str, Any], factors: list[Factor],
                  i: int, steps: int) -> list[list[str]]:
    """frames[f][s] of one image: factor f set to its s-th value, the rest at the mean."""
    n = len(factors) * steps
    values = {name: latent.loc[i].expand(n, -1).clone() for name, latent in base.items()}
    for f, factor in enumerate(factors):
        rows = slice(f * steps, (f + 1) * steps)
        values[factor.site][rows, factor.dim] = torch.tensor(
            factor.values[i], dtype=values[factor.site].dtype, device=x.device)
    decoded = decode_latents(model, x.expand(n, *x.shape), values)
    uris = _uris(decoded)
    return [uris[f * steps:(f + 1) * steps] for f in range(len(factors))]
