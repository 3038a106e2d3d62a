"""Training recipes of M2 (docs/models/m2.md, "Recipes")."""

from __future__ import annotations

from pyro_vaes.recipes import Recipe

RECIPES = (
    Recipe("elbo",
           "the ELBO with y enumerated and alpha log q(y|x) per labelled image, alpha 50 "
           "(the library's defaults)",
           "docs/models/m2.md"),
    Recipe("kingma",
           "Kingma et al. 2014: the classification term weighted alpha = 0.1 N over the "
           "labelled set, i.e. 0.1 N / N_labelled per labelled image; the other settings "
           "are the library's",
           "Kingma, Rezende, Mohamed, Welling, 'Semi-supervised learning with deep generative "
           "models', NeurIPS 2014, section 3.1.2",
           model_options={"aux_weight": 0.1, "aux_weight_scale": "data"}),
    Recipe("pyro-example",
           "Pyro's ss_vae_M2 example as its documentation runs it: alpha 46 per labelled "
           "image, Adam 0.00042, batch 200, z 50, hidden 500, 50 epochs (its Adam beta1 0.95 "
           "is not an option here: 0.9)",
           "Pyro examples/vae/ss_vae_M2.py",
           train={"lr": 0.00042, "batch_size": 200, "epochs": 50},
           model_options={"aux_weight": 46.0, "aux_weight_scale": "constant", "latent_dim": 50,
                          "hidden_dim": 500}),
)
