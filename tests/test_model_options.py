"""Every model offers exactly its own options, and each of them changes the model or its run.

``train MODEL --help`` lists the fields of the model's config class and the training options
of its plan, nothing else; the --elbo and --early-stop-on values offered are those the model
accepts. For every model option a changed value, with everything else equal, gives another
model: other parameter shapes, or another loss or gradient on the same batch with the same
seed (after the same epoch hook), or another batch from the model's plan.
"""

from __future__ import annotations

import dataclasses

import click
import pyro
import pytest
import torch

from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import MODELS, DataInfo, build_model
from pyro_vaes.training.plans import PLANS
from runners.train import make_train_command

# a changed value of every option (with the options it needs to apply)
CHANGED = {
    "latent_dim": {"vae": 7, "m2": 7, "ccvae": 15, "mlvae": 8, "parted": 14},
    "likelihood": {"vae": "bernoulli", "m2": "normal", "ccvae": "normal", "mlvae": "normal",
                   "parted": "normal"},
    "net": "mlp", "hidden_dim": 24, "channels": 8,
    "prior": "mixture", "guide": "lowrank", "beta": 2.0,
    "mixture_components": (3, {"prior": "mixture"}), "guide_rank": (3, {"guide": "lowrank"}),
    "flow_layers": (3, {"guide": "flow"}),
    "aux_weight": 5.0, "k_samples": 7, "weight_detach": "all",
    "content_dim": 3, "accumulation": "mean", "style_beta": 2.0, "group_size": 4,
    "max_group_size": (12, {"group_size": 4}), "groups_per_batch": 3, "holdout_classes": "3",
    "class_dim": 5, "gamma_bc": 3.0, "tau": 0.01, "alpha": 5.0, "slope_start": 3.0,
    "slope_end": 2.0, "slope_epochs": 2, "capacity_weight": 1.0,
    "capacity_continuous": (1.0, {"capacity_weight": 1.0}),
    "capacity_discrete": (0.5, {"capacity_weight": 1.0}),
    "capacity_steps": (50, {"capacity_weight": 1.0}), "entropy_weight": 1.0,
    "classifier_detach": True, "slope_per_step": 0.5, "objective": "capacity",
    "capacity_gamma": (5.0, {"objective": "capacity"}),
    "z_capacity": (3.0, {"objective": "capacity"}), "u_capacity": (3.0, {"objective": "capacity"}),
    "c_kl_weight": (2.0, {"objective": "capacity"}),
    "c_entropy_weight": (2.0, {"objective": "capacity"}),
}
# options that act through the labelled subset's size, which this fingerprint's plan (every
# image labelled) leaves at 1: tests/test_recipes.py checks them on N / N_labelled
THROUGH_LABELLED_SIZE = {"aux_weight_scale"}
# options that act on unlabelled batches only (this fingerprint's batch is labelled; the
# entropy of a known class is 0): tests/test_recipes.py checks them on unlabelled batches
ON_UNLABELLED_BATCHES = {"c_entropy_weight"}
# options whose other values need another data set than digits: checked on what they select
ON_OTHER_DATA = {"label_kind", "group_by"}


def shown_options(name: str) -> dict[str, click.Option]:
    return {p.name: p for p in make_train_command(name).params if isinstance(p, click.Option)}


def visible_fields(name: str) -> list[str]:
    return [f.name for f in dataclasses.fields(MODELS[name].config_class)
            if f.metadata.get("cli", True)]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_help_lists_only_the_models_own_options(name):
    cls = MODELS[name]
    shown = shown_options(name)
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    own = set(visible_fields(name))
    general = {"out", "resume", "tensorboard", "progress", "config", "print_config"}
    assert set(shown) - general - train_fields == own
    assert set(shown) & own == own
    help_text = make_train_command(name).get_help(click.Context(make_train_command(name)))
    others = {f for other in MODELS.values() for f in visible_fields(other.name)} - own
    for field in others - train_fields:
        assert f"--{field.replace('_', '-')} " not in help_text, field
    for option, values in cls.train_choices().items():
        if len(values) > 1:
            assert list(shown[option].type.choices) == list(values)
        else:
            assert option not in shown


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, max_train=128)


def _fingerprint(name, options, splits):
    torch.manual_seed(0)
    fast = {"k_samples": 4} if name == "ccvae" else {}
    model = build_model(name, DataInfo.from_splits(splits), {"hidden_dim": 16, **fast, **options})
    model.train()
    model.on_epoch_start(1, 3)
    if name == "parted":
        model.steps.fill_(20)
    plan = PLANS[model.plan](model, splits, batch_size=16, seed=0)
    batch = next(iter(plan.train_batches(torch.Generator().manual_seed(0))))
    pyro.set_rng_seed(0)
    loss = model.loss(make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting),
                      batch)
    loss.backward()
    grad = sum(float(p.grad.abs().sum()) for p in model.parameters() if p.grad is not None)
    shapes = tuple(tuple(p.shape) for p in model.parameters())
    return shapes, round(float(loss.detach()), 6), round(grad, 4), tuple(batch.x.shape), \
        float(batch.x.sum())


CASES = [(name, field) for name in sorted(MODELS) for field in visible_fields(name)
         if field not in ON_OTHER_DATA | THROUGH_LABELLED_SIZE | ON_UNLABELLED_BATCHES]


@pytest.mark.parametrize(("name", "field"), CASES)
def test_every_option_changes_the_model_or_its_run(digits, name, field):
    change = CHANGED[field]
    if isinstance(change, dict):
        change = change[name]
    value, needs = change if isinstance(change, tuple) else (change, {})
    assert value != getattr(MODELS[name].config_class(), field)
    before = _fingerprint(name, needs, digits)
    after = _fingerprint(name, {**needs, field: value}, digits)
    assert before != after


def test_the_options_needing_other_data_select_other_labels():
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10, attribute_names=["a", "b", "c"],
                    factor_names=["shape"], factor_sizes=[3])
    sizes = {kind: build_model("ccvae", info, label_kind=kind).label_space.size
             for kind in ("targets", "attributes")}
    assert sizes == {"targets": 10, "attributes": 3}
    from pyro_vaes.models.mlvae.grouping import level_names
    assert len(level_names("class", info)) == 10 and len(level_names("shape", info)) == 3
