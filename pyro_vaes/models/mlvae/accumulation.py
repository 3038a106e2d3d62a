"""Group evidence accumulation: one content Gaussian from the members' Gaussians.

Every member i of a group gives a diagonal Gaussian N(mu_i, sigma_i^2) over the
content c. Padded positions (``mask`` False) contribute nothing.

- ``product`` (the ML-VAE's q(c_g | X_g) prop. to prod_i N(c; mu_i, sigma_i^2)),
  normalised::

      precision_g = sum_i 1 / sigma_i^2
      mean_g      = (sum_i mu_i / sigma_i^2) / precision_g
      sigma_g     = precision_g^(-1/2)

- ``mean`` (the comparison): the Gaussian whose mean is the average of the
  members' means and whose variance is the average of their variances::

      mean_g = (1/n) sum_i mu_i ,   sigma_g^2 = (1/n) sum_i sigma_i^2

  It is *not* the moment-matched mixture (1/n) sum_i N(mu_i, sigma_i^2), and
  unlike the product its variance does not shrink as the group grows.

Both reduce to N(mu_1, sigma_1^2) for a group of one. Everything is computed
on the live tensors, so gradients reach every encoder head.
"""

from __future__ import annotations

import torch


def _present(loc: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """0/1 weights (..., G, n, 1) and the members' loc and scale with padded entries
    replaced by 0 and 1, so that whatever a padded position holds (even NaN or inf)
    reaches neither the sums nor the gradients."""
    present = mask.unsqueeze(-1)
    weight = present.to(loc.dtype)
    return (weight, torch.where(present, loc, torch.zeros_like(loc)),
            torch.where(present, scale, torch.ones_like(scale)))


def product_of_gaussians(loc: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised product of each group's member Gaussians.

    ``loc``, ``scale``: (..., G, n, D); ``mask``: (..., G, n) bool. Returns the
    mean and standard deviation (..., G, D).
    """
    weight, loc, scale = _present(loc, scale, mask)
    precision_i = weight / scale.pow(2)                  # 1 / sigma_i^2, 0 when absent
    precision = precision_i.sum(-2)                      # precision_g
    mean = (precision_i * loc).sum(-2) / precision       # mean_g
    return mean, precision.rsqrt()


def mean_of_gaussians(loc: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Average of the members' means and of their variances, per group (see module doc)."""
    weight, loc, scale = _present(loc, scale, mask)
    count = weight.sum(-2)
    mean = (weight * loc).sum(-2) / count
    variance = (weight * scale.pow(2)).sum(-2) / count
    return mean, variance.sqrt()


ACCUMULATORS = {"product": product_of_gaussians, "mean": mean_of_gaussians}


def accumulate(kind: str, loc: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The group content Gaussian (mean, std) by accumulation ``kind`` ("product" | "mean")."""
    return ACCUMULATORS[kind](loc, scale, mask)
