"""What the trainer logs after each epoch: ``val_elbo`` is the ELBO itself, the training
objective's other terms have their own columns, ``val_accuracy`` is the label accuracy.

- beta-VAE (beta = 4) on the linear-Gaussian model of ``test_vae_elbo.py``: ``val_elbo``
  against the closed-form ELBO, ``val_beta_weighted_elbo`` against the closed-form
  E[log p(x|z)] - 4 KL.
- class-related VAE: ``val_elbo`` against the ELBO written out by hand from the same
  samples (the Bhattacharyya penalty left out), ``val_bhattacharyya_penalty`` against
  gamma_bc x hinge, ``val_aux_classification`` against alpha x mean log q(y|x).
"""

from __future__ import annotations

import json
import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.inference import make_elbo
from pyro_vaes.inference.bhattacharyya import bhattacharyya_hinge
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.training.validation import elbo_per_point, unpenalised, validation_record
from tests.test_vae_elbo import A, C, S, X, analytic_elbo, linear_gaussian_vae

BETA = 4.0


def analytic_kl(x: torch.Tensor) -> torch.Tensor:
    """KL(N(A x + C, S^2) || N(0, 1)) per point."""
    m = A * x + C
    return 0.5 * (m**2 + S**2 - 1.0) - math.log(S)


def test_val_elbo_of_a_beta_vae_is_the_elbo_not_the_beta_weighted_bound():
    vae = linear_gaussian_vae()
    vae.config.beta = BETA
    batch = Batch(X)
    elbo = make_elbo("trace", num_particles=100_000)
    pyro.set_rng_seed(0)
    record = validation_record(vae, elbo, [batch])
    elbo_by_hand = float(analytic_elbo(X).mean())
    beta_bound = float((analytic_elbo(X) - (BETA - 1.0) * analytic_kl(X)).mean())
    # Monte Carlo standard error of both with 1e5 particles: about 0.005 nats.
    assert record["val_elbo"] == pytest.approx(elbo_by_hand, abs=0.03)
    assert record["val_beta_weighted_elbo"] == pytest.approx(beta_bound, abs=0.03)
    assert elbo_by_hand - beta_bound > 0.5       # 3 KL: far apart at this tolerance
    assert set(record) == {"val_elbo", "val_beta_weighted_elbo", "val_recon", "val_kl_z"}


def test_unpenalised_undoes_poutine_scale_and_hides_factors():
    vae = linear_gaussian_vae()
    vae.config.beta = BETA

    def with_factor(x):
        pyro.factor("penalty", torch.tensor(-123.0))
        vae.model(x)

    model_trace = poutine.trace(unpenalised(with_factor)).get_trace(X)
    guide_trace = poutine.trace(unpenalised(vae.guide)).get_trace(X)
    assert "penalty" not in model_trace.nodes
    assert model_trace.nodes["z"]["scale"] == 1.0 and guide_trace.nodes["z"]["scale"] == 1.0
    assert poutine.trace(vae.model).get_trace(X).nodes["z"]["scale"] == BETA


K = 4
INFO = DataInfo(image_shape=(1, 8, 8), num_classes=K, class_names=["a", "b", "c", "d"])


def _parted():
    model = build_model("parted", INFO, elbo="enum", class_dim=3, latent_dim=5, hidden_dim=16,
                        gamma_bc=30.0, alpha=7.0)
    with torch.no_grad():
        model.u_prior.means.mul_(0.1)          # crowd the components: the hinge is active
    assert float(model.bhattacharyya_penalty().detach()) > 0.1
    return model.eval()


def _hand_elbo(model, x: torch.Tensor, u: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """sum_k q(k|x) [log p(x, u_k, z, k) - log q(u_k|x, k) q(z|x)] + H[q(c|x)] per image."""
    h = model.encoder(x)
    log_q = model.classifier(h).log_softmax(-1)
    z_loc, z_scale = model.z_head.loc_scale(h)
    total = torch.zeros(x.shape[0])
    for k in range(K):
        mask = torch.sigmoid(model.slope * model.attention.weight[k])
        u_loc, u_scale = model.u_head.loc_scale(h * mask)
        prior = model.u_prior
        log_joint = (math.log(1 / K)
                     + dist.Normal(prior.means[k], prior.scales[k]).log_prob(u[k]).sum(-1)
                     + dist.Normal(0.0, 1.0).log_prob(z).sum(-1)
                     + model.likelihood(model.decoder(torch.cat([z, u[k]], -1))).log_prob(x))
        log_guide = (dist.Normal(u_loc, u_scale).log_prob(u[k]).sum(-1)
                     + dist.Normal(z_loc, z_scale).log_prob(z).sum(-1))
        total = total + log_q[:, k].exp() * (log_joint - log_guide)
    return total - (log_q.exp() * log_q).sum(-1)


@torch.no_grad()
def test_val_elbo_of_the_class_related_model_leaves_the_penalty_out():
    model = _parted()
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    elbo = make_elbo("enum")
    pyro.set_rng_seed(3)
    got = float(elbo_per_point(model, elbo, Batch(x, y)))
    pyro.set_rng_seed(3)      # the same samples: u for every class (K, B, D_u), z (B, D_z)
    trace = poutine.trace(poutine.enum(model.guide, first_available_dim=-2)).get_trace(x)
    expected = float(_hand_elbo(model, x, trace.nodes["u"]["value"],
                                trace.nodes["z"]["value"]).mean())
    assert got == pytest.approx(expected, rel=1e-5)

    pyro.set_rng_seed(3)
    objective = -float(model.loss(elbo, Batch(x)))      # what val_elbo used to report
    hinge = float(bhattacharyya_hinge(model.u_prior.means, model.u_prior.scales ** 2,
                                      model.config.tau))
    assert objective == pytest.approx(expected - 30.0 * hinge, rel=1e-5)

    terms = model.objective_terms(elbo, Batch(x, y))
    assert float(terms["bhattacharyya_penalty"]) == pytest.approx(30.0 * hinge, rel=1e-6)
    log_qy = model.classifier(model.encoder(x)).log_softmax(-1)[torch.arange(6), y]
    assert float(terms["aux_classification"]) == pytest.approx(7.0 * float(log_qy.mean()),
                                                               rel=1e-6)
    assert set(terms) == {"bhattacharyya_penalty", "aux_classification"}


def test_validation_record_means_over_points_and_counts_accuracy():
    model = _parted()
    x = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    predicted = model.predict(x)
    record = validation_record(model, make_elbo("enum"), [Batch(x[:7], y[:7]),
                                                           Batch(x[7:], y[7:])])
    assert record["val_accuracy"] == pytest.approx(float((predicted == y).float().mean()))
    assert set(record) == {"val_elbo", "val_accuracy", "val_bhattacharyya_penalty",
                           "val_aux_classification", "val_recon", "val_kl_c", "val_kl_u",
                           "val_kl_z", "val_entropy_c", "val_supervised_ce"}
    assert record["val_bhattacharyya_penalty"] == pytest.approx(
        30.0 * float(model.bhattacharyya_penalty().detach()), rel=1e-5)


def test_semi_supervised_runs_log_validation_accuracy_every_epoch(tmp_path):
    run = api.train("m2", tmp_path / "run", model_options={"latent_dim": 2, "hidden_dim": 16},
                    train_config=TrainConfig(epochs=2, max_train=200, labels=50, seed=0),
                    tensorboard=True, figures=False)
    records = [json.loads(line) for line in
               (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(0.0 <= r["val_accuracy"] <= 1.0 for r in records) and len(records) == 2
    assert all("val_aux_classification" in r for r in records)
    model = run.model.eval()
    val = run.splits.val
    with torch.no_grad():
        hits = (model.predict(val.pixels(torch.arange(len(val)))) == val.targets).float()
    assert records[-1]["val_accuracy"] == pytest.approx(float(hits.mean()))

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert [e.value for e in events.Scalars("val_accuracy")] == pytest.approx(
        [r["val_accuracy"] for r in records], rel=1e-6)
