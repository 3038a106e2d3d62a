"""`evaluate`: every figure with its image count, whole splits, the cached judge,
``--measures`` subsets and the progress bar only when asked."""

from __future__ import annotations

import json

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.analysis import image_classifier
from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from runners.cli import main

METADATA = {"split", "num_images", "epoch", "measures", "num_points", "importance_samples",
            "checkpoint"}


@pytest.fixture(scope="module")
def ccvae_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate") / "run"
    api.train("ccvae", root, model_options={"hidden_dim": 32, "k_samples": 10},
              train_config=TrainConfig(epochs=1, labels=100, seed=0), figures=False)
    return root


def _figures(results: dict) -> dict:
    return {k: v for k, v in results.items()
            if k not in METADATA and not k.endswith("_images")}


def test_every_figure_has_its_image_count_and_uses_the_whole_split(ccvae_run, capsys):
    run = api.load_run(ccvae_run)
    results = api.evaluate(run, num_samples=3, judge_cache=ccvae_run / "judges")
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
    full = api.evaluate(run, num_samples=3, judge_cache=ccvae_run / "judges")
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
    assert "evaluate" in captured.err and "100%" in captured.err
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
