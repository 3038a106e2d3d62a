"""Every prior x guide x likelihood combination trains on real digits."""

from __future__ import annotations

import itertools

import pyro
import pytest
import torch

from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import GUIDES
from pyro_vaes.inference import SVIObjective, make_elbo
from pyro_vaes.likelihoods import LIKELIHOODS
from pyro_vaes.models import Batch, DataInfo, build_model
from pyro_vaes.priors import PRIORS, GaussianMixturePrior


@pytest.fixture(scope="module")
def digits():
    splits = load_dataset("digits")
    return DataInfo.from_splits(splits), Batch(splits.train.pixels(torch.arange(128)))


def _mean_loss(objective: SVIObjective, batch: Batch, repeats: int = 8) -> float:
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        return sum(float(objective(batch)) for _ in range(repeats)) / repeats


@pytest.mark.parametrize("prior,guide,likelihood",
                         list(itertools.product(PRIORS, GUIDES, LIKELIHOODS)))
def test_combination_learns_and_every_parameter_gets_a_gradient(digits, prior, guide, likelihood):
    info, batch = digits
    pyro.set_rng_seed(0)
    vae = build_model("vae", info, prior=prior, guide=guide, likelihood=likelihood,
                      latent_dim=4, hidden_dim=64)
    objective = SVIObjective(vae, make_elbo("trace"))
    optimizer = torch.optim.Adam(objective.parameters(), lr=5e-3)
    before = _mean_loss(objective, batch)
    for step in range(25):
        optimizer.zero_grad()
        objective(batch).backward()
        if step == 0:
            missing = [name for name, p in vae.named_parameters()
                       if p.grad is None or not torch.any(p.grad != 0)]
            assert missing == [], f"no gradient reached {missing}"
        optimizer.step()
    after = _mean_loss(objective, batch)
    assert after < before - 1.0, (before, after)


def test_meanfield_elbo_uses_the_analytic_kl_and_falls_back_for_the_mixture(digits):
    info, batch = digits
    for prior in PRIORS:
        vae = build_model("vae", info, prior=prior, latent_dim=3, hidden_dim=32)
        loss = SVIObjective(vae, make_elbo("meanfield"))(batch)
        assert torch.isfinite(loss)


def test_mixture_prior_density_matches_its_definition():
    prior = GaussianMixturePrior(2, 3)
    z = torch.randn(5, 2)
    weights = torch.softmax(prior.logits, 0)
    by_hand = torch.stack([
        torch.distributions.Normal(prior.means[k], prior.scales[k]).log_prob(z).sum(-1)
        + weights[k].log() for k in range(3)]).logsumexp(0)
    assert torch.allclose(prior().log_prob(z), by_hand, atol=1e-5)
    # log-variances are bounded in [-3, 1] whatever the raw parameter
    with torch.no_grad():
        prior.raw_log_variances.fill_(1e3)
    assert torch.allclose(prior.scales, torch.tensor(1.0).exp().sqrt().expand(3, 2))


@pytest.mark.parametrize("options,message", [
    ({"guide": "flow", "latent_dim": 1}, "needs --latent-dim of at least 2"),
    ({"prior": "vamp"}, "--prior 'vamp' is not valid"),
    ({"latent_dim": 0}, "--latent-dim must be at least 1"),
])
def test_impossible_combinations_are_refused(digits, options, message):
    info, _ = digits
    with pytest.raises(ConfigError, match=message):
        build_model("vae", info, **options)


def test_an_elbo_the_model_does_not_take_is_refused_with_the_valid_list(digits):
    info, _ = digits
    from pyro_vaes.models import VAE

    class OnlyTrace(VAE):
        supported_elbos = ("trace",)

    with pytest.raises(ConfigError, match="valid: trace"):
        OnlyTrace.check_compatible(OnlyTrace.config_class(), "meanfield")
