"""M2: the enumerated ELBO against the explicit sum over classes, the auxiliary term,
a few training steps on digits, and the command line end to end.

Training and evaluation run in a fresh interpreter (``run_cli``); the
interventions and refused options go through ``runners.cli.main`` in-process.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from pyro_vaes.data import load_dataset
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.training.plans import SemiSupervisedPlan
from runners.cli import main
from tests.conftest import run_cli

K, B = 3, 4


def tiny_m2(**options):
    torch.manual_seed(0)
    info = DataInfo((1, 1, 3), num_classes=K)
    return build_model("m2", info, {"latent_dim": 2, "hidden_dim": 5, **options})


def images() -> torch.Tensor:
    return torch.rand(B, 1, 1, 3, generator=torch.Generator().manual_seed(5))


def normal_log_pdf(v, loc, scale):
    return (-0.5 * math.log(2 * math.pi) - torch.log(scale) - 0.5 * ((v - loc) / scale) ** 2
            ).sum(-1)


def test_enumerated_elbo_equals_the_explicit_sum_over_classes():
    model = tiny_m2()
    x = images()
    torch.manual_seed(9)
    loss = model.loss(make_elbo("enum", max_plate_nesting=1), Batch(x))
    # By hand: the guide draws z_k ~ q(z | x, k) for all K classes at once (shape (K, B, D)).
    torch.manual_seed(9)
    h = model.encoder(x)
    one_hot = F.one_hot(torch.arange(K), K).float()[:, None, :].expand(K, B, K)
    loc, scale = model.posterior.loc_scale(torch.cat([h.expand(K, B, -1), one_hot], -1))
    z = torch.distributions.Normal(loc, scale).rsample()
    logits = model.decoder(torch.cat([z, one_hot], -1))
    log_px = (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(-3).sum(-1)
    log_qy = torch.log_softmax(model.class_head(h), -1).T                  # (K, B)
    terms = (math.log(1 / K) + log_px + normal_log_pdf(z, torch.zeros(()), torch.ones(()))
             - normal_log_pdf(z, loc, scale) - log_qy)
    expected = (log_qy.exp() * terms).sum(0).mean()
    torch.testing.assert_close(-loss, expected, rtol=1e-5, atol=1e-5)


def test_auxiliary_term_is_added_on_labelled_batches_only():
    x, y = images(), torch.tensor([0, 2, 1, 2])
    elbo = make_elbo("enum", max_plate_nesting=1)
    losses = {}
    for alpha in (0.0, 7.0):
        model = tiny_m2(aux_weight=alpha)
        for name, batch in (("labelled", Batch(x, y)), ("unlabelled", Batch(x))):
            torch.manual_seed(1)
            losses[alpha, name] = model.loss(elbo, batch)
    log_qy_x = torch.log_softmax(model.class_head(model.encoder(x)), -1)[torch.arange(B), y]
    torch.testing.assert_close(losses[7.0, "labelled"] - losses[0.0, "labelled"],
                               -7.0 * log_qy_x.mean())
    torch.testing.assert_close(losses[7.0, "unlabelled"], losses[0.0, "unlabelled"])


def test_a_few_steps_on_digits_lower_the_loss():
    splits = load_dataset("digits", seed=0, max_train=600)
    model = build_model("m2", DataInfo.from_splits(splits), {"hidden_dim": 64})
    elbo = make_elbo("enum", max_plate_nesting=1)
    plan = SemiSupervisedPlan(model, splits, batch_size=64, labels=100, seed=0)
    held_out = Batch(splits.val.pixels(torch.arange(128)))

    def validation_loss() -> float:
        torch.manual_seed(0)
        with torch.no_grad():
            return float(model.loss(elbo, held_out))

    before = validation_loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(3):
        for batch in plan.train_batches(torch.Generator().manual_seed(0)):
            optimizer.zero_grad()
            model.loss(elbo, batch).backward()
            optimizer.step()
    after = validation_loss()
    assert after < before - 5.0, (before, after)


# -- the command line ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("m2") / "run"
    # each labelled image 5 times an epoch (about what earlier versions' cycling gave here)
    result = run_cli("train", "m2", "--out", str(out), "--epochs", "2", "--labels", "200",
                     "--labelled-repeats", "5", "--hidden-dim", "64", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "trained m2 for 2 epochs" in result.stdout
    return out


def test_evaluate_reports_the_accuracy_of_q_y_given_x(trained):
    result = run_cli("evaluate", str(trained), "-k", "10")
    assert result.returncode == 0, result.stderr
    figures = json.loads((trained / "evaluation-test.json").read_text())
    assert figures["accuracy"] > 0.5
    for key in ("leakage_probe_accuracy", "intervention_success", "diversity"):
        assert 0 <= figures[key] <= 1


@pytest.mark.parametrize("kind,names", [
    ("traverse", [f"traverse-test{n}.png" for n in range(2)]),
    ("generate", ["generate.png"]),
    ("swap", ["swap.png"]),
    ("flip", ["flip.png"]),
])
def test_each_intervention_writes_its_grids(trained, tmp_path, capsys, kind, names):
    args = ["intervene", kind, str(trained), "--out", str(tmp_path), "--num-images", "2"]
    assert main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert capsys.readouterr().out.count("written") == len(names)


@pytest.mark.parametrize("args,message", [
    (["--labelled-fraction", "1.5"], "--labelled-fraction must be at most 1.0"),
    (["--labels", "0"], "--labels must be at least 1"),
    (["--aux-weight", "-1"], "--aux-weight must be at least 0"),
])
def test_bad_options_give_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    assert main(["train", "m2", "--out", str(tmp_path / "r"), "--epochs", "1", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
