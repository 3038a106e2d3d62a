"""Training recipes of the VAE / beta-VAE (docs/models/vae.md, "Recipes")."""

from __future__ import annotations

from pyro_vaes.recipes import Recipe

RECIPES = (
    Recipe("elbo", "the (beta-)ELBO of the story (the library's defaults)", "docs/models/vae.md"),
    Recipe("authors",
           "the influential-factors paper trains plain VAEs and beta-VAEs by the ELBO with the "
           "closed-form Gaussian KL (--elbo meanfield), beta as a flag; it publishes no other "
           "term or schedule that its results depend on",
           "Liu et al., 'Discovering Influential Factors in Variational Autoencoders' (no "
           "public code found that runs here)",
           train={"elbo": "meanfield"}),
)
