"""The class-related VAE ("parted") beside M2 and the CCVAE at the same label counts.

Run ``python3 -m runners.benchmarks.parted``. Defaults (sized for 2 shared CPU
cores, one thread, about 25 minutes): Fashion-MNIST with 5,000 training images
(``--max-train``), 4 epochs, 256 and 1,000 labels; the 32x32 shapes set
(``shapes-small``, 1,036 training images, shape as the class) with 100 labels
and 15 epochs. Every model is trained with ``pyro_vaes.api.train`` (what
``pyro-vaes train MODEL ...`` does) with the same nets (``--hidden-dim``),
Bernoulli likelihood, batch size, learning rate, epochs and semi-supervised
schedule (the oversampling one, ``--labelled-batch-every 1``, as recorded in
docs/benchmarks.md), and 16 continuous latent dimensions (``--latent-dim 16``,
the total for every model): parted u 10 + z 6; M2 z 16; CCVAE z_c one per
class + z_s the rest.

Measured the same way for every model, on the test split:
- test accuracy of its classifier (parted: argmax q(c | x); M2: q(y | x);
  CCVAE: q(y | z_c) at the posterior mean);
- linear-probe accuracy of the class from the class-related latent (parted: E[u | x],
  CCVAE: E[z_c | x]; M2 has none) and from the class-independent latent (parted:
  E[z | x], CCVAE: E[z_s | x], M2: E[z | x, predicted y]); probes are trained on up
  to 5,000 training images; the majority rate is the chance line;
- parted only: max and mean pairwise Bhattacharyya coefficient of the prior's components;
- on the shapes set: binned MIG of all continuous latent means against the five factors;
- training seconds per epoch (``history[i]["seconds"]``, validation not included).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyro_vaes import api
from pyro_vaes.analysis.metrics import mig
from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.config import TrainConfig
from pyro_vaes.models import MODELS
from pyro_vaes.models.parted.measures import component_overlaps

PROBE_LIMIT = 5000


@dataclass
class Setting:
    """One data set and label count."""

    data: str
    labels: int
    epochs: int
    max_train: int | None


def model_options(name: str, hidden_dim: int) -> dict[str, Any]:
    """The options that give every model the same nets and latent budget."""
    common = {"hidden_dim": hidden_dim, "likelihood": "bernoulli"}
    return {"parted": {"latent_dim": 16, "class_dim": 10},
            "m2": {"latent_dim": 16},
            "ccvae": {"latent_dim": 16}}[name] | common


def encoder_for(name: str, model: Any):
    """x -> {"pred", "related" (or absent), "independent"} for one model."""
    def parted(x: torch.Tensor) -> dict[str, torch.Tensor]:
        rep = model.representation(x)
        return {"pred": rep["c"].argmax(-1), "related": rep["u"], "independent": rep["z"]}

    def m2(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"pred": model.predict(x), "independent": model.encode(x)}

    def ccvae(x: torch.Tensor) -> dict[str, torch.Tensor]:
        rep = model.representation(x)
        return {"pred": model.predict(x), "related": rep["z_c"], "independent": rep["z_s"]}

    return {"parted": parted, "m2": m2, "ccvae": ccvae}[name]


@torch.no_grad()
def measure(name: str, run: api.Run) -> dict[str, Any]:
    """The figures listed in the module docstring for one trained run."""
    model = run.model.eval()
    splits = run.splits
    encode = encoder_for(name, model)
    train = encode_dataset(encode, splits.train, limit=PROBE_LIMIT)
    test = encode_dataset(encode, splits.test)
    y_train = splits.train.targets[:len(train["pred"])]
    y_test = splits.test.targets
    out: dict[str, Any] = {
        "accuracy": float((test["pred"] == y_test).float().mean()),
        "chance": majority_rate(y_train, y_test),
        "independent": linear_probe_accuracy(train["independent"], y_train,
                                             test["independent"], y_test),
        "related": (linear_probe_accuracy(train["related"], y_train, test["related"], y_test)
                    if "related" in test else None),
    }
    if name == "parted":
        out.update(component_overlaps(model))
    if splits.test.factors is not None:
        codes = torch.cat([test[k] for k in ("related", "independent") if k in test], -1)
        out["mig"] = mig(codes, splits.test.factors)
    return out


def command(name: str, setting: Setting, options: dict[str, Any], args: argparse.Namespace
            ) -> str:
    """The `pyro-vaes` command that trains the same run."""
    parts = [f"pyro-vaes train {name} --data {setting.data}"]
    if setting.max_train:
        parts.append(f"--max-train {setting.max_train}")
    parts.append(f"--labels {setting.labels} --epochs {setting.epochs} --lr {args.lr} "
                 f"--batch-size {args.batch_size} --seed {args.seed} --labelled-batch-every 1")
    parts += [f"--{key.replace('_', '-')} {value}" for key, value in options.items()]
    return " ".join(parts) + " --out RUN"


def _fmt(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def row(setting: Setting, name: str, f: dict[str, Any]) -> str:
    """One markdown row."""
    bc = (f"{f['bc_max']:.3f} / {f['bc_mean']:.3f}" if "bc_max" in f else "—")
    return (f"| {setting.data} | {setting.labels} | {name} | {_fmt(f['accuracy'])} "
            f"| {_fmt(f['related'])} | {_fmt(f['independent'])} | {_fmt(f['chance'])} | {bc} "
            f"| {_fmt(f.get('mig'))} | {f['seconds_per_epoch']:.1f} |")


HEADER = ("| data | labels | model | test accuracy | class probe: class-related latent "
          "| class probe: class-independent latent | chance | BC max / mean | MIG "
          "| s / epoch |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-train", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--shapes-epochs", type=int, default=15)
    parser.add_argument("--labels", type=int, nargs="+", default=[256, 1000])
    parser.add_argument("--shapes-labels", type=int, default=100)
    parser.add_argument("--models", nargs="+", default=["parted", "m2", "ccvae"])
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the runs here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = [Setting("fashion-mnist", n, args.epochs, args.max_train) for n in args.labels]
    settings.append(Setting("shapes-small", args.shapes_labels, args.shapes_epochs, None))
    out = args.out or Path(tempfile.mkdtemp(prefix="parted-bench-"))
    rows, commands, missing = [], [], []
    start = time.perf_counter()
    for setting in settings:
        for name in args.models:
            if name not in MODELS:
                missing.append(name)
                continue
            options = model_options(name, args.hidden_dim)
            config = TrainConfig(data=setting.data, max_train=setting.max_train,
                                 epochs=setting.epochs, labels=setting.labels,
                                 batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                 labelled_batch_every=1)
            directory = out / f"{setting.data}-{setting.labels}-{name}"
            run = api.train(name, directory, model_options=options, train_config=config,
                            figures=False)
            figures = measure(name, run)
            figures["seconds_per_epoch"] = (sum(r["seconds"] for r in run.history)
                                            / len(run.history))
            rows.append(row(setting, name, figures))
            commands.append(command(name, setting, options, args))
            print(rows[-1], flush=True)
    print()
    print(HEADER)
    print("\n".join(rows))
    print()
    for cmd in dict.fromkeys(commands):
        print(f"    {cmd}")
    if missing:
        print(f"\nnot registered, left out: {', '.join(sorted(set(missing)))}")
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s; runs in {out}")


if __name__ == "__main__":
    main()
