"""Experiments as files: `train MODEL --config FILE`, `--print-config`, RUN/experiment.toml."""

from __future__ import annotations

import json

import pytest

from pyro_vaes.errors import ConfigError
from pyro_vaes.experiment import experiment_toml, option_fields, read_experiment, tomllib
from tests.conftest import run_cli

FLAGS = ("--epochs", "1", "--max-train", "200", "--net", "mlp", "--hidden-dim", "32",
         "--latent-dim", "4", "--seed", "3", "--batch-size", "50", "--beta", "2")


def _write(path, text):
    path.write_text(text)
    return path


def _metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_print_config_then_config_trains_the_run_of_the_flags(tmp_path):
    printed = run_cli("train", "vae", *FLAGS, "--print-config")
    assert printed.returncode == 0, printed.stderr
    assert not list(tmp_path.iterdir())              # printing trains nothing
    experiment = _write(tmp_path / "exp.toml", printed.stdout)
    from_file = run_cli("train", "vae", "--config", str(experiment), "--out",
                        str(tmp_path / "file"))
    assert from_file.returncode == 0, from_file.stderr
    from_flags = run_cli("train", "vae", *FLAGS, "--out", str(tmp_path / "flags"))
    assert from_flags.returncode == 0, from_flags.stderr
    config = json.loads((tmp_path / "file" / "config.json").read_text())
    assert config == json.loads((tmp_path / "flags" / "config.json").read_text())
    assert config["train"]["epochs"] == 1 and config["model_config"]["beta"] == 2.0
    losses = [{k: v for k, v in row.items() if k != "seconds"}
              for row in _metrics(tmp_path / "file")]
    assert losses == [{k: v for k, v in row.items() if k != "seconds"}
                      for row in _metrics(tmp_path / "flags")]
    # the run keeps its resolved options as an experiment file, the same as the printed one
    assert (tmp_path / "file" / "experiment.toml").read_text() == printed.stdout
    # an option given on the command line overrides the file's
    override = run_cli("train", "vae", "--config", str(experiment), "--beta", "0.5",
                       "--print-config")
    assert override.returncode == 0, override.stderr
    values = tomllib.loads(override.stdout)
    assert values["model_options"]["beta"] == 0.5
    assert values["train"]["epochs"] == 1 and values["model_options"]["hidden_dim"] == 32


def test_flags_override_the_file_and_unset_flags_do_not(tmp_path):
    experiment = _write(tmp_path / "exp.toml", 'model = "m2"\n[train]\nepochs = 7\nlr = 0.01\n'
                                               '[model_options]\naux_weight = 3\n')
    result = run_cli("train", "m2", "--config", str(experiment), "--lr", "0.5",
                     "--print-config")
    assert result.returncode == 0, result.stderr
    values = tomllib.loads(result.stdout)
    assert values["model"] == "m2"
    assert values["train"]["epochs"] == 7          # from the file (not the default 50)
    assert values["train"]["lr"] == 0.5            # the flag wins
    assert values["model_options"]["aux_weight"] == 3.0
    assert values["train"]["batch_size"] == 64     # the default, neither file nor flag


@pytest.mark.parametrize("text, words", [
    ('model = "vae"\n[model_options]\naux_weight = 3\n', ["aux_weight", "[model_options]",
                                                           "remove it"]),
    ('model = "vae"\n[train]\nlatent_dim = 3\n', ["latent_dim", "belongs in [model_options]"]),
    ('model = "vae"\n[train]\nlabels = 30\n', ["labels", "[train]"]),
    ('model = "m2"\n', ["model \"m2\"", "pyro-vaes train m2 --config"]),
    ('[train]\nepochs = 3\n', ['model = "vae"']),
    ('model = "vae"\n[train\nepochs = 3\n', ["not valid TOML", "line"]),
    ('model = "vae"\n[train]\nepochs = "3"\n', ["epochs must be a whole number", "epochs = 50"]),
    ('model = "vae"\n[train]\nlr = true\n', ["lr must be a number"]),
    ('model = "vae"\n[train]\njit = 1\n', ["jit must be true or false"]),
    ('model = "vae"\nepochs = 3\n', ["unknown top-level key 'epochs'"]),
    ('model = "vae"\n[train]\nepochs = 0\n', ["--epochs must be at least 1"]),
    ('model = "vae"\n[model_options]\nlikelihood = "poisson"\n', ["likelihood", "bernoulli"]),
])
def test_a_bad_file_is_one_line_and_exit_2(tmp_path, text, words):
    experiment = _write(tmp_path / "exp.toml", text)
    out = tmp_path / "run"
    result = run_cli("train", "vae", "--config", str(experiment), "--out", str(out))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0]
    assert not out.exists()


def test_a_missing_file_is_refused(tmp_path):
    result = run_cli("train", "vae", "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_read_experiment_keeps_only_what_the_file_sets(tmp_path):
    experiment = read_experiment(_write(tmp_path / "e.toml", 'model = "ccvae"\n[train]\n'
                                                             'labels = 100\nlr = 1\n'),
                                 "ccvae")
    assert experiment.train == {"labels": 100, "lr": 1.0}
    assert isinstance(experiment.train["lr"], float)
    assert experiment.model_options == {}
    with pytest.raises(ConfigError, match="takes no option 'beta'"):
        read_experiment(_write(tmp_path / "f.toml", 'model = "ccvae"\n[model_options]\n'
                                                    'beta = 2.0\n'), "ccvae")


@pytest.mark.parametrize("model", ["vae", "m2", "ccvae", "mlvae", "parted"])
def test_the_default_file_reads_back_as_the_defaults(tmp_path, model):
    from pyro_vaes.config import TrainConfig
    from pyro_vaes.models.catalog import CATALOG

    text = experiment_toml(model, {}, {})
    experiment = read_experiment(_write(tmp_path / "d.toml", text), model)
    defaults = CATALOG[model].config_class()()
    for key, value in experiment.model_options.items():
        assert getattr(defaults, key) == value
    for key, value in experiment.train.items():
        assert getattr(TrainConfig(), key) == value
    # every option that has a default value is written out, the unset ones commented
    config_class = CATALOG[model].config_class()
    assert set(experiment.model_options) == {f.name for f in option_fields(config_class)
                                             if f.default is not None}
    assert set(experiment.train) == {f.name for f in option_fields(TrainConfig,
                                                                   CATALOG[model].plan)
                                     if f.default is not None}
    assert "epochs" in experiment.train and "# max_train = " in text
