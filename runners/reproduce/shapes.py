"""Every disentanglement metric of every model at convergence on the 64x64 shapes set.

Run ``python3 -m runners.reproduce.shapes`` (``--quick`` for a smoke run on shapes-small
that writes to a scratch page). One seed of each model by default (``--seeds 3`` for
three, about three times the time below: over 90 minutes), all with the MLP nets, a Bernoulli
likelihood, batch 128, Adam 1e-3, the same total latent size 17 (the CCVAE's 7
characteristic latents, one per binarised factor, and 10 style latents; the other
label-aware models split it the same way: ML-VAE content 7 + style 10, the class-related
model u 7 + z 10), each model's own default ELBO, and early stopping with patience 5 (at
most 60 epochs; validation ELBO for the unsupervised models, validation accuracy for the
semi-supervised ones). The CCVAE's options are those of ``runners.reproduce.ccvae`` (its
``ccvae-shapes-s0`` run; here with this program's epoch budget):

- ``vae``, ``beta-vae`` (``--beta 4``): no labels;
- ``m2``, ``parted``: told the shape (3 classes) for 10% of the training images;
- ``ccvae``: told the 7 binarised factors (``--label-kind attributes``) for 10% of them;
- ``mlvae``: groups of 8 images sharing the shape (``--group-by shape``).

Each best epoch is evaluated (``pyro-vaes evaluate --checkpoint best``, the test ELBO, and
the accuracy of the semi-supervised models) and scored with every metric of
``pyro-vaes analyze metrics`` (``pyro_vaes.analysis.disentanglement_scores``: MIG
continuous and binned, DCI, SAP, FactorVAE, beta-VAE, modularity, explicitness, IRS and the
unsupervised total correlation and mutual information) on the posterior means of every
Gaussian latent site for all 4,608 test images against the five true factors; the scoring
runs in its own process per model, two at a time.

Time (measured, load 0.7-2, two trainings at a time): with a 30-epoch cap 28.5 minutes
(training 11-12 minutes per pair, evaluation about 1 minute and the metrics about 80 s per
model); to the 60-epoch cap (the semi-supervised models stop early, at 33-38 epochs) about
54 minutes in all. ``--max-epochs 30`` halves the training; the metrics moved by at most
0.054 between the two caps (docs/reproduction.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from runners.reproduce.ccvae import shapes_options
from runners.reproduce.common import (
    ROOT,
    Environment,
    RunSpec,
    Stages,
    Stat,
    loss_spikes,
    program_arguments,
    program_parser,
    read_evaluation,
    read_history,
    seeds_for,
    train_every_spec,
    write_section,
)

MODELS = ("vae", "beta-vae", "m2", "ccvae", "mlvae", "parted")
METRIC_KEYS = ("mig_continuous", "mig_binned", "dci_disentanglement", "dci_completeness",
               "dci_informativeness", "sap", "factor_vae_score", "beta_vae_score", "modularity",
               "explicitness", "irs", "gaussian_total_correlation", "mutual_info_score")
LABEL_SPECIFIC = ("label_kind", "labelled_fraction", "early_stop_on")


def common_options(args: argparse.Namespace) -> dict[str, Any]:
    """The CCVAE's shapes options without what only concerns its labels."""
    return {k: v for k, v in shapes_options(args).items() if k not in LABEL_SPECIFIC}


def run_name(model: str, seed: int) -> str:
    return f"{model}-shapes-s{seed}"


def specs(args: argparse.Namespace) -> list[RunSpec]:
    """One training per model and seed, the slowest first (two run at a time)."""
    out = []
    for seed in seeds_for(args.quick, args.seeds):
        common = {**common_options(args), "seed": seed}
        fraction = shapes_options(args)["labelled_fraction"]
        out += [
            RunSpec(run_name("m2", seed), "m2", {**common, "labelled_fraction": fraction},
                    measures="likelihood,accuracy"),
            RunSpec(run_name("parted", seed), "parted",
                    {**common, "labelled_fraction": fraction, "class_dim": 7},
                    measures="likelihood,accuracy"),
            RunSpec(run_name("ccvae", seed), "ccvae", {**shapes_options(args), "seed": seed},
                    measures="likelihood,accuracy"),
            RunSpec(run_name("mlvae", seed), "mlvae",
                    {**common, "group_by": "shape", "group_size": 8, "content_dim": 7},
                    measures="likelihood,probes"),
            RunSpec(run_name("vae", seed), "vae", common),      # early stopping: val_elbo
            RunSpec(run_name("beta-vae", seed), "vae", {**common, "beta": 4.0}),
        ]
    return out


# -- metrics, one process per run ---------------------------------------------------------
def metrics_path(run_dir: Path) -> Path:
    return run_dir / "analysis" / "metrics-test-best.json"


@torch.no_grad()
def score_run(run_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Every disentanglement metric of the best epoch's test latents (as ``pyro-vaes analyze
    metrics``, which reads the last epoch), written to RUN/analysis/metrics-test-best.json."""
    import time

    from pyro_vaes import api
    from pyro_vaes.analysis.disentanglement import disentanglement_scores
    from pyro_vaes.analysis.influence import analyse_latents

    started = time.perf_counter()
    run = api.load_run(run_dir, which="best")
    test = run.splits.test
    analysis = analyse_latents(run.model, test, limit=None, seed=seed)
    scores = disentanglement_scores(analysis, test.factors, seed=seed)
    scores["sites"] = ",".join(f"{name}:{site.dim}" for name, site in analysis.sites.items())
    scores["seconds"] = time.perf_counter() - started
    path = metrics_path(run_dir)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def score_all(dirs: dict[str, Path], env: Environment) -> dict[str, dict[str, Any]]:
    """Score every run (each in its own one-thread process, ``env.jobs`` at a time)."""
    say = env.stages or print

    def one(name: str) -> dict[str, Any]:
        path = metrics_path(dirs[name])
        if not path.is_file():
            say(f"metrics of {name}")
            log = env.work / f"{name}.log"
            with log.open("a") as handle:
                done = subprocess.run([sys.executable, "-m", "runners.reproduce.shapes",
                                       "--score", str(dirs[name])], cwd=ROOT, env=env.env(),
                                      stdout=handle, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                raise RuntimeError(f"scoring {name} failed; see {log}")
            say(f"metrics of {name} in {json.loads(path.read_text())['seconds']:.0f} s")
        return json.loads(path.read_text())

    with ThreadPoolExecutor(max_workers=max(1, env.jobs)) as pool:
        return dict(zip(dirs, pool.map(one, list(dirs)), strict=True))


# -- the page ----------------------------------------------------------------------------
def _accuracy(evaluation: dict[str, Any]) -> float | None:
    return next((evaluation[k] for k in ("accuracy", "classifier_accuracy",
                                         "content_probe_accuracy") if k in evaluation), None)


def table(args: argparse.Namespace, dirs: dict[str, Path],
          scores: dict[str, dict[str, Any]]) -> str:
    """Models as columns, metrics (mean ± sd over seeds) and training facts as rows."""
    seeds = seeds_for(args.quick, args.seeds)
    runs = {m: [run_name(m, s) for s in seeds] for m in MODELS}

    def row(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(m) for m in MODELS) + " |"

    def stat(values: Any, digits: int = 3) -> str:
        values = [v for v in values if v is not None]
        return Stat.of(values).format(digits) if values else "—"

    lines = ["| metric | " + " | ".join(MODELS) + " |\n|---|" + "---:|" * len(MODELS)]
    for key in METRIC_KEYS:
        lines.append(row(key, lambda m, key=key: stat(scores[n][key] for n in runs[m])))
    lines.append(row("latent sites (dims)", lambda m: scores[runs[m][0]]["sites"]))
    lines.append(row("epochs trained", lambda m: stat(
        (len(read_history(dirs[n])) for n in runs[m]), 1)))
    lines.append(row("best epoch", lambda m: stat(
        (read_evaluation(dirs[n])["epoch"] for n in runs[m]), 1)))
    lines.append(row("test ELBO per image (K = 100; ML-VAE: per group of 8)", lambda m: stat(
        (read_evaluation(dirs[n])["test_elbo"] for n in runs[m]), 1)))
    lines.append(row("test accuracy (m2: q(y\\|x) of the shape; ccvae: mean over the 7 "
                     "attributes; parted: q(c\\|x); mlvae: content probe of the shape)",
                     lambda m: stat(_accuracy(read_evaluation(dirs[n])) for n in runs[m])))
    lines.append(row("training-loss spikes (run: epochs)", lambda m: "; ".join(
        f"{n}: {spikes}" for n in runs[m] if (spikes := loss_spikes(read_history(dirs[n]))))
        or "none"))
    return "\n".join(lines)


def write_page(args: argparse.Namespace, dirs: dict[str, Path],
               scores: dict[str, dict[str, Any]], stages: Stages) -> Path:
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in common_options(args).items())
    seeds = seeds_for(args.quick, args.seeds)
    points = scores[run_name("vae", seeds[0])]["points"]
    text = f"""
## Disentanglement metrics on the shapes set

Program: `python3 -m runners.reproduce.shapes` ({stages.summary()}).
Every run: `pyro-vaes train MODEL {options} --seed S` plus, per model: beta-VAE
`--beta 4`; M2 `--labelled-fraction {shapes_options(args)['labelled_fraction']}` (the shape
as the class); the class-related model the same and `--class-dim 7`; CCVAE
`--label-kind attributes --labelled-fraction {shapes_options(args)['labelled_fraction']}`
(the 7 binarised factors); ML-VAE `--group-by shape --group-size 8 --content-dim 7`; then
`pyro-vaes evaluate RUN --checkpoint best`. Early stopping on the validation ELBO (vae,
beta-VAE, ML-VAE) or accuracy (M2, CCVAE, class-related model). Metrics of the best epoch
(every metric of `pyro-vaes analyze metrics`, published definitions, docs/analysis.md) on the
posterior means of all Gaussian latent sites of {points} test images against the five true
factors; mean ± sd over {len(seeds)} seed(s) (in brackets: seeds). Every model of the
library trains on the shapes set, so every column is filled. Total correlation and
mutual_info_score: lower is more independent.

{table(args, dirs, scores)}
"""
    return write_section("shapes", text, args.page)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = program_parser(__doc__, seeds=1, max_epochs=60, patience=5,
                            quick="a smoke run on shapes-small (2 epochs) to a scratch page")
    parser.add_argument("--score", type=Path, default=None, metavar="RUN",
                        help=argparse.SUPPRESS)
    return program_arguments(parser, argv, "shapes")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.score is not None:
        score_run(args.score)
        return
    stages = Stages("shapes")
    env = Environment(args.work, jobs=args.jobs, stages=stages)
    dirs = train_every_spec(specs(args), env, args, stages)
    stages("disentanglement metrics")
    scores = score_all(dirs, env)
    page = write_page(args, dirs, scores, stages)
    print(table(args, dirs, scores))
    stages(f"written {page}")


if __name__ == "__main__":
    main()
