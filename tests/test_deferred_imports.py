"""`--help` and usage errors load no heavy library; the light name lists match the parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("torch", "pyro", "sklearn", "matplotlib", "tensorboard")

_PROBE = """
import json, sys
from runners.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def _probe(*args: str) -> dict:
    """Run the command line in a fresh interpreter; its exit code and the heavy modules
    loaded by the end."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ("--help",),
    ("train", "--help"),
    ("train", "vae", "--help"),
    ("train", "m2", "--help"),
    ("train", "ccvae", "--help"),
    ("train", "mlvae", "--help"),
    ("train", "parted", "--help"),
    ("evaluate", "--help"),
    ("sample", "--help"),
    ("render", "vae", "--help"),
    ("intervene", "swap", "--help"),
    ("analyze", "metrics", "--help"),
    ("list", "--help"),
    ("train", "vae", "--print-config"),
    ("train", "vae", "--no-such-option"),
    ("train", "vae", "--epochs", "zero"),
    ("train", "vae", "--epochs", "0"),
    ("train", "vae", "--lr-decay", "0.5"),
    ("evaluate",),
])
def test_help_and_usage_errors_import_no_heavy_library(args):
    result = _probe(*args)
    error = args[-1] in ("--no-such-option", "zero", "0", "0.5", "evaluate")
    assert result["code"] == (2 if error else 0)
    assert result["loaded"] == []


def test_a_command_that_needs_torch_loads_it():
    # The probe would pass vacuously if imports were invisible to it: `list` describes the
    # models, so it must show torch and pyro loaded.
    result = _probe("list")
    assert result["code"] == 0
    assert "torch" in result["loaded"] and "pyro" in result["loaded"]


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
