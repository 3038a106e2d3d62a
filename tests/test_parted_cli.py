"""`pyro-vaes train parted` with 100 labels, then evaluate and every intervention; refusals.

Training and one refusal run in a fresh interpreter (``run_cli``); the other commands call
the same entry point, ``runners.cli.main``, in-process to keep the file fast.
"""

from __future__ import annotations

import json

import pytest

from runners.cli import main
from tests.conftest import run_cli


def _one_error_line(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:") and "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("parted") / "run"
    # --supervised-every 1 (the old spelling of --labelled-batch-every): 100 labels are too few
    # steps for two epochs under the default once-per-epoch schedule
    result = run_cli("train", "parted", "--out", str(run), "--epochs", "2", "--labels", "100",
                     "--hidden-dim", "64", "--seed", "1", "--supervised-every", "1")
    assert result.returncode == 0, result.stderr
    assert "trained parted for 2 epochs" in result.stdout
    return run


def test_evaluate_reports_the_class_measures(trained):
    assert main(["evaluate", str(trained), "-k", "5"]) == 0
    values = json.loads((trained / "evaluation-test.json").read_text())
    for key in ("classifier_accuracy", "u_probe_accuracy", "z_probe_accuracy", "probe_chance",
                "bc_max", "bc_mean", "bc_pairs_above_tau", "test_elbo"):
        assert key in values, key
    assert 0.0 <= values["bc_mean"] <= values["bc_max"] <= 1.0
    # Two epochs with 100 labels already classify digits far above chance.
    assert values["classifier_accuracy"] > values["probe_chance"] + 0.3


@pytest.mark.parametrize(("kind", "files"), [
    ("traverse", ["parted-traverse-3-3.png"]),
    ("generate", ["parted-generate.png", "prior-components.png"]),
    ("swap", ["parted-swap.png"]),
])
def test_each_intervention_writes_its_figures(trained, tmp_path, kind, files):
    args = ["--label", "3"] if kind == "traverse" else []
    assert main(["intervene", kind, str(trained), "--out", str(tmp_path), "--num-images", "4",
                 "--num-samples", "4", "--steps", "5", *args]) == 0
    for name in files:
        assert (tmp_path / name).stat().st_size > 1000, name


def test_bad_options_exit_2_with_one_line(trained, tmp_path, capsys):
    line = _one_error_line(run_cli("train", "parted", "--out", str(tmp_path / "x"),
                                   "--tau", "1.5"))
    assert "--tau" in line and not (tmp_path / "x").exists()
    for argv, words in ((["intervene", "traverse", str(trained), "--label", "cat"], "'cat'"),
                        (["train", "parted", "--out", str(tmp_path / "y"), "--guide", "flow"],
                         "guide"),
                        (["train", "parted", "--out", str(tmp_path / "z"), "--labels", "0"],
                         "--labels")):
        capsys.readouterr()
        assert main(argv) == 2, argv
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0], lines
