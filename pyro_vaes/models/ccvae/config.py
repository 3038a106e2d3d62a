"""Options of the CCVAE (docs/models/ccvae.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.config import AUX_WEIGHT_SCALE_HELP, AUX_WEIGHT_SCALES, ModelConfig, option

LABEL_KINDS = ("targets", "attributes")
WEIGHT_DETACH = ("zc", "none", "all")


@dataclass
class CCVAEConfig(ModelConfig):
    """CCVAE options: the total latent size, which labels to characterise, the objective.

    ``latent_dim`` is the total size of the continuous latent, as for every model:
    z_c takes one dimension per characteristic latent and z_s the remaining
    ``latent_dim - L`` (at least one).
    """

    latent_dim: int | None = option(None, "total size of z = (z_c, z_s): one characteristic "
                                          "latent z_c,i per binary label (or per class) and "
                                          "the style z_s the rest; default: the characteristic "
                                          "latents plus 10 style dimensions", min=2)
    label_kind: str | None = option(None, "labels to characterise: targets (one K-class label, "
                                          "K latents) or attributes (L binary labels); default: "
                                          "targets when the data has classes",
                                    choices=LABEL_KINDS)
    k_samples: int = option(100, "draws of q(z_c | x) besides the outer sample in the estimate "
                                 "of q(y | x) in the supervised objective (the weight "
                                 "q(y|z_c) / q(y|x) is bounded by this plus one)", min=1)
    weight_detach: str = option("zc", "gradient of the supervised weight q(y|z_c) / q(y|x): zc "
                                      "(z_c detached inside its numerator, as the public code), "
                                      "none (no detach), all (weight held constant)",
                                choices=WEIGHT_DETACH)
    classifier_detach: bool = option(False, "the guide feeds q(y | z_c) the sample z_c detached, "
                                            "so log q(y|z_c) sends no gradient to the encoder "
                                            "(the authors' code; in the supervised bound and "
                                            "the unlabelled ELBO)")
    aux_weight: float = option(0.0, "remedy for few labels: alpha of an extra term alpha * log "
                                    "q(y | x) per labelled image, as M2's (0: off, the "
                                    "published objective)", min=0.0)
    aux_weight_scale: str = option("constant", AUX_WEIGHT_SCALE_HELP, choices=AUX_WEIGHT_SCALES)
