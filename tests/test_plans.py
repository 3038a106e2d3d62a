"""The semi-supervised schedule: the papers' weighting by default, oversampling on request.

Kingma et al. and Joy et al. maximise sum_labelled L(x, y) + sum_unlabelled U(x):
one epoch must use every labelled image exactly once (N times with
``labelled_repeats=N``) and every unlabelled image once, with the labelled
batches spread among the unlabelled ones rather than bunched at an end.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.training.plans import SemiSupervisedPlan, spread_evenly


@pytest.fixture(scope="module")
def splits():
    return load_dataset("digits", seed=0, max_train=400)


@pytest.fixture(scope="module")
def model(splits):
    return build_model("m2", DataInfo.from_splits(splits), {"hidden_dim": 8, "latent_dim": 2})


def _epoch(splits, model, **options):
    """One epoch's batches as (training-set positions, labelled?) pairs, and the plan."""
    plan = SemiSupervisedPlan(model, splits, batch_size=16, labels=40, seed=0, **options)
    seen = []
    make = plan._batch

    def record(dataset, idx, labelled=True):
        seen.append((idx.tolist(), labelled))
        return make(dataset, idx, labelled)

    plan._batch = record
    batches = list(plan.train_batches(torch.Generator().manual_seed(1)))
    assert len(batches) == len(seen) == plan.num_train_batches()
    assert [b.y is not None for b in batches] == [labelled for _, labelled in seen]
    return plan, seen


def _uses(seen, labelled):
    return Counter(i for idx, kind in seen if kind == labelled for i in idx)


def test_each_labelled_image_once_per_epoch_by_default(splits, model):
    plan, seen = _epoch(splits, model)
    labelled = _uses(seen, True)
    assert sorted(labelled) == sorted(plan.labelled.tolist()) and len(labelled) == 40
    assert set(labelled.values()) == {1}
    unlabelled = _uses(seen, False)
    assert sorted(unlabelled) == sorted(plan.unlabelled.tolist()) and len(unlabelled) == 360
    assert set(unlabelled.values()) == {1}


@pytest.mark.parametrize("repeats", [2, 3])
def test_each_labelled_image_n_times_with_labelled_repeats(splits, model, repeats):
    plan, seen = _epoch(splits, model, labelled_repeats=repeats)
    labelled = _uses(seen, True)
    assert sorted(labelled) == sorted(plan.labelled.tolist())
    assert set(labelled.values()) == {repeats}
    assert set(_uses(seen, False).values()) == {1}


def test_labelled_batches_are_spread_among_the_unlabelled(splits, model):
    _, seen = _epoch(splits, model)
    kinds = [labelled for _, labelled in seen]
    assert kinds.count(True) == 3 and kinds.count(False) == 23   # 40 and 360 images, batch 16
    # labelled at times 1/6, 1/2, 5/6; unlabelled i at (i + 1/2) / 23: 4, 12 (one tied at 1/2,
    # unlabelled first) and 19 unlabelled batches come before them
    assert [i for i, k in enumerate(kinds) if k] == [4, 13, 21]


def test_spread_evenly_by_hand():
    # unlabelled batches at (i + 1/2) / 6, labelled at 1/4 and 3/4
    assert spread_evenly(6, 2) == [False, False, True, False, False, False, True, False]
    assert spread_evenly(0, 3) == [True, True, True]
    assert spread_evenly(3, 0) == [False, False, False]
    order = spread_evenly(100, 7)
    gaps = torch.diff(torch.tensor([i for i, k in enumerate(order) if k]))
    assert gaps.min() >= 14 and gaps.max() <= 16


def test_labelled_batch_every_cycles_the_labelled_set(splits, model):
    plan, seen = _epoch(splits, model, labelled_batch_every=1)
    assert [labelled for _, labelled in seen] == [False, True] * 23
    labelled = _uses(seen, True)
    assert sorted(labelled) == sorted(plan.labelled.tolist())
    assert min(labelled.values()) >= 7                  # 23 labelled batches cycle over 3
    _, seen = _epoch(splits, model, labelled_batch_every=10)
    assert [i for i, (_, k) in enumerate(seen) if k] == [10, 21, 25]  # the rest at the end


def test_two_schedules_at_once_are_refused(splits, model):
    with pytest.raises(ConfigError, match="two different schedules"):
        SemiSupervisedPlan(model, splits, batch_size=16, labels=40, labelled_repeats=2,
                           labelled_batch_every=1)


def test_the_schedule_options_are_training_options_on_the_command_line():
    from runners.train import make_train_command

    for name in ("m2", "ccvae", "parted"):
        opts = {o for p in make_train_command(name).params for o in p.opts}
        assert {"--labelled-repeats", "--labelled-batch-every", "--supervised-every"} <= opts
    assert "--labelled-repeats" not in {o for p in make_train_command("vae").params
                                        for o in p.opts}
