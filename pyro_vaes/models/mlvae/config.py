"""Options of the ML-VAE, the grouping of its training data included.

The grouping options live here (not in the training config) so that the
command line exposes them as ``pyro-vaes train mlvae --group-by ...`` and the
checkpoint keeps them: evaluation and the interventions regroup the data the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.config import ModelConfig, option

ACCUMULATIONS = ("product", "mean")


@dataclass
class MLVAEConfig(ModelConfig):
    """ML-VAE options: the latent split, the evidence accumulation and the grouping.

    ``latent_dim`` is the total size: content c has ``content_dim`` dimensions and
    style s the other ``latent_dim - content_dim``, so a VAE with the same
    ``--latent-dim`` has the same total latent size.
    """

    content_dim: int = option(5, "dimensions of the group content c (the style s gets "
                                 "--latent-dim minus these)", min=1)
    accumulation: str = option("product", "how the members' content Gaussians are combined: "
                                          "product (normalised product, precision-weighted) "
                                          "or mean (average of their means and variances)",
                               choices=ACCUMULATIONS)
    style_beta: float = option(1.0, "weight of the style site (log p(s) and log q(s | x) "
                                    "scaled with poutine.scale): above 1 squeezes what style "
                                    "carries, and so the group label leaking into it", min=0.0)
    group_by: str = option("class", "label that forms the groups: class, a factor name "
                                    "(e.g. shape) or an attribute name")
    group_size: int = option(8, "members per group (the smallest size when "
                                "--max-group-size is given)", min=1)
    max_group_size: int | None = option(None, "draw group sizes uniformly between "
                                              "--group-size and this", min=1)
    groups_per_batch: int | None = option(None, "groups per batch (default: --batch-size "
                                                "divided by the largest group size)", min=1)
    holdout_classes: str | None = option(None, "comma-separated values of the --group-by "
                                               "label (indices or class names) left out of "
                                               "training, e.g. 8,9")
