"""Training recipes of the class-related VAE (docs/models/parted.md, "Recipes")."""

from __future__ import annotations

from pyro_vaes.recipes import Recipe

RECIPES = (
    Recipe("elbo",
           "the ELBO of the story, alpha log q(c|x) on labelled batches and the Bhattacharyya "
           "penalty, every term in one objective (the library's defaults)",
           "docs/models/parted.md"),
    Recipe("authors",
           "the authors' MNIST recipe: the KLs of z and u replaced by capacity targets "
           "15 |C(t) - KL| (0 to 7 nats over 100k steps), the KL of c by 15 KL(mean q(c|x) || "
           "pi) + 30 mean H(q(c|x)); labels only in a separate cross-entropy step per "
           "iteration (64 random labelled images, own Adam 5e-4); slope +2e-4 per step to 8; "
           "Adam 5e-4, batch 64, 80 epochs, plateau schedule, no early stopping",
           "public code sinahmr/parted-vae: main.py (MNIST), partedvae/training.py, models.py",
           train={"batch_size": 64, "lr": 5e-4, "epochs": 80, "lr_schedule": "plateau",
                  "plateau_factor": 0.5, "plateau_patience": 2, "plateau_threshold": 0.01,
                  "plateau_cooldown": 4, "labels_in_main_loss": False, "supervised_steps": 1,
                  "supervised_batch_size": 64, "supervised_lr": 5e-4},
           model_options={"latent_dim": 16, "class_dim": 10, "objective": "capacity",
                          "capacity_gamma": 15.0, "z_capacity": 7.0, "u_capacity": 7.0,
                          "capacity_steps": 100_000, "c_kl_weight": 15.0,
                          "c_entropy_weight": 30.0, "gamma_bc": 30.0, "tau": 0.15,
                          "slope_start": 1.0, "slope_end": 8.0, "slope_per_step": 2e-4}),
)
