"""``--latent-dim`` is the total size of the continuous latent for every model.

Read off the guide's Gaussian latent sites (z; z_c + z_s; u + z; content + style),
so the test does not trust any model's own bookkeeping.
"""

from __future__ import annotations

import pytest
import torch

from pyro_vaes.analysis.latent_sites import gaussian_latents
from pyro_vaes.errors import ConfigError
from pyro_vaes.models import MODELS, DataInfo, build_model

INFO = DataInfo((1, 8, 8), num_classes=10, class_names=[str(k) for k in range(10)])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_latent_dim_is_the_total_continuous_latent_size(name):
    model = build_model(name, INFO, {"latent_dim": 13, "hidden_dim": 8}).eval()
    sites = gaussian_latents(model, torch.rand(3, 1, 8, 8))
    assert sum(site.dim for site in sites.values()) == 13, {k: s.dim for k, s in sites.items()}


def test_the_split_of_the_latent_within_each_model():
    sizes = lambda model: {k: s.dim for k, s in gaussian_latents(  # noqa: E731
        model.eval(), torch.rand(2, 1, 8, 8)).items()}
    assert sizes(build_model("ccvae", INFO, {"latent_dim": 13})) == {"z_c": 10, "z_s": 3}
    assert sizes(build_model("ccvae", INFO, {})) == {"z_c": 10, "z_s": 10}   # default L + 10
    assert sizes(build_model("parted", INFO, {"latent_dim": 13, "class_dim": 4})) == \
        {"u": 4, "z": 9}
    assert sizes(build_model("mlvae", INFO, {"latent_dim": 13, "content_dim": 5})) == \
        {"c": 5, "s": 8}


@pytest.mark.parametrize("name, options, message", [
    ("ccvae", {"latent_dim": 10}, "--latent-dim 10 leaves no style dimension after the 10 "
                                  "characteristic latents"),
    ("parted", {"latent_dim": 10, "class_dim": 10}, "--class-dim 10 leaves no class-independent"),
    ("mlvae", {"latent_dim": 5, "content_dim": 5}, "--content-dim 5 leaves no style"),
])
def test_impossible_splits_are_refused_in_one_line(name, options, message):
    with pytest.raises(ConfigError, match=message) as error:
        build_model(name, INFO, options)
    assert "\n" not in str(error.value)
