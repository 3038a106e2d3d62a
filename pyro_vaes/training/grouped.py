"""The grouped plan (ML-VAE), kept with its model in :mod:`pyro_vaes.models.mlvae.plan`."""

from pyro_vaes.models.mlvae.plan import SUBSETS, GroupedPlan

__all__ = ["SUBSETS", "GroupedPlan"]
