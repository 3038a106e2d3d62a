"""`--help` and usage errors load no heavy library; the light name lists match the parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("torch", "pyro", "sklearn", "matplotlib", "tensorboard")

# One fresh interpreter answers a whole list of command lines in turn and reports, after
# each, its exit code, the heavy modules loaded so far and the CPU seconds it took (modules
# never unload, so the first command that loads one is the one named).
_PROBE = """
import json, sys, time
from runners.cli import main
commands = json.loads(sys.argv[1])
answers = []
for args in commands:
    start = time.process_time()
    code = main(args)
    answers.append({"args": args, "code": code, "cpu_s": time.process_time() - start,
                    "loaded": [m for m in HEAVY if m in sys.modules]})
print(json.dumps(answers))
""".replace("HEAVY", repr(HEAVY))


def _probe(*commands: list[str]) -> list[dict]:
    """Run the command lines in one fresh interpreter; per command its exit code, the heavy
    modules loaded by its end and its CPU seconds."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(commands))], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _every_help() -> list[list[str]]:
    """`--help` of every command and group of the command line."""
    import click

    from runners.cli import cli

    def walk(command: click.Command, path: list[str]) -> list[list[str]]:
        found = [[*path, "--help"]]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, [*path, name])
        return found

    return walk(cli, [])


USAGE_ERRORS = [
    ["train", "vae", "--no-such-option"],
    ["train", "vae", "--epochs", "zero"],
    ["train", "vae", "--epochs", "0"],
    ["train", "vae", "--lr-decay", "0.5"],
    ["evaluate"],
    ["evaluate", "RUN", "--num-samples", "0"],
]


def test_every_help_list_and_usage_error_import_no_heavy_library(tmp_path):
    helps = _every_help()
    assert len(helps) >= 27 and ["render", "parted", "--help"] in helps
    usage = [[str(tmp_path) if a == "RUN" else a for a in args] for args in USAGE_ERRORS]
    answers = _probe(*helps, ["list"], ["train", "vae", "--print-config"], *usage)
    for answer in answers:
        expected = 2 if answer["args"] in usage else 0
        assert (answer["code"], answer["loaded"]) == (expected, []), answer


def test_wrong_run_directories_are_answered_before_torch(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"not read")
    (run / "evaluation-test.json").write_text("{}\n")
    commands = [
        ["evaluate", str(tmp_path / "nope")],
        ["evaluate", str(empty)],
        ["evaluate", str(run)],                          # its evaluation exists: --force
        ["evaluate", str(run), "--split", "val", "--checkpoint", "best"],  # no best.pt
        ["sample", str(tmp_path / "nope")],
        ["analyze", "metrics", str(empty)],
        ["intervene", "swap", str(tmp_path / "nope")],
    ]
    answers = _probe(*commands)
    for answer in answers:
        assert (answer["code"], answer["loaded"]) == (2, []), answer
    # Under a second of CPU each, the interpreter's start-up aside (wall time depends on
    # what else the machine runs, CPU time hardly).
    assert max(answer["cpu_s"] for answer in answers) < 1.0, answers
    assert (run / "evaluation-test.json").read_text() == "{}\n"


def test_the_probe_sees_torch_when_a_command_loads_it(tmp_path):
    # The probe would pass vacuously if imports were invisible to it: a run directory whose
    # checkpoint.pt is not a checkpoint is only found out by torch, which must show.
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (answer,) = _probe(["evaluate", str(run), "--no-progress"])
    assert answer["code"] == 2
    assert "torch" in answer["loaded"]


def test_light_names_match_the_parts():
    from pyro_vaes import choices
    from pyro_vaes.analysis.disentanglement import METRICS
    from pyro_vaes.guides import GUIDES
    from pyro_vaes.likelihoods import LIKELIHOODS
    from pyro_vaes.priors import PRIORS

    assert choices.PRIOR_NAMES == tuple(PRIORS)
    assert choices.GUIDE_NAMES == tuple(GUIDES)
    assert choices.LIKELIHOOD_NAMES == tuple(LIKELIHOODS)
    assert choices.METRIC_NAMES == tuple(METRICS)


def test_every_part_and_data_set_has_its_light_description():
    from pyro_vaes import descriptions
    from pyro_vaes.choices import NETS
    from pyro_vaes.data import list_datasets
    from pyro_vaes.guides import GUIDES
    from pyro_vaes.inference import ELBO_CLASSES
    from pyro_vaes.likelihoods import LIKELIHOODS
    from pyro_vaes.priors import PRIORS

    assert tuple(descriptions.PRIOR_DESCRIPTIONS) == tuple(PRIORS)
    assert tuple(descriptions.GUIDE_DESCRIPTIONS) == tuple(GUIDES)
    assert tuple(descriptions.LIKELIHOOD_DESCRIPTIONS) == tuple(LIKELIHOODS)
    assert tuple(descriptions.ELBO_DESCRIPTIONS) == tuple(ELBO_CLASSES)
    assert tuple(descriptions.NET_DESCRIPTIONS) == NETS
    assert list(descriptions.DATASET_DESCRIPTIONS) == list_datasets()


def test_catalogue_matches_the_model_classes():
    from pyro_vaes.models import MODELS
    from pyro_vaes.models.catalog import CATALOG

    assert list(CATALOG) == list(MODELS)
    for name, entry in CATALOG.items():
        cls = MODELS[name]
        assert (cls.name, cls.description, cls.plan) == (entry.name, entry.description,
                                                         entry.plan)
        assert cls.config_class is entry.config_class()
        assert cls.train_choices() == entry.train_choices()
