"""Names the command line offers (the swappable parts, the metrics), importable without torch.

The command line is generated from the config dataclasses, and those name their
choices; keeping the names here (the parts themselves live in ``priors``,
``guides``, ``likelihoods`` and ``nets``, which import torch) lets ``pyro-vaes
--help`` and every usage error answer without loading torch or Pyro.
``tests/test_deferred_imports.py`` checks that these names match the parts.
"""

from __future__ import annotations

PRIOR_NAMES = ("normal", "mixture")
GUIDE_NAMES = ("diagonal", "lowrank", "full", "flow")
LIKELIHOOD_NAMES = ("bernoulli", "laplace", "normal")
NETS = ("mlp", "conv")
DEFAULT_CHANNELS = 16
"""Channels of the first convolution of the conv nets (doubled for the second half)."""
CHECKPOINTS = ("last", "best")
"""Weights a run keeps: the last epoch's (checkpoint.pt) and the best one's (best.pt)."""
METRIC_NAMES = ("mig_continuous", "mig_binned", "dci", "sap", "factor_vae_score",
                "beta_vae_score", "modularity", "explicitness", "irs",
                "gaussian_total_correlation", "mutual_info_score")
"""The disentanglement metrics of ``pyro_vaes.analysis.disentanglement.METRICS``."""
