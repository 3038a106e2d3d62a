"""MLP against convolutional nets: quality after a fixed number of epochs, and speed.

Run ``python3 -m runners.benchmarks.nets`` (defaults: the CCVAE on Fashion-MNIST,
all 55,000 training images, 3 epochs, seed 0, one thread; nets ``mlp``,
``conv`` with 16 channels and ``conv`` with 32). Each variant is trained with
``pyro_vaes.api.train`` (what ``pyro-vaes train MODEL --net ...`` does) and
measured on the whole test split: the ELBO per image (the mean of K = 10
importance weights, i.e. an unbiased ELBO estimate), the K-sample
importance-weighted log-likelihood, the model's test accuracy where it has a
classifier (CCVAE: q(y | z_c) at the posterior mean; M2: argmax q(y | x)), the
training seconds of every epoch (validation excluded) and the seconds of the
importance-weighted evaluation. It prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.training.plans import PLANS

VARIANTS = {"mlp": {"net": "mlp"}, "conv16": {"net": "conv", "channels": 16},
            "conv32": {"net": "conv", "channels": 32}}


@torch.no_grad()
def test_accuracy(run: api.Run) -> float | None:
    """The model's own classifier on the test split, or None."""
    model, test = run.model.eval(), run.splits.test
    x, y = test.pixels(), test.targets
    if run.model_name == "ccvae" and model.label_space.multiclass:
        return float((model.classifier.predict(model.encode(x)[0]) == y).float().mean())
    if run.model_name == "m2":
        return float((model.predict(x) == y).float().mean())
    return None


def measure(model: str, variant: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Train one variant and measure it."""
    config = TrainConfig(data=args.data, max_train=args.max_train, epochs=args.epochs,
                         seed=args.seed, labels=args.labels)
    run = api.train(model, out / f"{model}-{variant}", model_options=dict(VARIANTS[variant]),
                    train_config=config, figures=False)
    net = run.model.eval()
    plan = PLANS[net.plan](net, run.splits, batch_size=256, device="cpu", seed=args.seed)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    elbo, iw, count = net.log_likelihood_sums(plan.eval_batches("test"), args.samples)
    return {"model": model, "net": variant, "test_elbo": elbo / count,
            "test_iw": iw / count, "test_accuracy": test_accuracy(run),
            "seconds_per_epoch": [round(r["seconds"], 2) for r in run.history],
            "eval_seconds": time.perf_counter() - start, "train_images": len(run.splits.train)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["ccvae"])
    parser.add_argument("--nets", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--labels", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            for variant in args.nets:
                load = os.getloadavg()[0]
                row = measure(model, variant, args, Path(tmp))
                row["load"] = f"{load:.1f}-{os.getloadavg()[0]:.1f}"
                print("#", json.dumps(row), flush=True)
                rows.append(row)
    print(f"\n{args.data}, {rows[0]['train_images']} training images, {args.epochs} epochs, "
          f"seed {args.seed}, {args.threads} thread(s), K = {args.samples}\n")
    print("| model | net | test ELBO | test IW log-lik. | test accuracy | s / epoch | "
          "eval s | load |")
    print("|---|---|---:|---:|---:|---|---:|---|")
    for r in rows:
        accuracy = "-" if r["test_accuracy"] is None else f"{r['test_accuracy']:.3f}"
        epochs = r["seconds_per_epoch"]
        seconds = (", ".join(map(str, epochs)) if len(epochs) <= 4 else
                   f"{statistics.median(epochs):.2f} (median of {len(epochs)})")
        print(f"| {r['model']} | {r['net']} | {r['test_elbo']:.2f} | {r['test_iw']:.2f} | "
              f"{accuracy} | {seconds} | {r['eval_seconds']:.1f} | {r['load']} |")


if __name__ == "__main__":
    main()
