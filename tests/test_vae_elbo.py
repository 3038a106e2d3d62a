"""The VAE's ELBO and importance-weighted estimate against closed forms.

Linear-Gaussian model (latent and observation one-dimensional):
    z ~ N(0, 1),  x | z ~ N(w z + b, sigma^2),   q(z | x) = N(a x + c, s^2)
    ELBO = -1/2 log(2 pi sigma^2) - ((x - w m - b)^2 + w^2 s^2) / (2 sigma^2)
           - 1/2 log(2 pi) - (m^2 + s^2) / 2 + 1/2 log(2 pi e s^2),   m = a x + c
    log p(x) = log N(x; b, w^2 + sigma^2)
"""

from __future__ import annotations

import math

import pyro
import pytest
import torch
from torch import nn

from pyro_vaes.inference import importance_log_likelihood, make_elbo
from pyro_vaes.likelihoods import NormalLikelihood
from pyro_vaes.models import VAE, DataInfo, VAEConfig

# S^2 = 0.64 exceeds half of every posterior variance used here (1 and 0.18), so the
# importance weights p(z | x) / q(z) have finite variance and the estimates converge.
W, B, SIGMA, A, C, S = 1.5, 0.3, 0.7, 0.4, -0.1, 0.8


class PixelDecoder(nn.Module):
    """z (..., 1) -> w z + b as a 1x1x1 image."""

    def __init__(self, w: float, b: float) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        with torch.no_grad():
            self.linear.weight.fill_(w)
            self.linear.bias.fill_(b)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.linear(z).reshape(*z.shape[:-1], 1, 1, 1)


class PixelEncoder(nn.Module):
    feature_dim = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(-3)


def linear_gaussian_vae(w: float = W) -> VAE:
    config = VAEConfig(latent_dim=1, likelihood="normal")
    vae = VAE(config, DataInfo((1, 1, 1)), encoder=PixelEncoder(), decoder=PixelDecoder(w, B))
    vae.likelihood = NormalLikelihood(link="identity", init_scale=SIGMA)
    with torch.no_grad():
        vae.posterior.loc.weight.fill_(A)
        vae.posterior.loc.bias.fill_(C)
        vae.posterior.raw_scale.weight.fill_(0.0)
        # softplus(r) + 1e-4 = S
        vae.posterior.raw_scale.bias.fill_(math.log(math.expm1(S - 1e-4)))
    return vae


def analytic_elbo(x: torch.Tensor, w: float = W) -> torch.Tensor:
    m = A * x + C
    rec = -0.5 * math.log(2 * math.pi * SIGMA**2) - ((x - w * m - B) ** 2 + w**2 * S**2) / (
        2 * SIGMA**2)
    prior = -0.5 * math.log(2 * math.pi) - (m**2 + S**2) / 2
    entropy = 0.5 * math.log(2 * math.pi * math.e * S**2)
    return rec + prior + entropy


def exact_log_likelihood(x: torch.Tensor) -> torch.Tensor:
    var = W**2 + SIGMA**2
    return -0.5 * math.log(2 * math.pi * var) - (x - B) ** 2 / (2 * var)


X = torch.tensor([-1.0, 0.2, 0.9, 2.5]).reshape(4, 1, 1, 1)


def test_meanfield_elbo_is_exact_when_the_decoder_ignores_z():
    # w = 0: the reconstruction term no longer depends on z and the KL is analytic,
    # so one sample gives the ELBO exactly.
    vae = linear_gaussian_vae(w=0.0)
    elbo = make_elbo("meanfield")
    got = -elbo.loss(vae.model, vae.guide, X)
    want = analytic_elbo(X, w=0.0).sum()
    assert got == pytest.approx(float(want), abs=1e-4)


@pytest.mark.parametrize("name", ["trace", "meanfield"])
def test_elbo_matches_closed_form(name):
    vae = linear_gaussian_vae()
    particles = 200_000
    elbo = make_elbo(name, num_particles=particles)
    got = -elbo.loss(vae.model, vae.guide, X)
    want = float(analytic_elbo(X).sum())
    # Standard error of the reconstruction term: w^2 s^2-scaled chi-square noise, about 0.01.
    assert got == pytest.approx(want, abs=0.02)


def test_importance_weighted_estimate_approaches_exact_log_likelihood():
    vae = linear_gaussian_vae()
    pyro.set_rng_seed(1)
    exact = exact_log_likelihood(X).flatten()
    one = importance_log_likelihood(vae.model, vae.guide, X, num_samples=1,
                                    max_plate_nesting=1)
    k1 = torch.stack([importance_log_likelihood(vae.model, vae.guide, X, num_samples=1,
                                                max_plate_nesting=1) for _ in range(2000)])
    many = importance_log_likelihood(vae.model, vae.guide, X, num_samples=20_000,
                                     max_plate_nesting=1, chunk_size=5000)
    assert one.shape == (4,)
    # K = 1 averages to the ELBO, K large reaches log p(x).
    assert k1.mean(0) == pytest.approx(analytic_elbo(X).flatten(), abs=0.05)
    assert torch.all(k1.mean(0) < exact - 0.05)
    assert many == pytest.approx(exact, abs=0.01)


def test_beta_scales_only_the_kl():
    vae = linear_gaussian_vae(w=0.0)
    vae.config.beta = 4.0
    got = -make_elbo("meanfield").loss(vae.model, vae.guide, X)
    m = A * X + C
    kl = 0.5 * (m**2 + S**2 - 1) - math.log(S)
    rec = -0.5 * math.log(2 * math.pi * SIGMA**2) - (X - B) ** 2 / (2 * SIGMA**2)
    assert got == pytest.approx(float((rec - 4.0 * kl).sum()), abs=1e-4)
    # The importance-weighted log-likelihood ignores beta: it is the model's density.
    exact0 = -0.5 * math.log(2 * math.pi * SIGMA**2) - (X.flatten() - B) ** 2 / (2 * SIGMA**2)
    # Here q(z | x) = N(0.4 x - 0.1, 0.64) against the posterior N(0, 1): the weights are
    # heavy-tailed (finite variance only just), hence many samples.
    iw = importance_log_likelihood(vae.model, vae.guide, X, num_samples=100_000,
                                   max_plate_nesting=1, chunk_size=20_000)
    assert iw == pytest.approx(exact0, abs=0.03)
