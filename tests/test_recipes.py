"""Recipes and the terms they add, against hand calculations (docs/models/*.md, "Recipes")."""

from __future__ import annotations

import json
import math

import pyro
import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.models.parted.objective import (
    batch_class_kl,
    capacity_hinge,
    enumerated_terms,
    linear_capacity,
    mean_class_entropy,
)
from pyro_vaes.recipes import get_recipe, recipe_configs, recipes_of
from pyro_vaes.training.plans import PLANS
from pyro_vaes.training.trainer import make_optimizer


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, max_train=256)


# -- the class-related model's capacity objective ------------------------------------------
def test_linear_capacity_and_its_hinge_by_hand():
    # C(t) = 7 * min(1, t / 100000): 0.07 nats at step 1000, 7 from step 100000 on
    assert linear_capacity(1000, 100_000, 7.0) == pytest.approx(0.07)
    assert linear_capacity(250_000, 100_000, 7.0) == 7.0
    # 15 |0.07 - 2.0| = 28.95 and 15 |0.07 - 0.01| = 0.9: pulled from either side
    assert float(capacity_hinge(torch.tensor(2.0), 0.07, 15.0)) == pytest.approx(28.95)
    assert float(capacity_hinge(torch.tensor(0.01), 0.07, 15.0)) == pytest.approx(0.9)


def test_batch_kl_and_mean_entropy_of_c_by_hand():
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    prior = torch.log(torch.tensor([0.5, 0.25, 0.25]))
    # qbar = (0.25, 0.5, 0.25): KL = 0.25 ln(0.5) + 0.5 ln(2) + 0.25 ln(1) = 0.25 ln 2
    assert float(batch_class_kl(probs, prior)) == pytest.approx(0.25 * math.log(2), abs=1e-6)
    # each image spreads over two classes: H = ln 2 for both (0 log 0 = 0)
    assert float(mean_class_entropy(probs)) == pytest.approx(math.log(2), abs=1e-6)


def test_enumerated_terms_weight_every_class_by_q():
    probs = torch.tensor([[0.25, 0.75], [1.0, 0.0]])          # (B=2, K=2)
    log_lik = torch.tensor([[-10.0, -20.0], [-30.0, -40.0]])   # (K, B)
    u_kl = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    terms = enumerated_terms(probs, log_lik, u_kl, torch.tensor([0.5, 1.5]))
    # image 1: 0.25 * -10 + 0.75 * -30 = -25; image 2: 1 * -20 = -20; mean -22.5
    assert float(terms["recon"]) == pytest.approx(-22.5)
    assert float(terms["kl_u"]) == pytest.approx((0.25 * 1 + 0.75 * 3 + 2.0) / 2)
    assert float(terms["kl_z"]) == pytest.approx(1.0)


def _parted(digits, **options):
    torch.manual_seed(0)
    return build_model("parted", DataInfo.from_splits(digits),
                       {"hidden_dim": 16, "net": "mlp", **get_recipe("parted", "authors")
                        .model_options, **options})


def test_capacity_loss_is_the_sum_of_its_terms(digits):
    model = _parted(digits).train()
    model.steps.fill_(5000)
    x = digits.train.pixels(torch.arange(32))
    pyro.set_rng_seed(1)
    terms = model.capacity_objective(x)
    c = model.config
    # C(5000) = 7 * 0.05 = 0.35 nats for both z and u
    terms = {k: v.detach() for k, v in terms.items()}
    assert float(terms["z_capacity_penalty"]) == pytest.approx(
        15 * abs(0.35 - float(terms["kl_z"])), rel=1e-5)
    assert float(terms["u_capacity_penalty"]) == pytest.approx(
        15 * abs(0.35 - float(terms["kl_u"])), rel=1e-5)
    expected = (-terms["recon"] + terms["z_capacity_penalty"] + terms["u_capacity_penalty"]
                + c.c_kl_weight * terms["c_batch_kl"] + c.c_entropy_weight * terms["c_entropy"]
                + terms["bhattacharyya_penalty"])
    assert float(terms["loss"]) == pytest.approx(float(expected), rel=1e-6)
    # the batch terms read q(c|x) itself
    probs = model.classify(x).detach()
    assert float(terms["c_entropy"]) == pytest.approx(float(mean_class_entropy(probs)), rel=1e-5)


def test_capacity_kls_match_a_direct_computation(digits):
    model = _parted(digits).train()
    x = digits.train.pixels(torch.arange(8))
    terms = {k: v.detach() for k, v in model.capacity_objective(x).items()}
    h = model.encoder(x)
    loc, scale = model.z_head.loc_scale(h) if hasattr(model.z_head, "loc_scale") else (
        model.z_posterior(h).mean, model.z_posterior(h).stddev)
    # KL(N(m, s^2) || N(0, 1)) = 1/2 sum(s^2 + m^2 - 1 - 2 log s)
    kl_z = 0.5 * (scale ** 2 + loc ** 2 - 1 - 2 * scale.log()).sum(-1).mean()
    assert float(terms["kl_z"]) == pytest.approx(float(kl_z.detach()), rel=1e-5)


def test_entropy_weight_acts_on_unlabelled_batches(digits):
    x = digits.train.pixels(torch.arange(16))
    losses = []
    for weight in (30.0, 2.0):
        model = _parted(digits, c_entropy_weight=weight).train()
        pyro.set_rng_seed(0)
        losses.append(float(model.capacity_objective(x)["loss"].detach()))
    assert losses[0] != pytest.approx(losses[1])


def test_slope_rises_per_step_and_is_the_final_one_in_evaluation(digits):
    model = _parted(digits).train()
    model.steps.fill_(10_000)
    assert float(model.slope) == pytest.approx(1 + 2e-4 * 10_000)   # 3.0
    model.steps.fill_(50_000)
    assert float(model.slope) == pytest.approx(8.0)                  # capped at slope_end
    model.on_epoch_start(0, 10)   # the epoch schedule does not override the per-step one
    assert float(model.slope) == pytest.approx(8.0)
    model.steps.fill_(1)
    assert float(model.eval().slope) == 8.0


def test_separate_supervised_steps_one_per_main_step(digits, tmp_path):
    train, model_options = recipe_configs(
        "parted", "authors", {"epochs": 2, "max_train": 128, "labels": 20, "batch_size": 64},
        {"hidden_dim": 16, "net": "mlp"})
    run = api.train("parted", tmp_path / "run", model_options=model_options, train_config=train,
                    figures=False)
    # every training image enters the main loss unlabelled: ceil(N_train / 64) main steps an
    # epoch (digits keeps 80% for training), and one supervised step after each
    main_steps = math.ceil(len(run.splits.train) / 64)
    assert [r["supervised_steps"] for r in run.history] == [main_steps, main_steps]
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    supervised = state["supervised"]
    assert supervised["count"] == 2 * main_steps
    adam_steps = {int(s["step"]) for s in supervised["optimizer"]["state"].values()}
    assert adam_steps == {2 * main_steps}
    assert all(r["supervised_loss"] > 0 for r in run.history)


def test_supervised_steps_move_only_the_classifiers_parameters(digits):
    model = _parted(digits)
    plan = PLANS["semi-supervised"](model, digits, batch_size=32, labels=40,
                                    labels_in_main_loss=False)
    from pyro_vaes.training.supervised import SupervisedSteps

    config = TrainConfig(labels=40, supervised_steps=1, labels_in_main_loss=False)
    steps = SupervisedSteps.build(model, plan, config, torch.device("cpu"), make_optimizer)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    steps.run()
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved and all(n.startswith(("encoder.", "classifier.")) for n in moved)
    assert plan.num_train_batches() == math.ceil(len(digits.train) / 32)


def test_supervised_steps_are_refused_where_they_cannot_run(digits):
    ccvae = build_model("ccvae", DataInfo.from_splits(digits), {"hidden_dim": 8})
    plan = PLANS["semi-supervised"](ccvae, digits, batch_size=32, labels=40)
    from pyro_vaes.training.supervised import SupervisedSteps

    with pytest.raises(ConfigError, match="offers no separate supervised steps"):
        SupervisedSteps.build(ccvae, plan, TrainConfig(supervised_steps=1), torch.device("cpu"),
                              make_optimizer)
    with pytest.raises(ConfigError, match="leaves the labels unused"):
        SupervisedSteps.build(ccvae, plan, TrainConfig(labels_in_main_loss=False),
                              torch.device("cpu"), make_optimizer)


# -- the CCVAE's detach and the remedy -------------------------------------------------------
def _encoder_grad_of_log_qy_zc(digits, detach: bool) -> float:
    torch.manual_seed(0)
    model = build_model("ccvae", DataInfo.from_splits(digits),
                        {"hidden_dim": 16, "net": "mlp", "classifier_detach": detach})
    x = digits.train.pixels(torch.arange(8))
    y = digits.train.targets[:8]
    trace = pyro.poutine.trace(model.guide).get_trace(x, y)
    log_qy = trace.nodes["y"]["fn"].log_prob(trace.nodes["y"]["value"]).sum()
    grads = torch.autograd.grad(log_qy, list(model.encoder.parameters()), allow_unused=True)
    return sum(float(g.abs().sum()) for g in grads if g is not None)


def test_ccvae_classifier_detach_cuts_the_encoder_gradient_of_log_q_y_given_zc(digits):
    assert _encoder_grad_of_log_qy_zc(digits, detach=True) == 0.0
    assert _encoder_grad_of_log_qy_zc(digits, detach=False) > 0.0   # the default


def test_aux_weight_scale_data_is_alpha_times_n_over_labelled():
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    for name in ("m2", "ccvae"):
        model = build_model(name, info, {"hidden_dim": 8, "aux_weight": 0.1,
                                         "aux_weight_scale": "data"})
        model.observe_labelled(torch.arange(10).repeat(10), num_train=55_000)
        assert model.aux_alpha == pytest.approx(0.1 * 55_000 / 100)    # Kingma: 0.1 N
        constant = build_model(name, info, {"hidden_dim": 8, "aux_weight": 5.0})
        constant.observe_labelled(torch.arange(10), num_train=55_000)
        assert constant.aux_alpha == 5.0


def test_ccvae_remedy_adds_alpha_log_q_y_given_x(digits):
    x = digits.train.pixels(torch.arange(8))
    y = digits.train.targets[:8]
    losses = {}
    for alpha in (0.0, 2.0):
        torch.manual_seed(0)
        model = build_model("ccvae", DataInfo.from_splits(digits),
                            {"hidden_dim": 16, "net": "mlp", "aux_weight": alpha})
        pyro.set_rng_seed(3)
        from pyro_vaes.models.ccvae.objective import supervised_terms

        terms = supervised_terms(model, x, y)
        pyro.set_rng_seed(3)
        losses[alpha] = float(model.loss(None, Batch(x, y)))
        assert losses[alpha] == pytest.approx(
            float(-(terms.bound + alpha * terms.log_qy_x).mean()), rel=1e-5)
    assert losses[2.0] > losses[0.0]     # log q(y|x) < 0: the remedy's term is a cost here


def test_ccvae_balanced_remedy_labels_one_step_in_five_at_any_label_count(digits):
    config, options = recipe_configs("ccvae", "authors-balanced", {"batch_size": 16})
    assert options["aux_weight"] == 0.1 and options["aux_weight_scale"] == "data"
    assert config.labelled_batch_every == 4 and config.labelled_repeats == 1
    model = build_model("ccvae", DataInfo.from_splits(digits), {"hidden_dim": 8, **options})
    plan_class = PLANS[model.plan]
    for labels, passes in ((16, 3), (64, 1)):
        plan = plan_class(model, digits, batch_size=16, labels=labels, seed=0,
                          labelled_batch_every=config.labelled_batch_every)
        batches = list(plan.train_batches(torch.Generator().manual_seed(0)))
        kinds = [b.y is not None for b in batches]
        # 256 - labels unlabelled images in batches of 16: 15 (240) or 12 (192) batches;
        # a labelled batch after every 4th: 3 labelled, at positions 4, 9, 14
        unlabelled = math.ceil((256 - labels) / 16)
        assert kinds.count(False) == unlabelled
        assert [i for i, k in enumerate(kinds) if k][:3] == [4, 9, 14]
        # the passes over the labelled set: 3 batches of 16 over 16 labels is 3 passes;
        # with 64 labels, 3 of the 4 labelled batches come in time and the 4th at the end
        used = sum(len(b.y) for b in batches if b.y is not None)
        assert used == passes * labels


# -- training options of the recipes -----------------------------------------------------------
def test_summed_loss_scales_the_gradient_by_the_batch_size(digits, tmp_path):
    grads = {}
    for reduction in ("mean", "sum"):
        config = TrainConfig(epochs=1, max_train=64, batch_size=64, loss_reduction=reduction,
                             lr=1e-9)
        from pyro_vaes.training.trainer import Trainer

        torch.manual_seed(0)
        model = build_model("vae", DataInfo.from_splits(digits), {"hidden_dim": 8})
        trainer = Trainer(model, digits, config)
        batch = next(iter(trainer.plan.train_batches(torch.Generator().manual_seed(0))))
        pyro.set_rng_seed(0)
        trainer._step(batch)
        grads[reduction] = torch.cat([p.grad.flatten() for p in model.parameters()
                                      if p.grad is not None])
    assert torch.allclose(grads["sum"], grads["mean"] * 64, rtol=1e-4, atol=1e-6)


def test_plateau_schedule_halves_the_rate_after_its_patience():
    from pyro_vaes.training.trainer import make_scheduler

    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1.0)
    config = TrainConfig(lr_schedule="plateau", plateau_patience=2, plateau_cooldown=0)
    scheduler = make_scheduler(optimizer, config)
    for loss in (10.0, 10.0, 10.0):       # the first sets the best; two without improvement
        scheduler.step(loss)
    assert optimizer.param_groups[0]["lr"] == 1.0
    scheduler.step(10.0)                  # a third: more than --plateau-patience 2
    assert optimizer.param_groups[0]["lr"] == 0.5
    scheduler.step(1.0)                   # an improvement of more than 1 % resets the count
    assert optimizer.param_groups[0]["lr"] == 0.5


# -- recipes as named option sets ---------------------------------------------------------------
def test_every_model_has_the_clean_story_and_an_authors_recipe():
    for model in ("vae", "m2", "ccvae", "mlvae", "parted"):
        names = list(recipes_of(model))
        assert names[0] == "elbo" and recipes_of(model)["elbo"].options() == {}
    assert {"kingma", "pyro-example"} <= set(recipes_of("m2"))
    assert {"authors", "authors-alpha"} <= set(recipes_of("ccvae"))
    assert "authors" in recipes_of("parted")
    with pytest.raises(ConfigError, match="choose one of: elbo, authors"):
        get_recipe("parted", "nope")


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """The command line in this process (torch is already loaded): exit code, out, err."""
    from runners.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_recipe_trains_the_same_run_from_the_flag_and_from_its_experiment_file(tmp_path,
                                                                                 capsys):
    small = ["--max-train", "128", "--labels", "30", "--epochs", "1", "--hidden-dim", "16",
             "--net", "mlp", "--no-progress"]
    code, printed, err = _cli(capsys, "train", "parted", "--recipe", "authors", *small,
                              "--print-config")
    assert code == 0, err
    (tmp_path / "authors.toml").write_text(printed)
    code, _, err = _cli(capsys, "train", "parted", "--recipe", "authors", *small, "--out",
                        str(tmp_path / "by-flag"))
    assert code == 0, err
    code, _, err = _cli(capsys, "train", "parted", "--config", str(tmp_path / "authors.toml"),
                        "--no-progress", "--out", str(tmp_path / "by-file"))
    assert code == 0, err
    configs = [json.loads((tmp_path / d / "config.json").read_text())
               for d in ("by-flag", "by-file")]
    assert configs[0]["train"] == configs[1]["train"]
    assert configs[0]["model_config"] == configs[1]["model_config"]
    assert configs[0]["train"]["recipe"] == "authors"
    assert configs[0]["model_config"]["objective"] == "capacity"
    states = [torch.load(tmp_path / d / "checkpoint.pt", weights_only=False)["state_dict"]
              for d in ("by-flag", "by-file")]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    # a typed option overrides the recipe
    code, printed, _ = _cli(capsys, "train", "parted", "--recipe", "authors", *small,
                            "--c-entropy-weight", "3", "--print-config")
    assert code == 0 and "c_entropy_weight = 3.0" in printed


def test_the_api_refuses_a_recipe_the_model_does_not_have(tmp_path):
    with pytest.raises(ConfigError, match="has no recipe 'kingma'; choose one of: elbo, authors"):
        api.train("parted", tmp_path / "run", train_config=TrainConfig(recipe="kingma"))
    assert not (tmp_path / "run").exists()


def test_an_unknown_recipe_is_one_line_and_exit_2(tmp_path, capsys):
    code, _, err = _cli(capsys, "train", "parted", "--recipe", "nope", "--out",
                        str(tmp_path / "x"))
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "nope" in err and not (tmp_path / "x").exists()
