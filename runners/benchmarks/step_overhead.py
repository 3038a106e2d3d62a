"""Step overhead: each model's training step against a hand-written PyTorch step.

Run ``python3 -m runners.benchmarks.step_overhead`` (defaults: batch of 200
Fashion-MNIST training images, MLP nets, 1 and 2 threads, 40 timed steps per
variant). For every model and batch kind (VAE; M2, CCVAE and the class-related
VAE with a labelled and an unlabelled batch; ML-VAE with 25 groups of 8) it
builds the model with its default options and three copies of the same weights:

- ``library``: ``model.loss(elbo, batch)`` through Pyro (what the trainer runs),
- ``hand-written``: the same loss in plain PyTorch on the same nets
  (:mod:`runners.benchmarks.reference_steps`),
- optionally ``--jit`` (the library with Pyro's JIT ELBO) and ``--compile``
  (the library with ``torch.compile`` of the encoder and decoder).

Before timing it checks that the library and the hand-written loss are equal
on the same weights and the same noise (same torch seed). A step is loss,
``zero_grad``, backward and a step of the trainer's (fused) Adam; variants are
interleaved (their order alternates every round) and the table gives medians
and ratios.
``--write-docs`` replaces the table of the ``--net`` in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyro
import torch

from pyro_vaes.data import load_dataset
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.base import Batch
from pyro_vaes.training.trainer import make_optimizer
from runners.benchmarks.reference_steps import REFERENCE_LOSSES

CASES = (("vae", "unlabelled"), ("m2", "labelled"), ("m2", "unlabelled"),
         ("ccvae", "labelled"), ("ccvae", "unlabelled"), ("mlvae", "groups of 8"),
         ("parted", "labelled"), ("parted", "unlabelled"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
MARKER = "<!-- step-overhead:{net}:{end} -->"


def make_batch(model_name: str, kind: str, x: torch.Tensor, y: torch.Tensor) -> Batch:
    """The batch a case trains on (ML-VAE: the images as groups of 8 sharing nothing)."""
    if model_name == "mlvae":
        groups = x.shape[0] // 8
        return Batch(x[:groups * 8].reshape(groups, 8, *x.shape[1:]), y[:groups],
                     torch.ones(groups, 8, dtype=torch.bool))
    return Batch(x, y if kind == "labelled" else None)


def step_fn(loss_fn: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer
            ) -> Callable[[], float]:
    """One timed training step: loss, zero_grad, backward, Adam."""
    def step() -> float:
        start = time.perf_counter()
        loss = loss_fn()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start
    return step


def adam(model: torch.nn.Module) -> torch.optim.Optimizer:
    """The trainer's optimiser (fused Adam) for a copy of the model."""
    return make_optimizer(model.parameters(), 1e-4, torch.device("cpu"))


def compile_nets(model: torch.nn.Module) -> None:
    """torch.compile the encoder and decoder in place."""
    model.encoder = torch.compile(model.encoder)
    model.decoder = torch.compile(model.decoder)


def measure_case(name: str, kind: str, x: torch.Tensor, y: torch.Tensor, info: DataInfo,
                 args: argparse.Namespace) -> dict[str, Any]:
    """Times (seconds, per variant) and the loss check of one case."""
    torch.manual_seed(0)
    model = build_model(name, info, {"net": args.net})
    batch = make_batch(name, kind, x, y)
    if name == "ccvae":
        model.observe_labelled(y)
    elbo = make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        library_loss = float(model.loss(elbo, batch))
        torch.manual_seed(1)
        reference_loss = float(REFERENCE_LOSSES[name](model, batch))
    variants: dict[str, Callable[[], float]] = {}
    lib = copy.deepcopy(model)
    variants["library"] = step_fn(lambda: lib.loss(elbo, batch), adam(lib))
    ref = copy.deepcopy(model)
    reference = REFERENCE_LOSSES[name]
    variants["hand-written"] = step_fn(lambda: reference(ref, batch), adam(ref))
    if args.jit:
        jitted = copy.deepcopy(model)
        jit_elbo = make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting,
                             jit=True)
        variants["jit"] = step_fn(lambda: jitted.loss(jit_elbo, batch), adam(jitted))
    if args.compile:
        compiled = copy.deepcopy(model)
        compile_nets(compiled)
        variants["compiled nets"] = step_fn(lambda: compiled.loss(elbo, batch), adam(compiled))
    for step in variants.values():  # warm-up (and JIT / compile)
        for _ in range(args.warmup):
            step()
    times: dict[str, list[float]] = {k: [] for k in variants}
    order = list(variants)
    for round_ in range(args.repeats):
        for key in (order if round_ % 2 == 0 else order[::-1]):
            times[key].append(variants[key]())
    return {"times": {k: statistics.median(v) for k, v in times.items()},
            "library_loss": library_loss, "reference_loss": reference_loss}


def table(results: dict[tuple[str, str], dict[str, Any]], args: argparse.Namespace) -> str:
    """Markdown table of one thread count."""
    extra = (["jit"] if args.jit else []) + (["compiled nets"] if args.compile else [])
    head = ["model", "batch", "library ms", "hand-written ms", "library / hand-written"]
    for name in extra:
        head += [f"{name} ms", f"{name} / library"]
    head.append("loss: library, hand-written")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 3)
             + "---|"]
    for (name, kind), r in results.items():
        t = r["times"]
        row = [name, kind, f"{1000 * t['library']:.1f}", f"{1000 * t['hand-written']:.1f}",
               f"{t['library'] / t['hand-written']:.2f}"]
        for variant in extra:
            row += [f"{1000 * t[variant]:.1f}", f"{t[variant] / t['library']:.2f}"]
        row.append(f"{r['library_loss']:.4f}, {r['reference_loss']:.4f}")
        lines.append("| " + " | ".join(row) + " |")
    for kind in ("unlabelled", "labelled"):
        cc, m2 = results.get(("ccvae", kind)), results.get(("m2", kind))
        if cc and m2:
            lines.append(f"\nCCVAE / M2 step ({kind} batch, library): "
                         f"{cc['times']['library'] / m2['times']['library']:.2f}")
    return "\n".join(lines)


def load_images(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, DataInfo]:
    """The first ``batch_size`` training images of the data set, their classes, DataInfo."""
    splits = load_dataset(args.data, None, seed=0, max_train=max(args.batch_size, 1000))
    index = torch.arange(args.batch_size)
    return (splits.train.pixels(index), splits.train.targets[index],
            DataInfo.from_splits(splits))


def write_docs(text: str, net: str) -> None:
    """Replace the generated table of ``net`` in the step-overhead section of
    docs/benchmarks.md (between its begin and end markers)."""
    begin, end = MARKER.format(net=net, end="begin"), MARKER.format(net=net, end="end")
    docs = DOCS.read_text()
    if begin not in docs:
        raise SystemExit(f"{DOCS} has no {begin} marker; add the section first")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    DOCS.write_text(pattern.sub(lambda _: f"{begin}\n{text}\n{end}", docs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--net", choices=("mlp", "conv"), default="mlp")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=None,
                        help="only these models (default: all)")
    parser.add_argument("--jit", action="store_true", help="also time the JIT ELBO")
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile of the nets")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace the generated table in docs/benchmarks.md")
    args = parser.parse_args()
    pyro.enable_validation(False)
    x, y, info = load_images(args)
    out = [f"{args.data}, batch {args.batch_size}, `--net {args.net}` (default widths), "
           f"{args.repeats} interleaved steps per variant, medians; torch "
           f"{torch.__version__}, pyro {pyro.__version__}, {platform.processor() or 'cpu'}, "
           f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())}"]
    for threads in args.threads:
        torch.set_num_threads(threads)
        results = {}
        for name, kind in CASES:
            if args.models and name not in args.models:
                continue
            results[(name, kind)] = measure_case(name, kind, x, y, info, args)
            print(f"# {threads} thread(s) {name} {kind}: {results[(name, kind)]}", flush=True)
        out.append(f"\n**{threads} thread{'s' if threads > 1 else ''}**\n\n"
                   + table(results, args))
    out.append(f"\nload average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    text = "\n".join(out)
    print(text)
    if args.write_docs:
        write_docs(text, args.net)


if __name__ == "__main__":
    main()
