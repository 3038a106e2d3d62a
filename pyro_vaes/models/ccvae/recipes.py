"""Training recipes of the CCVAE (docs/models/ccvae.md, "Recipes")."""

from __future__ import annotations

from pyro_vaes.recipes import Recipe

_AUTHORS_TRAIN = {"lr": 1e-4, "batch_size": 200, "epochs": 95, "loss_reduction": "sum"}
_AUTHORS_MODEL = {"classifier_detach": True, "weight_detach": "zc", "k_samples": 100}
# the few-label remedies: alpha log q(y|x) with alpha = 0.1 N / N_labelled (Kingma et al.)
_ALPHA_MODEL = {**_AUTHORS_MODEL, "aux_weight": 0.1, "aux_weight_scale": "data"}
BALANCED_EVERY = 4  # unlabelled batches per labelled batch in the balanced remedy

RECIPES = (
    Recipe("elbo",
           "the supervised bound L(x, y) on labelled batches and the ELBO on unlabelled ones, "
           "separate steps sharing one Adam (the library's defaults)",
           "docs/models/ccvae.md"),
    Recipe("authors",
           "the authors' code: the guide feeds q(y|z_c) the sample z_c detached (no encoder "
           "gradient through log q(y|z_c)), z_c detached in the weight's numerator, K = 100; "
           "separate labelled and unlabelled steps sharing one Adam (1e-4), losses summed over "
           "batches of 200, 95 epochs",
           "public code thwjoy/ccvae: ss_vae.py, models/semisup_vae.py, utils/custom_loss.py",
           train=dict(_AUTHORS_TRAIN), model_options=dict(_AUTHORS_MODEL)),
    Recipe("authors-alpha",
           "the authors' recipe plus M2's remedy for few labels: alpha log q(y|x) per "
           "labelled image with alpha = 0.1 N / N_labelled (Kingma et al.'s alpha = 0.1 N), "
           "which grows with the ratio of all to labelled images",
           "this library (docs/models/ccvae.md, 'Few labels'); not the published objective",
           train=dict(_AUTHORS_TRAIN), model_options=dict(_ALPHA_MODEL)),
    Recipe("authors-balanced",
           f"the authors-alpha remedy plus a fixed share of labelled steps: one labelled batch "
           f"after every {BALANCED_EVERY} unlabelled ones, cycling the labelled set (one step in "
           f"{BALANCED_EVERY + 1} labelled at any label count, so the passes over the labelled "
           f"set grow with N_unlabelled / N_labelled)",
           "this library (docs/models/ccvae.md, 'Few labels'); not the published objective",
           train={**_AUTHORS_TRAIN, "labelled_batch_every": BALANCED_EVERY},
           model_options=dict(_ALPHA_MODEL)),
)
