"""Options of M2 (docs/models/m2.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.config import AUX_WEIGHT_SCALE_HELP, AUX_WEIGHT_SCALES, ModelConfig, option


@dataclass
class M2Config(ModelConfig):
    """M2 options: the weight alpha of the auxiliary classification term."""

    aux_weight: float = option(50.0, "alpha of the auxiliary term alpha * log q(y | x) added "
                                     "per labelled image", min=0.0)
    aux_weight_scale: str = option("constant", AUX_WEIGHT_SCALE_HELP, choices=AUX_WEIGHT_SCALES)
