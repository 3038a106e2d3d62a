"""Options of the class-related / class-independent VAE (docs/models/parted.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.config import ModelConfig, option

OBJECTIVES = ("elbo", "capacity")
CAPACITY = {"objective": ("capacity",)}


@dataclass
class PartedConfig(ModelConfig):
    """Sizes of u and z, the penalty, the supervised weight, the attention slope, the extras.

    ``latent_dim`` is the total size of the continuous latent, as for every model:
    u has ``class_dim`` dimensions and z the other ``latent_dim - class_dim``.
    """

    latent_dim: int = option(16, "total size of the continuous latent (u, z): the "
                                 "class-related u has --class-dim dimensions, the "
                                 "class-independent z the rest", min=2)
    class_dim: int = option(10, "dimensions of the class-related latent u (the "
                                "class-independent z gets --latent-dim minus these)", min=1)
    gamma_bc: float = option(30.0, "weight of the Bhattacharyya hinge penalty between the "
                                   "prior's components (0: off)", min=0.0)
    tau: float = option(0.15, "largest Bhattacharyya coefficient between two components that "
                              "goes unpenalised", min=0.0, max=1.0)
    alpha: float = option(50.0, "weight of the supervised term alpha * log q(c | x) on "
                                "labelled images", min=0.0)
    slope_start: float = option(1.0, "slope of the attention sigmoid at the first epoch",
                                open_min=0.0)
    slope_end: float = option(8.0, "slope of the attention sigmoid at the last epoch (and for "
                                   "evaluation)", open_min=0.0)
    slope_per_step: float | None = option(None, "the attention slope rises by this much per "
                                                "training step from --slope-start to "
                                                "--slope-end (the authors: 0.0002); default: "
                                                "per epoch over --slope-epochs", open_min=0.0)
    slope_epochs: int | None = option(None, "epochs over which the attention slope rises from "
                                            "--slope-start to --slope-end, then stays at "
                                            "--slope-end (default: all --epochs; set it with "
                                            "--patience, which can stop before the last)",
                                      min=1)
    objective: str = option("elbo", "elbo: the ELBO of the generative story (plus the penalty "
                                    "and alpha log q(c|x)); capacity: the authors' objective, "
                                    "whose KL terms are replaced by capacity targets and batch "
                                    "terms on c (docs/models/parted.md)", choices=OBJECTIVES)
    capacity_gamma: float = option(15.0, "--objective capacity: weight gamma of gamma |C(t) - "
                                         "KL_z| and gamma |C(t) - E_q(c|x) KL_u|", min=0.0,
                                   applies=CAPACITY)
    z_capacity: float = option(7.0, "--objective capacity: capacity C_max (nats) that KL_z is "
                                    "pulled to, reached after --capacity-steps", min=0.0,
                               applies=CAPACITY)
    u_capacity: float = option(7.0, "--objective capacity: capacity C_max (nats) that "
                                    "E_q(c|x) KL_u is pulled to", min=0.0, applies=CAPACITY)
    c_kl_weight: float = option(15.0, "--objective capacity: weight of KL(mean_b q(c|x_b) || "
                                      "pi), which replaces the per-image KL of c", min=0.0,
                                applies=CAPACITY)
    c_entropy_weight: float = option(30.0, "--objective capacity: weight of mean_b "
                                           "H(q(c|x_b)) (sure predictions)", min=0.0,
                                     applies=CAPACITY)
    capacity_weight: float = option(0.0, "extra: weight gamma of the JointVAE capacity terms "
                                         "gamma |C(t) - KL| (0: off)", min=0.0,
                                    applies={"objective": ("elbo",)})
    capacity_continuous: float = option(5.0, "extra: capacity C_max (nats) reached by "
                                             "KL(z) + KL(u)", min=0.0)
    capacity_discrete: float = option(2.3, "extra: capacity C_max (nats) reached by KL(c)",
                                      min=0.0)
    capacity_steps: int = option(25000, "optimisation steps over which every capacity C(t) "
                                        "grows linearly from 0 to its C_max", min=1)
    entropy_weight: float = option(0.0, "extra: weight of the batch entropy terms on c, "
                                        "mean_b H[q(c|x_b)] - H[mean_b q(c|x_b)] (0: off)",
                                   min=0.0, applies={"objective": ("elbo",)})
