"""`pyro-vaes train mlvae`, `evaluate` and every intervention, as a user runs them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlvae") / "run"
    done = run_cli("train", "mlvae", "--out", str(out), "--epochs", "2", "--group-by", "class",
                   "--group-size", "4", "--max-group-size", "6", "--holdout-classes", "8,9",
                   "--hidden-dim", "64", "--max-train", "600", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "trained mlvae for 2 epochs" in done.stdout
    return out


def test_train_keeps_the_grouping_in_the_run(run):
    config = json.loads((run / "config.json").read_text())["model_config"]
    assert config["group_by"] == "class" and config["group_size"] == 4
    assert config["max_group_size"] == 6 and config["holdout_classes"] == "8,9"


def test_evaluate_reports_group_elbo_probes_and_held_out_figures(run):
    done = run_cli("evaluate", str(run), "-k", "5")
    assert done.returncode == 0, done.stderr
    results = json.loads((run / "evaluation-test.json").read_text())
    assert "group ELBO" in results["data_point"]
    assert results["test_elbo"] < results["test_iw_log_likelihood"] < 0
    for key in ("content_probe_accuracy", "style_probe_accuracy", "probe_chance",
                "accumulated_content_probe_accuracy", "heldout_content_probe_accuracy",
                "heldout_style_probe_accuracy", "heldout_probe_chance"):
        assert 0.0 <= results[key] <= 1.0, key
    assert results["heldout_levels"] == "8,9"
    # the digits test split holds 35 or 36 of each class, cut into groups of 4 to 6
    assert 4 <= results["heldout_images_per_group"] <= 6
    assert results["heldout_group_elbo"] < 0


@pytest.mark.parametrize("kind", ["swap", "generate", "interpolate"])
def test_each_intervention_writes_its_grid(run, kind):
    done = run_cli("intervene", kind, str(run), "--num-images", "3", "--num-samples", "4",
                   "--steps", "5")
    assert done.returncode == 0, done.stderr
    path = run / "figures" / "interventions" / f"mlvae-{kind}.png"
    assert f"written {path}" in done.stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_group_key_is_one_line_and_exit_2(tmp_path):
    done = run_cli("train", "mlvae", "--out", str(tmp_path / "bad"), "--epochs", "1",
                   "--group-by", "nosuchfactor")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --group-by 'nosuchfactor'")
    assert "class" in lines[0]
    assert not (tmp_path / "bad").exists()
