"""Every disentanglement metric of every model at convergence on the 64x64 shapes set.

Run ``python3 -m runners.reproduce.shapes`` (``--quick`` for a smoke run on shapes-small
that writes to a scratch page). One seed of each model, all with the MLP nets, a Bernoulli
likelihood, batch 128, Adam 1e-3, the same total latent size 17 (the CCVAE's 7
characteristic latents, one per binarised factor, and 10 style latents; the other
label-aware models split it the same way: ML-VAE content 7 + style 10, the class-related
model u 7 + z 10), each model's own default ELBO, and early stopping with patience 5 (at
most 30 epochs; validation ELBO for the unsupervised models, validation accuracy for the
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

Time (estimated from one-epoch pilots, one thread per training, two at a time): CPU time
per shapes epoch about 10 s for the VAE and the beta-VAE, 18 s for M2 and about 15 s for the
CCVAE, the ML-VAE and the class-related model (scaled from their wall times beside the VAE's
at a 1-minute load of about 9: VAE 39 s, M2 99 s, CCVAE 58 s, ML-VAE 58 s, class-related 60
s); evaluation about 1 minute per model and the metrics about 80 s of CPU per model (3
minutes of wall time niced at load 8), two at a time. At most 30 epochs of all six, two at
a time: about 21 minutes of training on two free cores, plus about 8 minutes of evaluation
and metrics: about 30 minutes on free cores; at a load of 4-6 about twice that, 60 minutes;
at the pilots' load of 9 it would exceed 90 (``--max-epochs`` cuts it).
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
    REPRODUCTION_PAGE,
    ROOT,
    Environment,
    RunSpec,
    Stages,
    loss_spikes,
    read_evaluation,
    read_history,
    run_all,
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


def specs(args: argparse.Namespace) -> list[RunSpec]:
    """One training per model, seed 0, the slowest first (two run at a time)."""
    common = {**common_options(args), "seed": 0}
    fraction = shapes_options(args)["labelled_fraction"]
    return [
        RunSpec("m2-shapes-s0", "m2", {**common, "labelled_fraction": fraction},
                measures="likelihood,accuracy"),
        RunSpec("parted-shapes-s0", "parted",
                {**common, "labelled_fraction": fraction, "class_dim": 7},
                measures="likelihood,accuracy"),
        RunSpec("ccvae-shapes-s0", "ccvae", {**shapes_options(args), "seed": 0},
                measures="likelihood,accuracy"),
        RunSpec("mlvae-shapes-s0", "mlvae",
                {**common, "group_by": "shape", "group_size": 8, "content_dim": 7},
                measures="likelihood,probes"),
        RunSpec("vae-shapes-s0", "vae", {**common, "early_stop_on": "val_elbo"}),
        RunSpec("beta-vae-shapes-s0", "vae", {**common, "beta": 4.0,
                                              "early_stop_on": "val_elbo"}),
    ]


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
def table(dirs: dict[str, Path], scores: dict[str, dict[str, Any]]) -> str:
    names = [f"{m}-shapes-s0" for m in MODELS]
    head = ("| metric | " + " | ".join(MODELS) + " |\n|---|" + "---:|" * len(MODELS))
    lines = [head]
    for key in METRIC_KEYS:
        lines.append(f"| {key} | " + " | ".join(f"{scores[n][key]:.3f}" for n in names) + " |")
    lines.append("| latent sites (dims) | " + " | ".join(scores[n]["sites"] for n in names)
                 + " |")
    lines.append("| epochs trained (best) | " + " | ".join(
        f"{len(read_history(dirs[n]))} ({read_evaluation(dirs[n])['epoch']})" for n in names)
        + " |")
    lines.append("| test ELBO per image (K = 100; ML-VAE: per group of 8) | " + " | ".join(
        f"{read_evaluation(dirs[n])['test_elbo']:.1f}" for n in names) + " |")
    cells = []
    for n in names:
        evaluation = read_evaluation(dirs[n])
        value = next((evaluation[k] for k in ("accuracy", "classifier_accuracy",
                                              "content_probe_accuracy") if k in evaluation),
                     None)
        cells.append("—" if value is None else f"{value:.3f}")
    lines.append("| test accuracy (m2, ccvae: mean over the 7 attributes, parted: q(y\\|x); "
                 "mlvae: content probe of the shape) | " + " | ".join(cells) + " |")
    spikes = {n: loss_spikes(read_history(dirs[n])) for n in names}
    lines.append("| training-loss spikes (epochs) | " + " | ".join(
        ", ".join(map(str, spikes[n])) or "none" for n in names) + " |")
    return "\n".join(lines)


def write_page(args: argparse.Namespace, dirs: dict[str, Path],
               scores: dict[str, dict[str, Any]], stages: Stages) -> Path:
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in common_options(args).items())
    points = scores["vae-shapes-s0"]["points"]
    text = f"""
## Disentanglement metrics on the shapes set

Program: `python3 -m runners.reproduce.shapes` ({stages.summary()}).
Every run: `pyro-vaes train MODEL {options} --seed 0` plus, per model: beta-VAE
`--beta 4`; M2 `--labelled-fraction {shapes_options(args)['labelled_fraction']}` (the shape
as the class); the class-related model the same and `--class-dim 7`; CCVAE
`--label-kind attributes --labelled-fraction {shapes_options(args)['labelled_fraction']}`
(the 7 binarised factors); ML-VAE `--group-by shape --group-size 8 --content-dim 7`; then
`pyro-vaes evaluate RUN --checkpoint best`. Early stopping on the validation ELBO (vae,
beta-VAE, ML-VAE) or accuracy (M2, CCVAE, class-related model). Metrics of the best epoch
(every metric of `pyro-vaes analyze metrics`, published definitions, docs/analysis.md) on the
posterior means of all Gaussian latent sites of {points} test images against the five true
factors; one seed. Every model of the library trains on the shapes set, so every column is
filled. Total correlation and mutual_info_score: lower is more independent.

{table(dirs, scores)}
"""
    return write_section("shapes", text, args.page)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run on shapes-small (2 epochs) to a scratch page")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None,
                        help="run directories [default: runs/reproduce/shapes]")
    parser.add_argument("--page", type=Path, default=None,
                        help="page to write [default: docs/reproduction.md]")
    parser.add_argument("--score", type=Path, default=None, metavar="RUN",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    tag = "shapes-quick" if args.quick else "shapes"
    args.work = args.work or ROOT / "runs" / "reproduce" / tag
    args.page = args.page or (args.work / "reproduction.md" if args.quick else REPRODUCTION_PAGE)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.score is not None:
        score_run(args.score)
        return
    stages = Stages("shapes")
    env = Environment(args.work, jobs=args.jobs, stages=stages)
    all_specs = specs(args)
    stages(f"{len(all_specs)} trainings, {args.jobs} at a time, in {args.work}")
    dirs = run_all(all_specs, env)
    stages("disentanglement metrics")
    scores = score_all(dirs, env)
    page = write_page(args, dirs, scores, stages)
    print(table(dirs, scores))
    stages(f"written {page}")


if __name__ == "__main__":
    main()
