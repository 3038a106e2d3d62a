"""Training recipes of the ML-VAE (docs/models/mlvae.md, "Recipes")."""

from __future__ import annotations

from pyro_vaes.recipes import Recipe

RECIPES = (
    Recipe("elbo", "the group ELBO averaged over groups (the library's defaults)",
           "docs/models/mlvae.md"),
    Recipe("authors",
           "the paper's objective: the group ELBO with closed-form KLs (--elbo meanfield) "
           "averaged over groups, content accumulated by the product of Gaussians; the paper "
           "publishes no other term or schedule that its results depend on",
           "Bouchacourt, Tomioka, Nowozin, AAAI 2018 (no public code of the authors found that "
           "runs here)",
           train={"elbo": "meanfield"}),
)
