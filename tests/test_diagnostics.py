"""The ELBO's terms per data point (pyro_vaes/training/diagnostics.py) against hand calculations.

- Linear-Gaussian VAE (tests/test_vae_elbo.py): the KL is the closed form, exactly, and beta
  does not scale it; the reconstruction term's Monte Carlo mean meets its closed form; recon -
  KL meets val_elbo.
- A Bernoulli class y observed through x ~ N(2y, 1), guide q(y | x) = Bernoulli(sigmoid(x)):
  entropy, KL and cross-entropy at the label in closed form, exactly.
- A CCVAE-like toy where the guide draws y after z but the model draws y first: the KL of z
  must be the Monte Carlo difference, not KL(q(z) || p(z | y)), and unscaled where z is
  scaled by beta; every term against numerical integration over z.
- ML-VAE: per group, padded members masked out, --style-beta not applied.
- Every model after a one-epoch digits run: the keys, the same names in metrics.jsonl and in
  the TensorBoard event file.
"""

from __future__ import annotations

import json
import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.distributions import kl_divergence

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.training.diagnostics import diagnose, is_diagnostic
from pyro_vaes.training.validation import validation_record
from tests.test_vae_elbo import SIGMA, A, B, C, S, W, X, analytic_elbo, linear_gaussian_vae

REPEATS = 200_000


def _repeated(x: torch.Tensor, repeats: int = REPEATS) -> torch.Tensor:
    """Each point of x repeated, point-major: (len(x) * repeats, ...)."""
    return x.repeat_interleave(repeats, dim=0)


def _per_point(values: torch.Tensor, points: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard error over the repeats of each point."""
    values = values.reshape(points, -1).double()
    return values.mean(1), values.std(1) / math.sqrt(values.shape[1])


def _vae_kl(x: torch.Tensor) -> torch.Tensor:
    m = A * x + C
    return 0.5 * (m**2 + S**2 - 1.0) - math.log(S)


def _vae_recon(x: torch.Tensor) -> torch.Tensor:
    m = A * x + C
    return (-0.5 * math.log(2 * math.pi * SIGMA**2)
            - ((x - W * m - B) ** 2 + W**2 * S**2) / (2 * SIGMA**2))


@torch.no_grad()
@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_linear_gaussian_vae_terms_meet_their_closed_forms(beta):
    vae = linear_gaussian_vae()
    vae.config.beta = beta
    x = X.flatten()
    pyro.set_rng_seed(0)
    terms = diagnose(vae, Batch(_repeated(X)))
    assert set(terms) == {"recon", "kl_z"}
    # closed-form KL (Normal / Normal): exact, and unscaled by beta
    kl = terms["kl_z"].reshape(len(x), -1)
    assert torch.allclose(kl, _vae_kl(x).unsqueeze(-1).expand_as(kl), atol=1e-5)
    recon, se = _per_point(terms["recon"], len(x))
    assert (recon - _vae_recon(x).double()).abs().max() < 4 * se.max()
    assert se.max() < 0.01
    # recon - KL is the ELBO: closed forms add up, and so do the estimates
    assert torch.allclose(_vae_recon(x) - _vae_kl(x), analytic_elbo(x), atol=1e-5)
    assert ((recon - kl[:, 0].double() - analytic_elbo(x).double()).abs() < 4 * se).all()


@torch.no_grad()
def test_validation_record_terms_add_up_to_val_elbo():
    vae = linear_gaussian_vae()
    vae.config.beta = 4.0
    pyro.set_rng_seed(1)
    record = validation_record(vae, make_elbo("trace"), [Batch(_repeated(X, 50_000))])
    assert set(record) == {"val_elbo", "val_beta_weighted_elbo", "val_recon", "val_kl_z"}
    assert record["val_kl_z"] == pytest.approx(float(_vae_kl(X.flatten()).mean()), rel=1e-5)
    # two independent one-sample estimates of the same mean: standard error about 0.003 each
    assert record["val_recon"] - record["val_kl_z"] == pytest.approx(record["val_elbo"], abs=0.02)
    assert record["val_elbo"] == pytest.approx(float(analytic_elbo(X.flatten()).mean()),
                                               abs=0.02)


# -- a discrete class: entropy, KL and cross-entropy in closed form -----------------------
PRIOR_Y = 0.3


class BernoulliClass:
    """y ~ Bernoulli(0.3), x ~ N(2y, 1); guide y ~ Bernoulli(sigmoid(x)), enumerated."""

    data_plate = "data"

    def site_args(self, batch: Batch) -> tuple:
        return batch.x, batch.y

    def model(self, x, y=None):
        with pyro.plate("data", x.shape[0]):
            y = pyro.sample("y", dist.Bernoulli(PRIOR_Y), obs=y)
            pyro.sample("x", dist.Normal(2.0 * y, 1.0), obs=x)

    def guide(self, x, y=None):
        with pyro.plate("data", x.shape[0]):
            if y is None:
                pyro.sample("y", dist.Bernoulli(logits=x), infer={"enumerate": "parallel"})


@torch.no_grad()
def test_bernoulli_class_entropy_kl_and_cross_entropy_by_hand():
    x = torch.tensor([-1.0, 0.0, 0.5, 2.0])
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0])
    pyro.set_rng_seed(2)
    terms = diagnose(BernoulliClass(), Batch(_repeated(x), _repeated(labels)))
    assert set(terms) == {"recon", "kl_y", "entropy_y", "supervised_ce"}
    p = torch.sigmoid(x)
    entropy = -(p * p.log() + (1 - p) * (1 - p).log())
    kl = p * (p / PRIOR_Y).log() + (1 - p) * ((1 - p) / (1 - PRIOR_Y)).log()
    ce = -torch.where(labels == 1, p.log(), (1 - p).log())
    for name, expected in (("entropy_y", entropy), ("kl_y", kl), ("supervised_ce", ce)):
        got = terms[name].reshape(len(x), -1)
        assert torch.allclose(got, expected.unsqueeze(-1).expand_as(got), atol=1e-6), name
    # E_q[log p(x | y)] = p log N(x; 2, 1) + (1 - p) log N(x; 0, 1), sampled
    log_n2, log_n0 = dist.Normal(2.0, 1.0).log_prob(x), dist.Normal(0.0, 1.0).log_prob(x)
    recon, se = _per_point(terms["recon"], len(x))
    assert ((recon - (p * log_n2 + (1 - p) * log_n0).double()).abs() < 4 * se).all()
    # an unlabelled batch: the same terms without the cross-entropy
    assert set(diagnose(BernoulliClass(), Batch(x))) == {"recon", "kl_y", "entropy_y"}


# -- the guide draws y after z, the model y before z ---------------------------------------
Q_SLOPE, Q_SCALE, X_SCALE = 0.5, 0.8, 0.5


class LateClass:
    """Model y ~ Bernoulli(0.3), z ~ N(2y - 1, 1), x ~ N(z, 0.5^2); guide z ~ N(0.5 x, 0.8^2),
    then y ~ Bernoulli(sigmoid(z)) (as the CCVAE's q(y | z_c)); z's densities scaled by beta
    in both, as the beta-VAE does."""

    data_plate = "data"

    def __init__(self, beta: float) -> None:
        self.beta = beta

    def site_args(self, batch: Batch) -> tuple:
        return batch.x, batch.y

    def model(self, x, y=None):
        with pyro.plate("data", x.shape[0]):
            y = pyro.sample("y", dist.Bernoulli(PRIOR_Y), obs=y)
            with poutine.scale(scale=self.beta):
                z = pyro.sample("z", dist.Normal(2.0 * y - 1.0, 1.0))
            pyro.sample("x", dist.Normal(z, X_SCALE), obs=x)

    def guide(self, x, y=None):
        with pyro.plate("data", x.shape[0]):
            with poutine.scale(scale=self.beta):
                z = pyro.sample("z", dist.Normal(Q_SLOPE * x, Q_SCALE))
            pyro.sample("y", dist.Bernoulli(logits=z), obs=y, infer={"enumerate": "parallel"})


def _integrate_over_q(x: float, f) -> float:
    """E_{q(z|x)}[f(z)] by the trapezoidal rule on +-10 sd."""
    m = Q_SLOPE * x
    z = torch.linspace(m - 10 * Q_SCALE, m + 10 * Q_SCALE, 20_001, dtype=torch.float64)
    density = dist.Normal(torch.tensor(m, dtype=torch.float64), Q_SCALE).log_prob(z).exp()
    return float(torch.trapezoid(density * f(z), z))


@torch.no_grad()
@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_a_class_drawn_after_z_leaves_the_kl_of_z_to_monte_carlo(beta):
    x = torch.tensor([-1.0, 0.3, 1.5])
    pyro.set_rng_seed(4)
    terms = diagnose(LateClass(beta), Batch(_repeated(x)))
    assert set(terms) == {"recon", "kl_y", "kl_z", "entropy_y"}
    q = dist.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)   # shapes the densities

    def log_normal(value, loc, scale):
        return q.log_prob((value - loc) / scale) - math.log(scale)

    for i, xi in enumerate(x.tolist()):
        m = Q_SLOPE * xi

        def p_y(z):
            return torch.sigmoid(z)

        expected = {
            "kl_z": _integrate_over_q(xi, lambda z, m=m: log_normal(z, m, Q_SCALE)
                                      - p_y(z) * log_normal(z, 1.0, 1.0)
                                      - (1 - p_y(z)) * log_normal(z, -1.0, 1.0)),
            "kl_y": _integrate_over_q(xi, lambda z: p_y(z) * (p_y(z) / PRIOR_Y).log()
                                      + (1 - p_y(z)) * ((1 - p_y(z)) / (1 - PRIOR_Y)).log()),
            "entropy_y": _integrate_over_q(xi, lambda z: -(p_y(z) * p_y(z).log()
                                                           + (1 - p_y(z)) * (1 - p_y(z)).log())),
            "recon": (-0.5 * math.log(2 * math.pi * X_SCALE**2)
                      - ((xi - m) ** 2 + Q_SCALE**2) / (2 * X_SCALE**2)),
        }
        for name, value in expected.items():
            mean, se = _per_point(terms[name], len(x))
            assert abs(float(mean[i]) - value) < 4 * float(se[i]) + 1e-6, (name, xi)
        # the closed form with y drawn after z would be E[KL(q(z) || p(z | y))]: a different
        # number, which the estimate must not be
        wrong = _integrate_over_q(xi, lambda z, m=m: p_y(z) * (0.5 * ((m - 1) ** 2 + Q_SCALE**2
                                                                      - 1) - math.log(Q_SCALE))
                                  + (1 - p_y(z)) * (0.5 * ((m + 1) ** 2 + Q_SCALE**2 - 1)
                                                    - math.log(Q_SCALE)))
        mean, se = _per_point(terms["kl_z"], len(x))
        assert abs(float(mean[i]) - wrong) > 10 * float(se[i])


# -- ML-VAE: per group, masked members, unscaled style KL ---------------------------------
@torch.no_grad()
def test_mlvae_terms_are_per_group_with_padded_members_masked_and_beta_undone():
    info = DataInfo((1, 8, 8), num_classes=10, class_names=[str(k) for k in range(10)])
    torch.manual_seed(0)
    model = build_model("mlvae", info, net="mlp", hidden_dim=16, latent_dim=5, content_dim=2,
                        style_beta=3.0).eval()
    x = torch.rand(3, 2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    mask = torch.tensor([[True, True], [True, False], [True, True]])
    pyro.set_rng_seed(5)
    terms = diagnose(model, Batch(x, None, mask))
    assert set(terms) == {"recon", "kl_c", "kl_s"}
    assert all(value.shape == (3,) for value in terms.values())
    features = model.encoder(x)
    loc, scale = model.style_head.loc_scale(features)
    kl_s = kl_divergence(dist.Normal(loc, scale), dist.Normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(terms["kl_s"], (kl_s * mask).sum(-1), atol=1e-5)
    loc_c, scale_c = model.group_content(features, mask)
    kl_c = kl_divergence(dist.Normal(loc_c, scale_c), dist.Normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(terms["kl_c"], kl_c, atol=1e-5)
    # the padded member's pixels change nothing
    noisy = x.clone()
    noisy[1, 1] = 1.0 - noisy[1, 1]
    pyro.set_rng_seed(5)
    again = diagnose(model, Batch(noisy, None, mask))
    for name, value in terms.items():
        assert torch.allclose(again[name], value), name


# -- every model, one epoch of digits: the keys, the same in metrics.jsonl and TensorBoard -
EXPECTED_KEYS = {
    "vae": {"val_recon", "val_kl_z"},
    "m2": {"val_recon", "val_kl_y", "val_kl_z", "val_entropy_y", "val_supervised_ce"},
    "ccvae": {"val_recon", "val_kl_y", "val_kl_z_c", "val_kl_z_s", "val_entropy_y",
              "val_supervised_ce"},
    "mlvae": {"val_recon", "val_kl_c", "val_kl_s"},
    "parted": {"val_recon", "val_kl_c", "val_kl_u", "val_kl_z", "val_entropy_c",
               "val_supervised_ce"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_every_model_logs_its_terms_under_the_same_names_in_both_places(name, tmp_path):
    labels = {} if name in ("vae", "mlvae") else {"labels": 50}
    config = TrainConfig(epochs=1, max_train=200, batch_size=50, seed=0, **labels)
    options = {"net": "mlp", "hidden_dim": 16, "latent_dim": 12}     # ccvae: 10 z_c + 2 z_s
    run = api.train(name, tmp_path / name, model_options=options, train_config=config,
                    tensorboard=True, figures=False)
    (record,) = [json.loads(line) for line in run.directory.metrics.read_text().splitlines()]
    assert {key for key in record if is_diagnostic(key)} == EXPECTED_KEYS[name]
    events = EventAccumulator(str(run.directory.tensorboard))
    events.Reload()
    assert set(events.Tags()["scalars"]) == set(record) - {"epoch"}
    for key in EXPECTED_KEYS[name]:
        (event,) = events.Scalars(key)
        assert event.step == 1 and event.value == pytest.approx(record[key], rel=1e-6)
    kls = sum(value for key, value in record.items() if key.startswith("val_kl_"))
    # one sample against the model's own estimator (y summed out for m2, ccvae, parted)
    assert record["val_recon"] - kls == pytest.approx(record["val_elbo"], rel=0.02)
    assert all(record[key] > -1e-5 for key in record if key.startswith("val_entropy_"))
