"""Benchmark: influential factors of beta-VAEs, and disentanglement metrics of every model.

    python -m runners.benchmarks.influential_factors [--epochs 5] [--max-train 10000]

Part 1 trains beta-VAEs (beta 1 and 4) on Fashion-MNIST and on the shapes set
and prints, for each, the number of influential factors (mixture I(x; z_j) >
0.5 nats), the four estimates per factor, and linear-probe accuracy from the
top-k factors against k. Part 2 prints all disentanglement metrics on the
shapes set for the beta-VAEs, CCVAE (binarised factors as labels), ML-VAE
(grouped by shape) and the class-related model (shape as the class). Every
model sees the same training images, epochs and batch size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from pyro_vaes import api
from pyro_vaes.analysis.disentanglement import disentanglement_scores
from pyro_vaes.analysis.influence import accuracy_versus_kept, analyse_latents, default_ks
from pyro_vaes.config import TrainConfig

METRICS = ("mig_continuous", "mig_binned", "dci_disentanglement", "sap", "factor_vae_score",
           "beta_vae_score")


def train(name: str, out: Path, data: str, args: argparse.Namespace, **options) -> tuple:
    config = TrainConfig(data=data, epochs=args.epochs, max_train=args.max_train,
                         batch_size=64, seed=0, labels=options.pop("labels", None),
                         labelled_batch_every=1 if name == "ccvae" else None)
    start = time.perf_counter()
    run = api.train(name, out, model_options=options, train_config=config, figures=False)
    seconds = (time.perf_counter() - start) / args.epochs
    return run, seconds


def influential_section(run: api.Run, title: str, args: argparse.Namespace) -> None:
    splits = run.splits
    train = analyse_latents(run.model, splits.train, limit=args.analysis_limit)
    test = analyse_latents(run.model, splits.test, limit=args.analysis_limit)
    influential = test.influential(0.5)
    print(f"\n### {title}: {len(influential)} influential factors (> 0.5 nats) of "
          f"{len(test.factors())}\n")
    print("| factor | I mixture | I closed form | KL to prior | Var[mu] | active |")
    print("|---|---|---|---|---|---|")
    for row in sorted(test.rows(), key=lambda r: -r["mi_mixture"]):
        print(f"| {row['site']}[{row['dim']}] | {row['mi_mixture']:.3f} | "
              f"{row['mi_moment_matched']:.3f} | {row['kl_to_prior']:.3f} | "
              f"{row['posterior_mean_variance']:.3f} | {'yes' if row['active'] else 'no'} |")
    rows = accuracy_versus_kept(train, test, splits.train.targets[:args.analysis_limit],
                                splits.test.targets[:args.analysis_limit],
                                default_ks(len(train.factors())))
    print("\n| k | accuracy, top-k by I | accuracy, bottom-k |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['k']} | {row['accuracy_top_k']:.3f} | {row['accuracy_bottom_k']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-train", type=int, default=10000)
    parser.add_argument("--analysis-limit", type=int, default=4000)
    parser.add_argument("--shapes", default="shapes", help="shapes or shapes-small")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    root = args.out or Path(tempfile.mkdtemp(prefix="influential-"))
    print(f"# Influential factors (epochs {args.epochs}, at most {args.max_train} training "
          f"images, MI on {args.analysis_limit} images)")

    shape_runs: dict[str, tuple] = {}
    for beta in (1.0, 4.0):
        for data in ("fashion-mnist", args.shapes):
            run, seconds = train("vae", root / f"vae-{data}-beta{beta:g}", data, args,
                                 beta=beta, latent_dim=10, likelihood="bernoulli")
            influential_section(run, f"beta-VAE beta={beta:g} on {data} "
                                     f"({seconds:.1f} s/epoch)", args)
            if data == args.shapes:
                shape_runs[f"beta-VAE (beta={beta:g})"] = (run, seconds)

    others = {
        "CCVAE (7 binarised factors)": ("ccvae", {"label_kind": "attributes", "latent_dim": 13,
                                                  "likelihood": "bernoulli", "labels": 3000}),
        "ML-VAE (grouped by shape)": ("mlvae", {"group_by": "shape", "latent_dim": 10,
                                                "likelihood": "bernoulli"}),
        "class-related VAE (shape as class)": ("parted", {"likelihood": "bernoulli",
                                                          "labels": 3000}),
    }
    for title, (name, options) in others.items():
        shape_runs[title] = train(name, root / f"{name}-shapes", args.shapes, args, **options)

    print(f"\n## Disentanglement metrics on {args.shapes} (test split, "
          f"{args.analysis_limit} images)\n")
    print("| model | latents | " + " | ".join(METRICS) + " | s/epoch |")
    print("|---|---|" + "---|" * len(METRICS) + "---|")
    for title, (run, seconds) in shape_runs.items():
        analysis = analyse_latents(run.model, run.splits.test, limit=args.analysis_limit)
        scores = disentanglement_scores(analysis, run.splits.test.factors)
        print(f"| {title} | {scores['latents']} | "
              + " | ".join(f"{scores[m]:.3f}" for m in METRICS) + f" | {seconds:.1f} |")


if __name__ == "__main__":
    main()
