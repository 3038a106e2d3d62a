"""`--threads`: the auto rule, the refusals, and a run using and recording its count."""

from __future__ import annotations

import json

import pytest
import torch

import pyro_vaes.api as api_module
from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.process import AUTO_MAX_THREADS, auto_threads, resolve_threads
from runners.cli import main


@pytest.mark.parametrize("cores, load, expected", [
    (2, 0.0, 1),            # a 2-core machine: always one thread
    (2, 4.0, 1),
    (4, 0.5, 2),            # 3.5 idle cores: one fewer than the idle ones
    (8, 4.2, 2),            # 3.8 idle
    (8, 5.1, 1),            # 2.9 idle: below 3
    (64, 1.0, AUTO_MAX_THREADS),
])
def test_auto_takes_one_thread_unless_three_cores_are_idle(cores, load, expected):
    assert auto_threads(cores, load, environ={}) == expected


def test_auto_follows_omp_num_threads_when_set():
    assert auto_threads(2, 0.0, environ={"OMP_NUM_THREADS": "3"}) == 3
    assert auto_threads(64, 0.0, environ={"OMP_NUM_THREADS": "0"}) == AUTO_MAX_THREADS
    assert auto_threads(64, 0.0, environ={"OMP_NUM_THREADS": "many"}) == AUTO_MAX_THREADS


@pytest.mark.parametrize("value", [0, -1, "two", "", True, 2.0, 5000])
def test_resolve_refuses_anything_but_a_count_or_auto(value):
    with pytest.raises(ConfigError, match="--threads .* whole number from 1 to 1024, or auto"):
        resolve_threads(value)


def test_resolve_passes_counts_through():
    assert resolve_threads(3) == 3 and resolve_threads("2") == 2


def test_a_run_trains_with_its_thread_count_and_records_it(tmp_path, monkeypatch):
    seen = []
    original = api_module._train_with_threads

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(api_module, "_train_with_threads", spy)
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    api.train("vae", tmp_path / "run", model_options={"hidden_dim": 16},
              train_config=TrainConfig(epochs=1, max_train=64, threads=other), figures=False)
    assert seen == [other] and torch.get_num_threads() == before
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["train"]["threads"], saved["threads_used"]) == (other, other)
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert checkpoint["config"]["threads_used"] == other

    # evaluate takes its own --threads the same way
    original_figures = api_module.likelihood_figures

    def spy_figures(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original_figures(*args, **kwargs)

    monkeypatch.setattr(api_module, "likelihood_figures", spy_figures)
    run = api.load_run(tmp_path / "run")
    api.evaluate(run, num_samples=2, iw_images=10, measures="likelihood", threads=other)
    assert seen == [other, other] and torch.get_num_threads() == before
    with pytest.raises(ConfigError, match="--threads"):
        api.evaluate(run, num_samples=2, measures="likelihood", threads=0)


def test_auto_is_kept_as_asked_and_the_number_it_chose_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    code = main(["train", "vae", "--out", str(tmp_path / "run"), "--epochs", "1",
                 "--max-train", "64", "--hidden-dim", "16", "--no-progress"])
    assert code == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["train"]["threads"], saved["threads_used"]) == ("auto", 1)


def test_a_bad_thread_count_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["train", "vae", "--out", str(tmp_path / "run"), "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--threads" in err and "auto" in err
    assert not (tmp_path / "run").exists()
