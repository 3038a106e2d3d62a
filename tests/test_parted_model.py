"""The class-related VAE: its ELBO against a brute-force sum over classes, the decoder's and the
attention's independence claims, gradient flow, the extra terms and the slope schedule."""

from __future__ import annotations

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.infer import TraceEnum_ELBO

from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.models.parted.objective import (
    analytic_kls,
    batch_entropy_terms,
    capacity_penalty,
)
from pyro_vaes.priors import GaussianMixturePrior
from pyro_vaes.training import Trainer

K = 4
INFO = DataInfo(image_shape=(1, 8, 8), num_classes=K, class_names=["a", "b", "c", "d"])


def _model(**options):
    options = {"class_dim": 3, "latent_dim": 5, "hidden_dim": 16, **options}
    return build_model("parted", INFO, elbo="enum", **options)


def _images(n: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def _crowd_components(model) -> None:
    """Put the prior's components close together so that the BC hinge is active."""
    with torch.no_grad():
        model.u_prior.means.mul_(0.1)
    assert float(model.bhattacharyya_penalty().detach()) > 0


def _brute_force_elbo(model, x: torch.Tensor, u: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """sum_b [ sum_k q(k|x_b) ELBO_k(x_b) + H[q(c|x_b)] ], written out by hand (the
    Bhattacharyya penalty is no part of the model: the loss adds it once per batch)."""
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
    entropy = -(log_q.exp() * log_q).sum(-1)
    return (total + entropy).sum()


@pytest.mark.parametrize("gamma_bc", [0.0, 30.0])
def test_enumerated_elbo_equals_the_q_weighted_sum_of_per_class_elbos(gamma_bc):
    model = _model(gamma_bc=gamma_bc)
    _crowd_components(model)
    x = _images()
    elbo = TraceEnum_ELBO(max_plate_nesting=1)
    pyro.set_rng_seed(3)
    loss = elbo.differentiable_loss(model.model, model.guide, x)
    # The same seed gives the guide's samples: u for every class (K, B, D_u), z (B, D_z).
    pyro.set_rng_seed(3)
    trace = poutine.trace(poutine.enum(model.guide, first_available_dim=-2)).get_trace(x)
    u, z = trace.nodes["u"]["value"], trace.nodes["z"]["value"]
    assert u.shape == (K, 5, 3) and z.shape == (5, 2)
    expected = _brute_force_elbo(model, x, u, z)
    assert float(loss.detach()) == pytest.approx(-float(expected.detach()), rel=1e-5)


def test_penalty_enters_the_per_image_loss_with_weight_gamma_bc():
    x = _images(8)
    losses = {}
    model = _model()
    _crowd_components(model)
    for gamma in (0.0, 30.0):
        model.config.gamma_bc = gamma
        pyro.set_rng_seed(1)
        losses[gamma] = float(model.loss(make_elbo("enum"), Batch(x)).detach())
    penalty = float(model.bhattacharyya_penalty().detach())
    assert losses[30.0] - losses[0.0] == pytest.approx(30.0 * penalty, rel=1e-4)


def test_supervised_term_is_alpha_times_the_mean_cross_entropy_of_q_c_given_x():
    x, y = _images(6), torch.tensor([0, 1, 2, 3, 0, 1])
    losses = {}
    model = _model()
    for alpha in (0.0, 7.0):
        model.config.alpha = alpha
        pyro.set_rng_seed(2)
        losses[alpha] = float(model.loss(make_elbo("enum"), Batch(x, y)).detach())
    logits = model.classifier(model.encoder(x))
    cross_entropy = float(torch.nn.functional.cross_entropy(logits, y).detach())
    assert losses[7.0] - losses[0.0] == pytest.approx(7.0 * cross_entropy, rel=1e-4)


def test_changing_c_at_fixed_u_and_z_leaves_the_decoder_output_unchanged():
    model = _model()
    x = _images(3)
    u, z = torch.randn(3, 3), torch.randn(3, 2)
    outputs, u_priors = [], []
    for c in (torch.tensor([0, 0, 0]), torch.tensor([3, 1, 2])):
        conditioned = poutine.condition(model.model, data={"u": u, "z": z})
        trace = poutine.trace(conditioned).get_trace(x, c)
        outputs.append(trace.nodes["x"]["fn"].base_dist.logits)
        u_priors.append(trace.nodes["u"]["fn"].log_prob(u))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    assert not torch.allclose(u_priors[0], u_priors[1])  # c does act, through p(u | c)


def test_attention_of_a_class_gates_only_u():
    model = _model()
    k, half = 2, 8
    with torch.no_grad():
        model.attention.weight[k, :half] = -1e4  # class k reads features half.. only
        model.attention.weight[k, half:] = 1e4
    h = torch.rand(4, 16)
    perturbed = h.clone()
    perturbed[:, :half] += torch.randn(4, half)
    c = torch.full((4,), k)
    for a, b in ((model.u_posterior(h, c), model.u_posterior(perturbed, c)),):
        torch.testing.assert_close(a.base_dist.loc, b.base_dist.loc, rtol=0, atol=0)
        torch.testing.assert_close(a.base_dist.scale, b.base_dist.scale, rtol=0, atol=0)
    # Another class (open mask) and z (no mask) do see the perturbed features.
    other = torch.zeros(4, dtype=torch.long)
    assert not torch.allclose(model.u_posterior(h, other).base_dist.loc,
                              model.u_posterior(perturbed, other).base_dist.loc)
    assert not torch.allclose(model.z_posterior(h).base_dist.loc,
                              model.z_posterior(perturbed).base_dist.loc)
    # Changing every mask leaves q(z | x) alone.
    before = model.z_posterior(h).base_dist.loc.clone()
    with torch.no_grad():
        model.attention.weight.normal_()
    torch.testing.assert_close(model.z_posterior(h).base_dist.loc, before, rtol=0, atol=0)


def _grads(model, loss: torch.Tensor) -> dict[str, torch.Tensor | None]:
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {name: p.grad for name, p in model.named_parameters()}


def _nonzero(grad: torch.Tensor | None) -> bool:
    return grad is not None and bool(grad.abs().sum() > 0)


def test_gradients_reach_attention_prior_classifier_and_nets_through_the_elbo():
    model = _model(gamma_bc=0.0)
    grads = _grads(model, model.loss(make_elbo("enum"), Batch(_images(8))))
    for name in ("attention.weight", "u_prior.means", "u_prior.raw_log_variances",
                 "classifier.weight", "u_head.loc.weight", "z_head.loc.weight",
                 "encoder.net.0.weight", "decoder.net.0.weight"):
        assert _nonzero(grads[name]), name
    assert "u_prior.logits" not in grads  # the class prior pi is fixed


def test_gradients_reach_the_prior_through_the_penalty_alone():
    model = _model()
    _crowd_components(model)
    grads = _grads(model, model.bhattacharyya_penalty())
    assert _nonzero(grads["u_prior.means"]) and _nonzero(grads["u_prior.raw_log_variances"])
    assert not _nonzero(grads["attention.weight"])


def test_classifier_learns_from_labels_only_through_the_supervised_term():
    x, y = _images(6), torch.tensor([0, 1, 2, 3, 0, 1])
    silent = _grads(m := _model(alpha=0.0), m.loss(make_elbo("enum"), Batch(x, y)))
    assert not _nonzero(silent["classifier.weight"])
    grads = _grads(m := _model(alpha=5.0), m.loss(make_elbo("enum"), Batch(x, y)))
    assert _nonzero(grads["classifier.weight"]) and _nonzero(grads["attention.weight"])


def test_representation_of_u_is_the_q_weighted_mean_of_the_per_class_means():
    model = _model().eval()
    x = _images(3)
    rep = model.representation(x)
    h = model.encoder(x)
    probs = model.classifier(h).softmax(-1)
    expected = sum(probs[:, k:k + 1] * model.u_posterior(h, torch.full((3,), k)).base_dist.loc
                   for k in range(K))
    torch.testing.assert_close(rep["u"], expected)
    torch.testing.assert_close(rep["c"], probs)
    assert model.reconstruct(x).shape == x.shape
    assert model.generate(5).shape == (5, 1, 8, 8)


def test_batch_entropy_terms_and_capacity_by_hand():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    # per-image entropies: log 2 and H(3/4, 1/4); marginal (5/8, 3/8)
    h2 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    marginal = -(5 / 8 * math.log(5 / 8) + 3 / 8 * math.log(3 / 8))
    assert float(batch_entropy_terms(logits)) == pytest.approx((math.log(2) + h2) / 2 - marginal,
                                                               abs=1e-6)
    value = capacity_penalty(torch.tensor(3.0), torch.tensor(0.5), step=50, steps=100,
                             max_continuous=10.0, max_discrete=2.0)
    assert float(value) == pytest.approx(abs(5.0 - 3.0) + abs(1.0 - 0.5))


@torch.no_grad()
def test_analytic_kls_match_closed_forms():
    model = _model()
    h = torch.rand(3, 16)
    logits = torch.tensor([[2.0, 0.0, 0.0, -1.0]]).expand(3, K)
    classes = torch.arange(K).unsqueeze(-1)
    kl_cont, kl_disc = analytic_kls(logits, model.u_prior.logits, model.u_posterior(h, classes),
                                    model.class_component(classes), model.z_posterior(h))
    q = logits[0].softmax(-1)
    assert float(kl_disc) == pytest.approx(float((q * (q.log() + math.log(K))).sum()), rel=1e-5)
    # KL of one diagonal Gaussian to another, written out, for z and each class of u.
    def kl(m1, s1, m2, s2):
        return (torch.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5).sum(-1)
    z_loc, z_scale = model.z_head.loc_scale(h)
    expected = kl(z_loc, z_scale, torch.zeros(2), torch.ones(2))
    for k in range(K):
        loc, scale = model.u_head.loc_scale(model.attention(h, torch.tensor(k), model.slope))
        expected = expected + q[k] * kl(loc, scale, model.u_prior.means[k],
                                        model.u_prior.scales[k])
    assert float(kl_cont) == pytest.approx(float(expected.mean()), rel=1e-5)


def test_extras_change_the_loss_only_when_switched_on():
    x = _images(4)
    values = {}
    model = _model(net="mlp")  # its untrained q(c|x) differs enough between images
    for key, options in {"off": {}, "capacity": {"capacity_weight": 1.0},
                         "entropy": {"entropy_weight": 1.0}}.items():
        model.config.capacity_weight = options.get("capacity_weight", 0.0)
        model.config.entropy_weight = options.get("entropy_weight", 0.0)
        pyro.set_rng_seed(0)
        values[key] = float(model.loss(make_elbo("enum"), Batch(x)).detach())
    assert values["capacity"] > values["off"]
    assert values["entropy"] != pytest.approx(values["off"])


def test_slope_is_annealed_by_the_trainer_hook_and_final_in_evaluation():
    model = _model(slope_start=1.0, slope_end=8.0)
    model.on_epoch_start(0, 5)
    assert float(model.slope) == 1.0
    model.on_epoch_start(2, 5)
    assert float(model.slope) == pytest.approx(4.5)
    model.eval()
    assert float(model.slope) == 8.0
    splits = load_dataset("digits", max_train=120)
    seen = []
    trained = build_model("parted", DataInfo.from_splits(splits), elbo="enum", hidden_dim=16)
    hook = trained.on_epoch_start
    trained.on_epoch_start = lambda epoch, epochs: (seen.append((epoch, epochs)),
                                                    hook(epoch, epochs))
    Trainer(trained, splits, TrainConfig(epochs=3, batch_size=64, labels=20)).fit()
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert float(trained.train_slope) == 8.0


def test_slope_epochs_reach_the_final_slope_early_and_keep_it():
    model = _model(slope_start=1.0, slope_end=8.0, slope_epochs=3)
    by_epoch = []
    for epoch in range(6):
        model.on_epoch_start(epoch, 30)
        by_epoch.append(float(model.slope))
    assert by_epoch == pytest.approx([1.0, 4.5, 8.0, 8.0, 8.0, 8.0])
    single = _model(slope_start=1.0, slope_end=8.0, slope_epochs=1)
    single.on_epoch_start(0, 30)
    assert float(single.slope) == 8.0


def test_the_u_prior_is_the_foundation_mixture_also_under_a_plain_vae():
    model = _model()
    vae = build_model("vae", INFO, prior="mixture", mixture_components=K)
    assert type(model.u_prior) is GaussianMixturePrior is type(vae.prior)
    assert model.u_prior.num_components == K and model.u_prior.latent_dim == 3
    torch.testing.assert_close(model.class_prior().probs, torch.full((K,), 1 / K))


@pytest.mark.parametrize(("options", "words"), [
    ({"mixture_components": 3}, "has no option --mixture-components"),
    ({"guide": "lowrank"}, "has no option --guide"),
    ({"prior": "normal"}, "has no option --prior"),
])
def test_bad_options_are_refused(options, words):
    with pytest.raises(ConfigError, match=words):
        _model(**options)


def test_data_without_classes_is_refused():
    with pytest.raises(ConfigError, match="needs targets"):
        build_model("parted", DataInfo(image_shape=(1, 8, 8)))
    with pytest.raises(ConfigError, match="elbo"):
        build_model("parted", INFO, elbo="trace")


@pytest.mark.parametrize("dims", [1, 2])
def test_prior_components_figure_is_written_for_one_and_more_dimensions(tmp_path, dims):
    from pyro_vaes.inference.bhattacharyya import pairwise_bhattacharyya
    from pyro_vaes.models.parted.plots import save_prior_components

    means, scales = torch.randn(3, dims), torch.rand(3, dims) + 0.5
    path = save_prior_components(means, scales, pairwise_bhattacharyya(means, scales ** 2),
                                 ["a", "b", "c"], tmp_path / "p.png", tau=0.15)
    assert path.stat().st_size > 5000
