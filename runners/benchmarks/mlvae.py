"""ML-VAE against a plain VAE of the same total latent size, on grouped data.

Run ``python3 -m runners.benchmarks.mlvae``; it prints one markdown table.
For each data set (Fashion-MNIST grouped by class; the 64x64 shapes set grouped
by shape; shapes-small, 32x32, grouped by shape and by x position) it
trains, on the same seeded training subset:

- ``mlvae``: ML-VAE, content accumulated as a normalised product;
- ``mlvae mean``: the same with ``--accumulation mean``, and two attempts at
  less style leakage, a larger content share and ``--style-beta 4``
  (Fashion-MNIST only);
- ``vae``: a VAE with the same total latent size and likelihood;
- ``mlvae held-out``: ML-VAE trained with ``--holdout-classes`` removed.

and measures on the test split:

- linear-probe accuracy of the grouping label from the content and the style
  of single test images, each encoded alone; for the VAE from its whole z
  (the supervised reference); the chance (majority) rate;
- the content probe on groups formed by the true label, content accumulated
  (labelled "accumulated": it uses the label to form the test groups);
- the group ELBO and the importance-weighted log-likelihood per group, on the
  same test groups for both models (the VAE's is the sum over the members);
- for the held-out run, the probes among the held-out levels and the group
  ELBO on held-out versus seen test groups;
- seconds per training epoch (one CPU thread).

Both models train with the meanfield ELBO (closed-form KL), the same nets
(``--hidden-dim``), likelihood, batch of images and learning rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

import pyro
import torch

from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy
from pyro_vaes.config import TrainConfig
from pyro_vaes.data import DataSplits, group_ids, load_dataset
from pyro_vaes.inference import elbo_and_log_likelihood, log_importance_weights
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.models.mlvae.measures import group_log_likelihoods, mlvae_measures
from pyro_vaes.training import Trainer
from pyro_vaes.training.grouped import GroupedPlan


@dataclass
class Setting:
    """One data set of the benchmark."""

    label: str
    data: str
    group_by: str
    holdout: str
    epochs: int
    with_mean: bool = False


SETTINGS = {
    "fashion": Setting("Fashion-MNIST by class", "fashion-mnist", "class", "7,8,9", epochs=12,
                       with_mean=True),
    "shapes64": Setting("shapes (64x64) by shape", "shapes", "shape", "2", epochs=8),
    "shapes": Setting("shapes-small by shape", "shapes-small", "shape", "2", epochs=40),
    "shapes-x": Setting("shapes-small by pos_x", "shapes-small", "pos_x", "0,5", epochs=40),
}


def _subset(dataset: Any, count: int, seed: int) -> Any:
    if len(dataset) <= count:
        return dataset
    keep = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    return dataset.subset(keep.sort().values)


def load(setting: Setting, args: argparse.Namespace) -> DataSplits:
    """The seeded training subset, and smaller validation and test sets."""
    splits = load_dataset(setting.data, None, seed=args.seed, max_train=args.max_train,
                          image_size=None)
    return DataSplits(splits.train, _subset(splits.val, args.max_val, args.seed),
                      _subset(splits.test, args.max_test, args.seed + 1))


def fit(name: str, splits: DataSplits, args: argparse.Namespace, epochs: int, **options: Any
        ) -> tuple[Any, float]:
    """Train a model; return it (eval mode) and its mean seconds per epoch."""
    pyro.set_rng_seed(args.seed)
    model = build_model(name, DataInfo.from_splits(splits), latent_dim=args.latent_dim,
                        hidden_dim=args.hidden_dim, likelihood=args.likelihood, **options)
    config = TrainConfig(epochs=epochs, batch_size=args.batch_size, lr=args.lr,
                         seed=args.seed, elbo="meanfield")
    history = Trainer(model, splits, config).fit()
    print(f"trained {name} {options} in {sum(r['seconds'] for r in history):.0f} s",
          file=sys.stderr, flush=True)
    return model.eval(), sum(r["seconds"] for r in history) / len(history)


@torch.no_grad()
def vae_figures(vae: Any, mlvae: Any, splits: DataSplits, group_by: str, num_samples: int
                ) -> dict[str, float]:
    """Probe of the label from the VAE's z, and its log-likelihoods on the ML-VAE's groups."""
    features = {part: encode_dataset(vae.representation, getattr(splits, part))["z"]
                for part in ("train", "test")}
    labels = {part: group_ids(getattr(splits, part), group_by) for part in ("train", "test")}
    out = {"probe": linear_probe_accuracy(features["train"], labels["train"], features["test"],
                                          labels["test"])}
    plan = GroupedPlan(mlvae, splits, batch_size=256)
    elbo, iw, groups = 0.0, 0.0, 0
    for batch in plan.eval_batches("test"):
        x = batch.x[batch.mask]                                    # the real members
        owner = batch.mask.nonzero()[:, 0]                         # their group
        log_w = log_importance_weights(vae.model, vae.guide, x, num_samples=num_samples,
                                       max_plate_nesting=1)        # (K, members)
        per_image_elbo, per_image_iw = elbo_and_log_likelihood(log_w)
        size = batch.x.shape[0]
        elbo += float(torch.zeros(size).index_add_(0, owner, per_image_elbo).sum())
        iw += float(torch.zeros(size).index_add_(0, owner, per_image_iw).sum())
        groups += size
    out.update(group_elbo=elbo / groups, group_iw=iw / groups)
    return out


@torch.no_grad()
def mlvae_figures(model: Any, splits: DataSplits, num_samples: int) -> dict[str, Any]:
    """Probes (single images, accumulated) and the test group log-likelihoods."""
    out = mlvae_measures(model, splits, "test", num_samples=num_samples)
    if "seen_group_elbo" not in out:          # measured already when levels are held out
        plan = GroupedPlan(model, splits, batch_size=256)
        seen = group_log_likelihoods(model, plan, "test", "seen", num_samples)
        out.update({f"seen_{key}": value for key, value in seen.items()})
    return out


def _mlvae_cells(figures: dict[str, Any], probes: str, elbo: str, seconds: str) -> list[str]:
    """Probe cells with key prefix ``probes``, log-likelihood cells with prefix ``elbo``."""
    return [f"{figures[probes + 'content_probe_accuracy']:.3f}",
            f"{figures[probes + 'style_probe_accuracy']:.3f}",
            f"{figures[probes + 'accumulated_content_probe_accuracy']:.3f}",
            f"{figures[probes + 'probe_chance']:.3f}",
            f"{figures[elbo + 'group_elbo']:.1f}",
            f"{figures[elbo + 'group_iw_log_likelihood']:.1f}", seconds]


def run_setting(key: str, args: argparse.Namespace) -> list[str]:
    """Train and measure every model of one data set; the table rows."""
    setting = SETTINGS[key]
    splits = load(setting, args)
    opts = {"content_dim": args.content_dim, "group_by": setting.group_by,
            "group_size": args.group_size}
    epochs = args.epochs or setting.epochs
    rows = []

    def row(model: str, figures: list[str]) -> None:
        rows.append(f"| {setting.label}, {epochs} epochs | {model} | " + " | ".join(figures)
                    + " |")

    mlvae, mlvae_s = fit("mlvae", splits, args, epochs, **opts)
    ml = mlvae_figures(mlvae, splits, args.num_samples)
    chance = f"{ml['probe_chance']:.3f}"
    row("mlvae (product)", _mlvae_cells(ml, "", "seen_", f"{mlvae_s:.1f}"))
    if setting.with_mean:
        mean, mean_s = fit("mlvae", splits, args, epochs, accumulation="mean", **opts)
        row("mlvae (mean)", _mlvae_cells(mlvae_figures(mean, splits, args.num_samples), "",
                                         "seen_", f"{mean_s:.1f}"))
        for label, variant in ((f"mlvae (content {args.latent_dim - 4} of {args.latent_dim})",
                                {"content_dim": args.latent_dim - 4}),
                               ("mlvae (--style-beta 4)", {"style_beta": 4.0})):
            model, seconds = fit("mlvae", splits, args, epochs, **{**opts, **variant})
            row(label, _mlvae_cells(mlvae_figures(model, splits, args.num_samples), "",
                                    "seen_", f"{seconds:.1f}"))
    vae, vae_s = fit("vae", splits, args, epochs)
    va = vae_figures(vae, mlvae, splits, setting.group_by, args.num_samples)
    row("vae (same total latent size)", [f"z: {va['probe']:.3f}", "-", "-", chance,
                                        f"{va['group_elbo']:.1f}", f"{va['group_iw']:.1f}",
                                        f"{vae_s:.1f}"])
    held, held_s = fit("mlvae", splits, args, epochs, holdout_classes=setting.holdout,
                         **opts)
    hf = mlvae_figures(held, splits, args.num_samples)
    if hf["heldout_probe_chance"] < 1.0:
        held_cells = _mlvae_cells(hf, "heldout_", "heldout_", f"{held_s:.1f}")
    else:                                       # one held-out level: nothing to probe
        held_cells = ["n/a (one level)"] * 4 + _mlvae_cells(hf, "heldout_", "heldout_",
                                                            f"{held_s:.1f}")[4:]
    row(f"mlvae, levels {setting.holdout} held out: on those levels", held_cells)
    row(f"mlvae, levels {setting.holdout} held out: on the seen levels",
        _mlvae_cells(hf, "", "seen_", "-"))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run every data set and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--max-train", type=int, default=10000)
    parser.add_argument("--max-val", type=int, default=500)
    parser.add_argument("--max-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs for every set (default: 12 Fashion-MNIST, 8 shapes, "
                             "40 shapes-small)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--content-dim", type=int, default=8)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--likelihood", default="bernoulli")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--num-samples", type=int, default=50,
                        help="importance samples per group for the log-likelihoods")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for key in args.sets:
        rows += run_setting(key, args)
    print(f"| data | model | content probe (single test images) | style probe | "
          f"content probe, accumulated over groups of {args.group_size} formed by the true "
          f"label | chance | test group ELBO (nats per group of {args.group_size}) | "
          f"test group IW log-lik. (K={args.num_samples}) | s / epoch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nat most {args.max_train} training images, latent {args.latent_dim} "
          f"(content {args.content_dim}), {args.likelihood} likelihood, "
          f"{args.max_test} test images; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
