"""CCVAE beside M2 on the same data, nets, epochs and semi-supervised schedule.

Run ``python3 -m runners.benchmarks.ccvae_vs_m2`` (defaults: Fashion-MNIST,
10,000 training images, 5 epochs, 600 / 3000 / all labels). For each number
of labels both models are trained with ``pyro_vaes.api.train`` (exactly what
``pyro-vaes train MODEL ...`` does) and measured with ``model.measures`` (the
model-specific part of ``pyro-vaes evaluate``; the importance-weighted
likelihood is skipped). It prints one markdown table: test accuracy (CCVAE:
q(y | z_c) at the posterior mean; M2: q(y | x)), label leakage into the style
latent (linear probe; the majority-class rate beside it), intervention success
as judged by the independent image classifier, diversity of conditional
samples, and training seconds per epoch, with the command of each row.
The schedule is the oversampling one recorded in docs/benchmarks.md (one
labelled batch after every unlabelled batch, ``--labelled-batch-every 1``).
One thread (``torch.set_num_threads(1)``): the machine is shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig

MODELS = ("ccvae", "m2")


def _labels(text: str) -> int | None:
    return None if text == "all" else int(text)


def command(model: str, args: argparse.Namespace, labels: int | None) -> str:
    """The `pyro-vaes` command that trains the same run."""
    parts = [f"pyro-vaes train {model} --data {args.data}", f"--epochs {args.epochs}",
             f"--seed {args.seed}"]
    if args.max_train:
        parts.insert(1, f"--max-train {args.max_train}")
    if labels is not None:
        parts.append(f"--labels {labels} --labelled-batch-every 1")
    return " ".join(parts) + " --out RUN && pyro-vaes evaluate RUN"


def measure(model: str, labels: int | None, args: argparse.Namespace, out: Path) -> dict:
    """Train one model and return its figures."""
    config = TrainConfig(data=args.data, max_train=args.max_train, epochs=args.epochs,
                         labels=labels, seed=args.seed, labelled_batch_every=1)
    run = api.train(model, out / f"{model}-{labels or 'all'}", train_config=config,
                    figures=False)
    start = time.perf_counter()
    figures = run.model.measures(run.splits, "test")
    figures["measure_seconds"] = time.perf_counter() - start
    figures["seconds_per_epoch"] = sum(r["seconds"] for r in run.history) / len(run.history)
    figures["train_images"] = len(run.splits.train)
    figures["val_elbo"] = run.history[-1]["val_elbo"]
    return figures


def table(rows: list[tuple[str, str, dict, str]]) -> str:
    """The markdown table of the results."""
    lines = ["| labels | model | test accuracy | label leakage into z_s / z (probe; majority) "
             "| intervention success | diversity | val ELBO | s / epoch | command |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for labels, model, f, cmd in rows:
        lines.append(
            f"| {labels} | {model} | {f['accuracy']:.3f} | {f['leakage_probe_accuracy']:.3f} "
            f"({f['leakage_majority_rate']:.3f}) | {f['intervention_success']:.3f} "
            f"| {f['diversity']:.3f} | {f['val_elbo']:.1f} | {f['seconds_per_epoch']:.1f} "
            f"| `{cmd}` |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--max-train", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--labels", nargs="+", default=["600", "3000", "all"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="where to keep the runs (default: a temporary directory)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        for text in args.labels:
            labels = _labels(text)
            for model in MODELS:
                figures = measure(model, labels, args, out)
                rows.append((text, model, figures, command(model, args, labels)))
                print(f"# {model} with {text} labels: {figures}", flush=True)
    judge = rows[0][2]["judge_accuracy"]
    print()
    print(table(rows))
    print()
    print(f"{args.data}, {rows[0][2]['train_images']} training images, {args.epochs} epochs, "
          f"seed {args.seed}; judge (image classifier) test accuracy {judge:.3f}; "
          f"{torch.get_num_threads()} thread; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
