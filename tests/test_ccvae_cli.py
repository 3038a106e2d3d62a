"""`pyro-vaes train ccvae`, `evaluate` and every `intervene` kind, end to end on digits.

Training and evaluation run in a fresh interpreter (``run_cli``), as a user
would; the four interventions and the refused options go through the same
entry point, ``runners.cli.main``, in this process (one interpreter start each
would cost more than the commands themselves).
"""

from __future__ import annotations

import json

import pytest

from runners.cli import main
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ccvae") / "run"
    # each labelled image 5 times an epoch (about what earlier versions' cycling gave here)
    result = run_cli("train", "ccvae", "--out", str(out), "--epochs", "2", "--labels", "200",
                     "--labelled-repeats", "5", "--hidden-dim", "64", "--k-samples", "20",
                     "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "trained ccvae for 2 epochs" in result.stdout
    return out


def test_evaluate_reports_the_ccvae_measures(trained):
    result = run_cli("evaluate", str(trained), "-k", "10")
    assert result.returncode == 0, result.stderr
    figures = json.loads((trained / "evaluation-test.json").read_text())
    assert figures["accuracy"] > 0.5            # 10 classes, 200 labels, 2 epochs
    assert 0 <= figures["intervention_success"] <= 1
    assert figures["leakage_majority_rate"] < 0.2
    assert "diversity" in result.stdout


@pytest.mark.parametrize("kind,extra,names", [
    ("traverse", ["--label", "3"], ["traverse-3.png"]),
    ("traverse", ["--label", "3", "--label", "8", "--num-images", "1"],
     ["traverse-3-8-test0.png"]),
    ("generate", [], ["generate.png"]),
    ("swap", [], ["swap.png"]),
    ("flip", [], ["flip.png"]),
])
def test_each_intervention_writes_its_grids(trained, tmp_path, capsys, kind, extra, names):
    assert main(["intervene", kind, str(trained), "--out", str(tmp_path), *extra]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert all((tmp_path / n).stat().st_size > 1000 for n in names)
    assert capsys.readouterr().out.count("written") == len(names)


@pytest.mark.parametrize("args,message", [
    (["--labelled-fraction", "1.5"], "--labelled-fraction must be at most 1.0"),
    (["--labels", "0"], "--labels must be at least 1"),
    (["--label-kind", "attributes"], "no binary attributes"),
])
def test_bad_options_give_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    assert main(["train", "ccvae", "--out", str(tmp_path / "r"), "--epochs", "1", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
