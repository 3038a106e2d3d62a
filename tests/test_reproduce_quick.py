"""The reproduction programs' --quick modes, end to end: each trains its runs on small data,
writes its section of a scratch page with one row per claim and a verdict in each."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_quick(program: str, tmp_path: Path, *extra: str) -> str:
    """Run ``python -m runners.reproduce.PROGRAM --quick [EXTRA]`` into tmp_path; the page's
    text."""
    page = tmp_path / "page.md"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", f"runners.reproduce.{program}", "--quick",
                           "--work", str(tmp_path / "work"), "--page", str(page), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return page.read_text()


def section(text: str, key: str) -> str:
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    assert start in text and end in text
    return text.split(start, 1)[1].split(end, 1)[0]


def claim_rows(text: str) -> list[str]:
    """Rows of the claims table (those ending in a verdict cell)."""
    return [line for line in text.splitlines()
            if re.search(r"\| \*\*(met|not met)\*\*[^|]*\|$", line)]


def checked_claim_rows(text: str, at_least: int) -> list[str]:
    """The claims table's rows, after checking its header, its size and that every row has
    the five cells claim | measured | baseline | target | verdict."""
    assert "| claim | measured" in text
    rows = claim_rows(text)
    assert len(rows) >= at_least
    for row in rows:
        assert len(row.strip("|").split(" | ")) == 5
    return rows


@pytest.mark.slow
@pytest.mark.reproduce
def test_ccvae_quick(tmp_path: Path) -> None:
    text = section(run_quick("ccvae", tmp_path), "ccvae")
    rows = checked_claim_rows(text, 9)
    assert any("Label leakage" in r for r in rows) and any("Stable objective" in r for r in rows)
    published = tmp_path / "figures"
    assert any(p.name.startswith("ccvae-") and p.suffix == ".png" for p in published.iterdir())


@pytest.mark.slow
@pytest.mark.reproduce
def test_ccvae_authors_recipe_quick(tmp_path: Path) -> None:
    text = section(run_quick("ccvae", tmp_path, "--recipe", "authors"), "ccvae-authors")
    rows = checked_claim_rows(text, 9)
    assert any("Label leakage" in r for r in rows) and any("Shapes 64x64" in r for r in rows)
    assert "`--recipe authors` (CCVAE, the shapes run too) and `--recipe kingma` (M2)" in text
    assert "Leakage against epochs" not in text and "oversampling" not in text
    work = tmp_path / "work"
    configs = {d.name: json.loads((d / "config.json").read_text())["train"]["recipe"]
               for d in work.iterdir() if (d / "config.json").is_file()}
    assert configs and all(r == ("kingma" if n.startswith("m2") else "authors")
                           for n, r in configs.items())
    published = tmp_path / "figures"
    assert any(p.name.startswith("ccvae-authors-") for p in published.iterdir())


@pytest.mark.slow
@pytest.mark.reproduce
def test_mlvae_quick(tmp_path: Path) -> None:
    text = section(run_quick("mlvae", tmp_path), "mlvae")
    rows = checked_claim_rows(text, 4)
    assert any("content c" in r for r in rows) and any("Unseen groups" in r for r in rows)
    assert (tmp_path / "figures" / "mlvae-swap.png").is_file()


@pytest.mark.slow
@pytest.mark.reproduce
def test_influential_quick(tmp_path: Path) -> None:
    text = section(run_quick("influential", tmp_path), "influential")
    rows = checked_claim_rows(text, 3)
    assert any("I mixture <= closed form <= KL" in r for r in rows)
    curve = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(line.split("|")[1]) for line in curve] == list(range(1, 21))
    published = tmp_path / "figures"
    assert {"influential-mi-beta1.png", "influential-mi-beta4.png",
            "influential-accuracy-vs-k.png"} <= {p.name for p in published.iterdir()}


@pytest.mark.slow
@pytest.mark.reproduce
def test_shapes_quick(tmp_path: Path) -> None:
    from runners.reproduce.shapes import METRIC_KEYS, MODELS

    text = section(run_quick("shapes", tmp_path), "shapes")
    header = next(line for line in text.splitlines() if line.startswith("| metric |"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == list(MODELS)
    for key in METRIC_KEYS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {key} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert len(cells) == len(MODELS)
        assert all(re.fullmatch(r"-?\d+\.\d{3}( ± \d+\.\d{3})? \(1\)", c) for c in cells), row


def test_mi_ordering_and_curve_gaps_count_what_they_say() -> None:
    from runners.reproduce.influential import curve_gaps, ordering

    rows = [{"mi_mixture": 0.5, "mi_moment_matched": 0.6, "kl_to_prior": 0.7},
            {"mi_mixture": 0.01, "mi_moment_matched": 0.0, "kl_to_prior": 0.2},
            {"mi_mixture": 1.0, "mi_moment_matched": 1.5, "kl_to_prior": 1.25}]
    result = ordering(rows)
    assert result["held"] == 1 and result["rows"] == 3
    assert result["excess_mixture"] == pytest.approx(0.01)
    assert result["excess_closed"] == pytest.approx(0.25)
    curve = [{"k": 1, "accuracy_top_k": 0.6, "accuracy_bottom_k": 0.2},
             {"k": 2, "accuracy_top_k": 0.7, "accuracy_bottom_k": 0.75},
             {"k": 3, "accuracy_top_k": 0.8, "accuracy_bottom_k": 0.8}]
    assert curve_gaps(curve) == pytest.approx([0.4, -0.05])       # k = D is left out


def test_mixture_standard_error_is_zero_where_every_term_is_the_same() -> None:
    import math

    import torch

    from runners.reproduce.influential import mixture_standard_error

    # latent 0 collapsed (every term log 1 = 0); latent 1 two far-apart bumps (every term
    # log 2); latent 2 means N(0, 1), scale 0.3: terms vary, error about sd / sqrt(N)
    n = 4000
    generator = torch.Generator().manual_seed(0)
    loc = torch.stack([torch.zeros(n), torch.where(torch.arange(n) % 2 == 0, -20.0, 20.0),
                       torch.randn(n, generator=generator)], 1)
    scale = torch.stack([torch.ones(n), torch.full((n,), 0.3), torch.full((n,), 0.3)], 1)
    errors = mixture_standard_error(loc, scale, seed=1)
    assert errors[0] == pytest.approx(0.0, abs=1e-12)
    assert errors[1] == pytest.approx(0.0, abs=1e-9)
    assert 0.3 / math.sqrt(n) < errors[2] < 3.0 / math.sqrt(n)


@pytest.mark.parametrize(("program", "defaults"), [
    ("ccvae", (3, 60, 10)), ("mlvae", (3, 60, 10)), ("influential", (3, 60, 10)),
    ("shapes", (1, 60, 5)), ("parted", (3, 30, 6))])
def test_every_program_parses_the_shared_options(program, defaults, tmp_path) -> None:
    import importlib

    from runners.reproduce.common import REPRODUCTION_PAGE

    parse = importlib.import_module(f"runners.reproduce.{program}").parse
    full = parse([])
    assert (full.seeds, full.max_epochs, full.patience) == defaults
    assert full.work == ROOT / "runs" / "reproduce" / program and full.page == REPRODUCTION_PAGE
    quick = parse(["--quick", "--work", str(tmp_path), "--jobs", "1"])
    assert quick.quick and quick.jobs == 1 and quick.page == tmp_path / "reproduction.md"


@pytest.mark.parametrize("program", ["ccvae", "mlvae", "influential", "shapes", "parted",
                                     "parted --recipe authors", "ccvae --recipe authors",
                                     "ccvae_recipes"])
@pytest.mark.parametrize("mode", [[], ["--quick"]])
def test_every_training_of_a_program_is_a_valid_command_line(program, mode) -> None:
    """Each RunSpec's options parse as `pyro-vaes train MODEL` options (full and quick mode),
    so that no program fails hours in on an option a model does not take."""
    import importlib

    import click

    from runners.reproduce.common import option_args
    from runners.train import make_train_command

    program, *extra = program.split()
    module = importlib.import_module(f"runners.reproduce.{program}")
    for spec in module.specs(module.parse([*mode, *extra])):
        command = make_train_command(spec.model)
        args = ["--out", "unused", *option_args(spec.options)]
        try:
            command.make_context(command.name, args)
        except click.UsageError as error:
            pytest.fail(f"{program} {spec.name}: {error.format_message()}")


@pytest.mark.slow
@pytest.mark.reproduce
def test_ccvae_recipes_quick(tmp_path: Path) -> None:
    text = section(run_quick("ccvae_recipes", tmp_path), "ccvae-recipes")
    rows = checked_claim_rows(text, 8)
    assert sum("Remedy (`--recipe authors-alpha`)" in r for r in rows) == 4
    assert sum("Remedy (`--recipe authors-balanced`)" in r for r in rows) == 4
    assert sum("| `kingma` " in r and "; `elbo` " in r for r in rows) == 6  # both M2 baselines
    assert "M2 `kingma` accuracy | M2 `elbo` accuracy" in text
    assert "| labels | CCVAE `authors` accuracy" in text
    assert "--patience 3 --early-stop-on val_accuracy" in text


@pytest.mark.parametrize(("value", "message"), [
    (["256=0.7"], "expected LABELS=ACCURACY:PROBE"),
    (["256=0.7:0.7"], "gives no figures at 1000 labels"),
])
def test_a_bad_m2_baseline_is_refused_before_anything_trains(value, message, capsys) -> None:
    from runners.reproduce import parted

    argv = ["--recipe", "authors", *(f for v in value for f in ("--m2-baseline", v))]
    with pytest.raises(SystemExit) as stop:
        parted.parse(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_m2_baseline_figures_are_read_once_per_label_count() -> None:
    from runners.reproduce import parted

    args = parted.parse(["--recipe", "authors", "--m2-baseline", "256=0.7:0.75",
                         "--m2-baseline", "1000=0.8:0.6"])
    assert args.m2_baseline_figures == {256: (0.7, 0.75), 1000: (0.8, 0.6)}
    assert parted.m2_figures(args, {}, 1000, "leakage_probe_accuracy").mean == 0.6
    assert parted.m2_seeds(args) == []
