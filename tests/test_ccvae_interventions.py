"""CCVAE interventions, label bookkeeping and measures on an untrained model (fast).

- ``traverse`` sweeps exactly the label that was asked for, between the two
  conditional-prior modes widened by ``span`` scales (in either direction).
- ``flip`` resamples exactly the latents whose label fact changes.
- p(y) is the add-one-smoothed frequency of the labelled subset, set by the plan.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.interventions import InterventionOptions, intervention
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.ccvae.interventions import flip_characteristics, traversal_values
from pyro_vaes.training.plans import SemiSupervisedPlan


@pytest.fixture(scope="module")
def splits():
    return load_dataset("digits", seed=0, max_train=300)


def digits_ccvae(splits, **options):
    return build_model("ccvae", DataInfo.from_splits(splits), {"hidden_dim": 32, **options})


def test_traversal_runs_between_the_two_modes_in_either_direction(splits):
    model = digits_ccvae(splits)
    with torch.no_grad():
        model.conditional_prior.loc[:, 3] = torch.tensor([2.0, -1.0])  # "on" mode below "off"
        model.conditional_prior.raw_scale[:, 3] = torch.tensor([0.0, 1.0])
    s0, s1 = torch.nn.functional.softplus(torch.tensor([0.0, 1.0])).tolist()
    values = traversal_values(model, 3, steps=5, span=2.0)
    torch.testing.assert_close(values[0], torch.tensor(2.0 + 2 * s0))
    torch.testing.assert_close(values[-1], torch.tensor(-1.0 - 2 * s1))
    values = traversal_values(model, 0, steps=5, span=1.0)  # default modes -1 (off), +1 (on)
    s = 1.0  # softplus of the initial raw scale
    torch.testing.assert_close(values, torch.linspace(-1 - s, 1 + s, 5))


def test_traverse_sweeps_the_label_that_was_asked_for(splits, tmp_path, monkeypatch):
    model = digits_ccvae(splits).eval()
    run = SimpleNamespace(model=model, splits=splits, device=torch.device("cpu"))
    decoded = []
    original = model.decode
    monkeypatch.setattr(model, "decode", lambda z_c, z_s: decoded.append(z_c) or original(z_c, z_s))
    options = InterventionOptions(num_images=3, steps=4, labels=["7"])
    paths = intervention("ccvae", "traverse")(run, tmp_path, options)
    assert [p.name for p in paths] == ["traverse-7.png"] and paths[0].stat().st_size > 0
    (z_c,) = decoded
    x = splits.test.pixels(torch.arange(3))
    start = model.encode(x)[0]
    assert z_c.shape == (3, 4, 10)
    moved = (z_c != start.unsqueeze(1)).any(dim=(0, 1))
    assert moved.nonzero().flatten().tolist() == [7]
    torch.testing.assert_close(z_c[0, :, 7], traversal_values(model, 7, 4, 2.0))

    decoded.clear()
    options = InterventionOptions(num_images=2, steps=3, labels=["2", "5"])
    paths = intervention("ccvae", "traverse")(run, tmp_path, options)
    assert [p.name for p in paths] == ["traverse-2-5-test0.png", "traverse-2-5-test1.png"]
    grid = decoded[0]                                   # (rows = label 2, columns = label 5)
    torch.testing.assert_close(grid[:, 0, 2], traversal_values(model, 2, 3, 2.0))
    torch.testing.assert_close(grid[0, :, 5], traversal_values(model, 5, 3, 2.0))
    with pytest.raises(ConfigError, match="not a label"):
        intervention("ccvae", "traverse")(run, tmp_path, InterventionOptions(labels=["ten"]))


def test_flip_resamples_exactly_the_latents_whose_fact_changes():
    info = DataInfo((1, 8, 8), attribute_names=["a", "b", "c"])
    model = build_model("ccvae", info, {"hidden_dim": 8, "label_kind": "attributes"})
    z_c = torch.full((5, 3), 7.0)
    y = torch.tensor([[1.0, 0.0, 1.0]]).expand(5, 3)
    target = y.clone()
    target[:, 1] = 1.0
    out = flip_characteristics(model, z_c, y, target)
    assert (out[:, [0, 2]] == 7.0).all() and (out[:, 1] != 7.0).all()

    info = DataInfo((1, 8, 8), num_classes=4)
    model = build_model("ccvae", info, {"hidden_dim": 8})
    out = flip_characteristics(model, torch.full((5, 4), 7.0), torch.full((5,), 1),
                               torch.full((5,), 3))
    assert ((out != 7.0).nonzero()[:, 1].unique().tolist()) == [1, 3]


def test_label_prior_is_the_smoothed_frequency_of_the_labelled_subset(splits):
    model = digits_ccvae(splits)
    plan = SemiSupervisedPlan(model, splits, batch_size=32, labels=20, seed=0)
    next(plan.train_batches(torch.Generator().manual_seed(0)))
    counts = torch.bincount(splits.train.targets[plan.labelled], minlength=10).float()
    torch.testing.assert_close(model.label_probs, (counts + 1) / (20 + 10))

    info = DataInfo((1, 8, 8), attribute_names=["a", "b"])
    model = build_model("ccvae", info, {"hidden_dim": 8})
    model.observe_labelled(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))
    torch.testing.assert_close(model.label_probs, torch.tensor([3 / 5, 1 / 5]))


def test_label_kind_must_exist_in_the_data(splits):
    with pytest.raises(ConfigError, match="no binary attributes"):
        digits_ccvae(splits, label_kind="attributes")
    shapes = DataInfo((1, 32, 32), num_classes=3, attribute_names=["is_square", "large"])
    assert build_model("ccvae", shapes, {"hidden_dim": 8}).label_kind == "targets"
    model = build_model("ccvae", shapes, {"hidden_dim": 8, "label_kind": "attributes"})
    assert model.label_space.names == ("is_square", "large")


def test_measures_report_every_figure(splits):
    model = digits_ccvae(splits)
    out = model.measures(splits, "test")
    for key in ("accuracy", "leakage_probe_accuracy", "leakage_majority_rate",
                "intervention_success", "judge_accuracy", "diversity"):
        assert 0.0 <= out[key] <= 1.0, key
    assert out["judge_accuracy"] > 0.8        # the judge is a real classifier
