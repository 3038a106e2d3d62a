"""The `pyro-vaes` command line, run as a user runs it."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from pyro_vaes.models import MODELS
from runners.cli import cli
from tests.conftest import run_cli


def _one_error_line(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize("args,expected", [
    (["train", "nosuchmodel"], "No such command 'nosuchmodel'"),
    (["train", "vae", "--latent-dim", "0"], "--latent-dim must be at least 1"),
    (["train", "vae", "--batch-size", "-5"], "--batch-size must be at least 1"),
    (["train", "vae", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "vae", "--lr", "-1"], "--lr must be greater than 0"),
    (["train", "vae", "--data", "mnist", "--data-root", "/no/such/dir"], "/no/such/dir"),
    (["train", "vae", "--data", "nosuchdata"], "nosuchdata"),
    (["train", "vae", "--guide", "flow", "--latent-dim", "1"], "at least 2"),
    (["train", "vae", "--device", "cuda:0"], None),
    (["evaluate", "/no/such/run"], "no such run directory"),
])
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, args, expected):
    line = _one_error_line(run_cli(*args, "--out", str(tmp_path / "out"))
                           if args[0] == "train" else run_cli(*args))
    if expected:
        assert expected in line
    assert not (tmp_path / "out").exists()


def test_labelled_fraction_outside_unit_interval_is_refused(tmp_path):
    semi = [name for name, cls in MODELS.items() if cls.plan == "semi-supervised"]
    assert semi, "no semi-supervised model is registered"
    for value, message in (("1.5", "at most 1"), ("0", "greater than 0")):
        line = _one_error_line(run_cli("train", semi[0], "--labelled-fraction", value,
                                       "--out", str(tmp_path / "out")))
        assert message in line
    line = _one_error_line(run_cli("train", semi[0], "--labels", "0", "--out",
                                   str(tmp_path / "out")))
    assert "--labels must be at least 1" in line


def test_train_evaluate_sample_and_refusals_on_an_existing_run(tmp_path):
    run = tmp_path / "run"
    result = run_cli("train", "vae", "--out", str(run), "--epochs", "2", "--max-train", "200",
                     "--latent-dim", "3")
    assert result.returncode == 0, result.stderr
    assert "validation ELBO" in result.stdout
    before = (run / "checkpoint.pt").read_bytes()
    line = _one_error_line(run_cli("train", "vae", "--out", str(run)))
    assert "already exists" in line
    assert (run / "checkpoint.pt").read_bytes() == before

    result = run_cli("evaluate", str(run), "-k", "20")
    assert result.returncode == 0, result.stderr
    saved = json.loads((run / "evaluation-test.json").read_text())
    assert saved["test_elbo"] <= saved["test_iw_log_likelihood"]

    result = run_cli("sample", str(run), "-n", "16", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert (run / "figures" / "samples-seed2-n16.png").exists()

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert "not a readable checkpoint" in _one_error_line(run_cli("evaluate",
                                                                  str(tmp_path / "broken")))


def test_render_draws_model_and_guide_with_graphviz(tmp_path):
    result = run_cli("render", "vae", "--out", str(tmp_path), "--format", "svg", "--format",
                     "png", "--latent-dim", "3")
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "vae-model.svg").read_text()
    assert "<svg" in svg and ">z<" in svg and ">x<" in svg and "data" in svg
    assert (tmp_path / "vae-guide.png").read_bytes()[:4] == b"\x89PNG"
    shapes = (tmp_path / "vae-shapes.txt").read_text()
    assert "z dist" in shapes and "x dist" in shapes


def test_list_names_every_model_prior_guide_likelihood_and_data_set():
    out = CliRunner().invoke(cli, ["list"]).output
    for word in [*MODELS, "normal", "mixture", "diagonal", "lowrank", "full", "flow",
                 "bernoulli", "laplace", "digits", "fashion-mnist", "shapes"]:
        assert f"  {word}" in out
    for model in MODELS:   # every model's recipes: the clean-ELBO story and its authors'
        authors = "kingma" if model == "m2" else "authors"
        assert f"  {model} elbo " in out and f"  {model} {authors} " in out
    assert "  m2 pyro-example " in out and "  ccvae authors-alpha " in out


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


@pytest.mark.parametrize("path,command", list(_commands(cli)), ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else "")
def test_help_documents_every_option_with_its_default(path, command):
    out = " ".join(CliRunner().invoke(cli, [*path, "--help"], terminal_width=200).output.split())
    for param in command.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        assert param.opts[0] in out, param.opts[0]
        assert param.help, f"{param.opts[0]} has no help text"
        if not param.is_flag or param.secondary_opts:
            assert "default" in (param.help or "") or param.show_default, param.opts[0]
    assert "[default:" in out or not command.params
