"""The KL column of the influential-factors analysis is against the model's own prior.

- a conditional prior at the image's label (CCVAE z_c, class-related u):
  ``kl_to_prior_given_label`` equals the closed-form Gaussian KL;
- a mixture prior (VAE ``--prior mixture``; the label-marginal priors of the CCVAE
  and the class-related u): ``kl_to_prior`` (Monte Carlo) equals the KL computed by
  numerical integration on a fine grid;
- a standard Normal prior: ``kl_to_prior`` equals ``kl_to_standard_normal``.
"""

from __future__ import annotations

import math

import pytest
import torch

from pyro_vaes.analysis.influence import analyse_latents
from pyro_vaes.analysis.latent_priors import gaussian_kl, prior_kls_of
from pyro_vaes.data.dataset import ImageDataset
from pyro_vaes.models import DataInfo, build_model

K = 4
INFO = DataInfo((1, 8, 8), num_classes=K, class_names=["a", "b", "c", "d"])


def _dataset(n: int = 40, attributes: int | None = None) -> ImageDataset:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
    targets = torch.arange(n) % K
    attrs = (torch.rand(n, attributes, generator=g) > 0.5).float() if attributes else None
    return ImageDataset("toy", images, targets=targets, class_names=list("abcd"),
                        attributes=attrs,
                        attribute_names=[f"a{i}" for i in range(attributes or 0)] or None)


def _spread(*params: torch.Tensor, seed: int = 1, scale: float = 1.0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in params:
            p.add_(scale * torch.randn(p.shape, generator=g))


def integrated_kl(loc: torch.Tensor, scale: torch.Tensor, weights: torch.Tensor,
                  means: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """E_n KL(N(loc_n, scale_n^2) || sum_k w_k N(means_k, scales_k^2)) by the trapezoid rule
    on 8001 points over +-12 scales; loc, scale (N,), mixture (K,) or (N, K)."""
    loc, scale = loc.double()[:, None], scale.double()[:, None]
    grid = torch.linspace(-12, 12, 8001, dtype=torch.float64)
    z = loc + scale * grid                                                  # (N, G)
    log_q = torch.distributions.Normal(loc, scale).log_prob(z)
    w, m, s = (t.double() for t in (weights, means, scales))
    w, m, s = (t if t.dim() == 2 else t.expand(loc.shape[0], -1) for t in (w, m, s))
    log_p = torch.logsumexp(w.log()[:, :, None] + torch.distributions.Normal(
        m[:, :, None], s[:, :, None]).log_prob(z[:, None, :]), dim=1)
    integrand = log_q.exp() * (log_q - log_p)
    return torch.trapezoid(integrand, z, dim=1).mean()


def test_gaussian_kl_by_hand():
    got = gaussian_kl(*(torch.tensor(v, dtype=torch.float64) for v in (0.5, 2.0, -1.0, 3.0)))
    want = math.log(3 / 2) + (4 + 1.5**2) / (2 * 9) - 0.5
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_ccvae_class_label_conditional_and_marginal_prior():
    torch.manual_seed(0)
    model = build_model("ccvae", INFO, {"hidden_dim": 16, "latent_dim": K + 2}).eval()
    with torch.no_grad():       # modes "off" near -2 and "on" near +3, unequal widths
        model.conditional_prior.loc.copy_(torch.tensor([[-2.0, -1.5, -2.5, -1.0],
                                                        [3.0, 2.0, 2.5, 1.5]]))
        model.conditional_prior.raw_scale.copy_(torch.tensor([[0.0, -0.5, 0.3, -1.0],
                                                              [-0.3, 0.2, -0.7, 0.5]]))
    model.observe_labelled(torch.tensor([0, 0, 0, 1, 2, 2, 3]))
    data = _dataset()
    kls = prior_kls_of(model, data, labels=data.targets, num_samples=4000,
                       generator=torch.Generator().manual_seed(2))
    x = data.pixels(torch.arange(len(data)))
    with torch.no_grad():
        loc, scale = model.encode(x)[:2]
        prior_loc = model.conditional_prior.loc.detach()
        prior_scale = model.conditional_prior.scales()
        probs = model.label_probs
    on = (data.targets[:, None] == torch.arange(K)).long()                 # (N, K)
    for j in range(K):
        given = gaussian_kl(loc[:, j].double(), scale[:, j].double(),
                            prior_loc[on[:, j], j].double(), prior_scale[on[:, j], j].double())
        assert float(kls["z_c"]["kl_to_prior_given_label"][j]) == pytest.approx(
            float(given.mean()), rel=1e-9)
        weights = torch.stack([1 - probs[j], probs[j]])                    # p(y != j), p(y == j)
        marginal = integrated_kl(loc[:, j], scale[:, j], weights, prior_loc[:, j],
                                 prior_scale[:, j])
        assert float(kls["z_c"]["kl_to_prior"][j]) == pytest.approx(float(marginal), abs=0.01)
        standard = gaussian_kl(loc[:, j].double(), scale[:, j].double(), 0.0, 1.0).mean()
        assert abs(float(kls["z_c"]["kl_to_prior"][j]) - float(standard)) > 0.05
    assert set(kls["z_s"]) == {"kl_to_prior"}                              # N(0, I): no label


def test_ccvae_binary_attributes_marginal_prior():
    info = DataInfo((1, 8, 8), attribute_names=["a0", "a1", "a2"])
    torch.manual_seed(0)
    model = build_model("ccvae", info, {"hidden_dim": 16, "latent_dim": 5,
                                        "label_kind": "attributes"}).eval()
    _spread(model.conditional_prior.loc, model.conditional_prior.raw_scale, scale=0.7)
    model.observe_labelled(torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    data = _dataset(attributes=3)
    kls = prior_kls_of(model, data, labels=data.attributes, num_samples=4000,
                       generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        loc, scale = model.encode(data.pixels(torch.arange(len(data))))[:2]
        prior_loc = model.conditional_prior.loc.detach()
        prior_scale = model.conditional_prior.scales()
        probs = model.label_probs
    for j in range(3):
        weights = torch.stack([1 - probs[j], probs[j]])
        marginal = integrated_kl(loc[:, j], scale[:, j], weights, prior_loc[:, j],
                                 prior_scale[:, j])
        assert float(kls["z_c"]["kl_to_prior"][j]) == pytest.approx(float(marginal), abs=0.01)
        on = data.attributes[:, j].long()
        given = gaussian_kl(loc[:, j].double(), scale[:, j].double(),
                            prior_loc[on, j].double(), prior_scale[on, j].double())
        assert float(kls["z_c"]["kl_to_prior_given_label"][j]) == pytest.approx(
            float(given.mean()), rel=1e-9)


def test_vae_mixture_prior_by_numerical_integration():
    torch.manual_seed(0)
    model = build_model("vae", INFO, {"hidden_dim": 16, "latent_dim": 3, "prior": "mixture",
                                      "mixture_components": 5}).eval()
    _spread(model.prior.logits, model.prior.raw_log_variances, scale=0.5)
    data = _dataset()
    analysis = analyse_latents(model, data, kl_samples=4000)
    rows = {row["dim"]: row for row in analysis.rows()}
    loc, scale = analysis.sites["z"].loc, analysis.sites["z"].scale
    prior = model.prior
    with torch.no_grad():
        weights, means, scales = prior.logits.softmax(-1), prior.means.detach(), prior.scales
    for j in range(3):
        want = integrated_kl(loc[:, j], scale[:, j], weights, means[:, j], scales[:, j])
        assert rows[j]["kl_to_prior"] == pytest.approx(float(want), abs=0.01)
        assert rows[j]["kl_to_prior_given_label"] is None
        assert rows[j]["kl_to_prior"] != pytest.approx(rows[j]["kl_to_standard_normal"],
                                                       abs=0.05)
        assert rows[j]["mi_mixture"] <= rows[j]["kl_to_prior"] + 0.02       # I <= KL to any p


def test_standard_normal_prior_gives_the_standard_normal_kl():
    model = build_model("vae", INFO, {"hidden_dim": 16, "latent_dim": 3}).eval()
    for row in analyse_latents(model, _dataset()).rows():
        assert row["kl_to_prior"] == pytest.approx(row["kl_to_standard_normal"], rel=1e-9)


def test_class_related_u_marginal_and_given_label():
    torch.manual_seed(0)
    model = build_model("parted", INFO, {"hidden_dim": 16, "class_dim": 2, "latent_dim": 4},
                        elbo="enum").eval()
    _spread(model.u_prior.raw_log_variances, scale=0.5)
    data = _dataset()
    kls = prior_kls_of(model, data, labels=data.targets, num_samples=4000,
                       generator=torch.Generator().manual_seed(3))
    x = data.pixels(torch.arange(len(data)))
    with torch.no_grad():
        h = model.encoder(x)
        predicted = model.class_logits(h).argmax(-1)
        u_pred = model.u_posterior(h, predicted)              # read under the predicted class
        u_true = model.u_posterior(h, data.targets)           # the guide told the label
        means, scales = model.u_prior.means.detach(), model.u_prior.scales
    weights = torch.full((K,), 1 / K)
    for j in range(2):
        want = integrated_kl(u_pred.mean[:, j], u_pred.stddev[:, j], weights, means[:, j],
                             scales[:, j])
        assert float(kls["u"]["kl_to_prior"][j]) == pytest.approx(float(want), abs=0.01)
        given = gaussian_kl(u_true.mean[:, j].double(), u_true.stddev[:, j].double(),
                            means[data.targets, j].double(), scales[data.targets, j].double())
        assert float(kls["u"]["kl_to_prior_given_label"][j]) == pytest.approx(
            float(given.mean()), rel=1e-9)
    assert set(kls["z"]) == {"kl_to_prior"}
