"""`evaluate`: every figure with its image count, whole splits, the cached judge,
``--measures`` subsets and the progress bar only when asked."""

from __future__ import annotations

import json
import math

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.analysis import image_classifier
from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference.importance import choose_points, per_point_bounds, point_estimate
from pyro_vaes.models import Batch, DataInfo, build_model
from runners.cli import main

METADATA = {"split", "num_images", "epoch", "measures", "num_points", "importance_samples",
            "checkpoint", "iw_subset"}


@pytest.fixture(scope="module")
def ccvae_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate") / "run"
    api.train("ccvae", root, model_options={"hidden_dim": 32, "k_samples": 10},
              train_config=TrainConfig(epochs=1, labels=100, seed=0), figures=False)
    return root


def _figures(results: dict) -> dict:
    return {k: v for k, v in results.items()
            if k not in METADATA and not k.endswith(("_images", "_stderr", "_points"))}


def test_every_figure_has_its_image_count_and_uses_the_whole_split(ccvae_run, capsys):
    run = api.load_run(ccvae_run)
    results = api.evaluate(run, num_samples=3, iw_images="all", judge_cache=ccvae_run / "judges")
    assert capsys.readouterr().err == ""                       # no progress bar unless asked
    test, train = run.splits.test, run.splits.train
    figures = _figures(results)
    assert {"test_elbo", "test_iw_log_likelihood", "accuracy", "leakage_probe_accuracy",
            "leakage_majority_rate", "judge_accuracy", "intervention_success",
            "diversity"} <= set(figures)
    for key in figures:
        assert isinstance(results[f"{key}_images"], int), key
    for key in ("test_elbo", "test_iw_log_likelihood", "accuracy", "leakage_probe_accuracy",
                "judge_accuracy", "intervention_success"):
        assert results[f"{key}_images"] == len(test), key
    assert results["leakage_probe_accuracy_train_images"] == len(train)
    assert results["judge_train_images"] == len(train)
    assert results["diversity_images"] == 16 * 10
    model = run.model
    with torch.no_grad():
        predicted = model.predict(test.pixels(torch.arange(len(test))))
    assert results["accuracy"] == pytest.approx(float((predicted == test.targets).float().mean()))


def test_measures_pick_a_subset_with_the_same_values(ccvae_run):
    run = api.load_run(ccvae_run)
    full = api.evaluate(run, num_samples=3, iw_images="all", judge_cache=ccvae_run / "judges")
    part = api.evaluate(run, measures="interventions,accuracy",
                        judge_cache=ccvae_run / "judges")
    assert part["measures"] == ["accuracy", "interventions"]
    assert set(_figures(part)) == {"accuracy", "judge_accuracy", "intervention_success"}
    for key, value in part.items():
        if key not in METADATA:
            assert value == full[key], key


def test_unknown_measure_is_one_line_and_exit_code_2(ccvae_run, capsys):
    assert main(["evaluate", str(ccvae_run), "--measures", "accuracy,elbo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: --measures 'elbo' is not a measure")
    assert "likelihood, accuracy, leakage, interventions, diversity" in err


def test_the_cli_shows_progress_when_asked_and_writes_the_json(ccvae_run, capsys):
    assert main(["evaluate", str(ccvae_run), "--measures", "accuracy,diversity",
                 "--progress"]) == 0
    captured = capsys.readouterr()
    assert "evaluate: test measures" in captured.err and "100%" in captured.err
    values = json.loads((ccvae_run / "evaluation-test.json").read_text())
    assert values["accuracy_images"] == values["num_images"] and values["checkpoint"] == "last"


QUICK = {"min_steps": 10, "min_epochs": 1}    # a weak judge is enough to test the cache


def test_the_judge_is_trained_once_per_data_set_and_kept_on_disk(tmp_path, monkeypatch):
    splits = load_dataset("digits", seed=0, max_train=200)
    first = image_classifier.train_image_classifier(splits.train, splits.train.targets,
                                                    cache_dir=tmp_path, **QUICK)
    (path,) = tmp_path.glob("judge-*.pt")
    stored = torch.load(path, weights_only=True)               # plain tensors and values
    assert stored["key"] == image_classifier.judge_key(
        splits.train, splits.train.targets,
        {"seed": 0, "batch_size": 128, "lr": 1e-3, **QUICK})

    image_classifier._CACHE.clear()                            # a new process: disk only
    monkeypatch.setattr(image_classifier.ImageClassifier, "loss",
                        lambda *a: pytest.fail("the cached judge was trained again"))
    again = image_classifier.train_image_classifier(splits.train, splits.train.targets,
                                                    cache_dir=tmp_path, **QUICK)
    x = splits.test.pixels(torch.arange(50))
    assert torch.equal(first.predict(x), again.predict(x))
    monkeypatch.undo()

    changed = splits.train.subset(torch.arange(150))           # other data: another judge
    image_classifier.train_image_classifier(changed, changed.targets, cache_dir=tmp_path,
                                            **QUICK)
    assert len(list(tmp_path.glob("judge-*.pt"))) == 2
    path.write_bytes(b"damaged")                               # a damaged file is replaced
    image_classifier._CACHE.clear()
    image_classifier.train_image_classifier(splits.train, splits.train.targets,
                                            cache_dir=tmp_path, **QUICK)
    assert torch.load(path, weights_only=True)["format"] == image_classifier.FORMAT


def test_a_second_evaluation_is_refused_without_force_and_leaves_the_json(ccvae_run, capsys):
    path = ccvae_run / "evaluation-test.json"
    if not path.exists():
        assert main(["evaluate", str(ccvae_run), "--measures", "accuracy"]) == 0
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["evaluate", str(ccvae_run), "--measures", "accuracy"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists; pass --force" in err
    assert path.read_bytes() == before
    assert main(["evaluate", str(ccvae_run), "--measures", "diversity", "--force"]) == 0
    assert json.loads(path.read_text())["measures"] == ["diversity"]
    assert not list(ccvae_run.glob(".evaluation-*.tmp"))


# -- the likelihood figures: standard errors and counts -----------------------------------
def test_point_estimate_is_the_mean_and_its_standard_error():
    values = torch.tensor([1.0, 2.0, 4.0, 9.0])
    estimate = point_estimate(values, images=8)
    # mean 4; sample variance ((-3)^2 + (-2)^2 + 0 + 5^2) / 3 = 38 / 3; SE = sqrt(38/3 / 4)
    assert estimate.mean == pytest.approx(4.0)
    assert estimate.stderr == pytest.approx(math.sqrt(38 / 12))
    assert (estimate.points, estimate.images) == (4, 8)
    assert point_estimate(torch.tensor([-3.5]), images=1).stderr == 0.0


def test_the_subset_is_seeded_uniform_and_without_repeats():
    first = choose_points(1000, 100, seed=3)
    assert torch.equal(first, choose_points(1000, 100, seed=3))
    assert not torch.equal(first, choose_points(1000, 100, seed=4))
    assert first.numel() == first.unique().numel() == 100
    assert bool((first[1:] > first[:-1]).all()) and 0 <= int(first[0]) and int(first[-1]) < 1000
    assert choose_points(1000, 1000, seed=3) is None and choose_points(50, None, seed=0) is None
    # uniform: over many seeds every index is drawn about 100/1000 of the time
    hits = torch.zeros(1000)
    for seed in range(200):
        hits[choose_points(1000, 100, seed)] += 1
    assert hits.mean() == pytest.approx(20.0) and hits.max() < 45 and hits.min() > 3


def test_per_point_bounds_keep_the_chosen_points_and_count_group_images():
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model("mlvae", info, {"hidden_dim": 16}).eval()
    x = torch.rand(10, 4, 1, 8, 8)
    mask = torch.ones(10, 4, dtype=torch.bool)
    mask[:, 3] = False                                   # groups of 3 images
    mask[0, 2] = False                                   # group 0: 2 images
    batches = [Batch(x[:6], None, mask[:6]), Batch(x[6:], None, mask[6:])]
    torch.manual_seed(0)
    elbo, bound, images = per_point_bounds(model, batches, 5)
    assert elbo.shape == bound.shape == (10,) and images == 29
    assert bool((bound >= elbo - 1e-6).all())           # the IW bound is above its own ELBO
    torch.manual_seed(0)
    elbo_k, bound_k, images_k = per_point_bounds(model, batches, 5,
                                                 keep=torch.tensor([0, 5, 6, 9]))
    assert elbo_k.shape == (4,) and images_k == 2 + 3 * 3


def test_evaluate_reports_the_subset_and_its_standard_error(ccvae_run):
    run = api.load_run(ccvae_run)
    n_test = len(run.splits.test)
    sub = api.evaluate(run, num_samples=20, iw_images=80, measures="likelihood", seed=1)
    full = api.evaluate(run, num_samples=20, iw_images="all", measures="likelihood", seed=1)
    assert (sub["test_elbo_images"], sub["test_elbo_points"]) == (n_test, n_test)
    assert (sub["test_iw_log_likelihood_images"], sub["test_iw_log_likelihood_points"]) == (80, 80)
    assert sub["iw_subset"] == f"80 of {n_test}, seed 1" and full["iw_subset"] == "all"
    assert full["test_iw_log_likelihood_images"] == n_test
    # The standard errors scale as 1 / sqrt(points) (same spread of per-image values) and
    # the subset's mean lies within a few of its standard errors of the whole split's.
    ratio = sub["test_iw_log_likelihood_stderr"] / full["test_iw_log_likelihood_stderr"]
    assert ratio == pytest.approx(math.sqrt(n_test / 80), rel=0.35)
    assert abs(sub["test_iw_log_likelihood"] - full["test_iw_log_likelihood"]) < (
        4 * sub["test_iw_log_likelihood_stderr"])
    assert full["test_elbo"] < full["test_iw_log_likelihood"]
    assert 0 < full["test_elbo_stderr"] < 5


def test_more_iw_images_than_the_split_is_refused_in_one_line(ccvae_run, capsys):
    n_test = len(api.load_run(ccvae_run).splits.test)
    before = sorted(p.name for p in ccvae_run.iterdir())
    assert main(["evaluate", str(ccvae_run), "--iw-images", str(n_test + 1),
                 "--measures", "likelihood", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"Error: --iw-images {n_test + 1}: the test split has {n_test}")
    assert sorted(p.name for p in ccvae_run.iterdir()) == before


def test_auto_takes_about_iw_images_images_also_when_a_point_is_a_group(monkeypatch):
    import pyro_vaes.inference.importance as importance

    monkeypatch.setattr(importance, "IW_IMAGES", 8)
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model("mlvae", info, {"hidden_dim": 16}).eval()
    x = torch.rand(10, 4, 1, 8, 8)
    batches = [Batch(x, None, torch.ones(10, 4, dtype=torch.bool))]   # 10 groups, 40 images
    figures = importance.likelihood_figures(model, batches, "test", 3)
    assert (figures["test_iw_log_likelihood_points"], figures["test_iw_log_likelihood_images"],
            figures["test_elbo_points"], figures["test_elbo_images"]) == (2, 8, 10, 40)
    assert figures["iw_subset"] == "2 of 10, seed 0"
    with pytest.raises(ConfigError, match="--iw-images 11: the test split has 10 data points"):
        importance.likelihood_figures(model, batches, "test", 3, iw_points=11)
