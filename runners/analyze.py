"""`pyro-vaes analyze KIND RUN`: what each latent of a trained model captured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pyro_vaes.choices import METRIC_NAMES
from pyro_vaes.errors import ConfigError
from runners.options import FiniteFloat, RunDirectoryPath

if TYPE_CHECKING:
    from pyro_vaes import api
    from pyro_vaes.runs import RunDirectory

# The libraries behind each command (torch, Pyro, scikit-learn, matplotlib) are imported
# inside it, so that `--help` and usage errors answer at once.


def _remember_force(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["analyze.force"] = value
    return value


_common = [
    click.argument("run", type=RunDirectoryPath()),
    click.option("--force", is_flag=True, default=False, expose_value=False,
                 callback=_remember_force,
                 help="overwrite the output files of an earlier call (never done otherwise)"),
    click.option("--split", type=click.Choice(["test", "val", "train"]), default="test",
                 show_default=True, help="images whose latents are analysed"),
    click.option("--limit", type=click.IntRange(min=2), default=10_000, show_default=True,
                 help="at most this many images of the split"),
    click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0,
                 show_default=True, help="random seed of the Monte Carlo estimates"),
    click.option("--device", default="cpu", show_default=True, help="torch device"),
]
_selection = [
    click.option("--threshold", type=FiniteFloat(min=0.0), default=0.5, show_default=True,
                 help="a latent is influential when its mixture estimate of I(x; z_j) (the "
                      "'I mixture' column of `analyze mi`) is above this (nats)"),
    click.option("--top-k", type=click.IntRange(min=1), default=None, show_default="none",
                 help="take the k latents of largest I mixture instead of a threshold"),
]


def _options(options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


def _analysis_dir(run: api.Run) -> Path:
    path = run.directory.root / "analysis"
    path.mkdir(exist_ok=True)
    return path


def _check_outputs(run: Path, *names: str) -> RunDirectory:
    """Before any work: refuse to replace RUN/NAME files an earlier call wrote, unless
    --force; make RUN/figures exist."""
    from pyro_vaes.outputs import check_new_files
    from pyro_vaes.runs import RunDirectory

    directory = RunDirectory.open(run)
    check_new_files([directory.root / name for name in names],
                    force=click.get_current_context().meta.get("analyze.force", False),
                    option="RUN")
    directory.figures.mkdir(exist_ok=True)     # RUN/analysis is made when written to
    return directory


def _check_top_k(top_k: int | None, analysis) -> None:
    """Refuse a --top-k above the number of latents the run has."""
    count = len(analysis.rows())
    if top_k is not None and top_k > count:
        raise ConfigError(f"--top-k {top_k} is larger than the {count} latents of this run; "
                          f"give at most {count}")


def _cell(value: float | None) -> str:
    """A 10-wide table cell; a dash where the column does not apply."""
    from pyro_vaes.analysis.mutual_information import format_nats

    return f"{'-':>10}" if value is None else f"{format_nats(value, 3):>10}"


def _label(factor: tuple[str, int], analysis) -> str:
    site, j = factor
    return f"{site}[{j}] {float(analysis.reports[site].mixture[j]):.2f}"


@click.command("mi")
@_options(_common + _selection)
def mi_command(run: Path, split: str, limit: int, seed: int, device: str, threshold: float,
               top_k: int | None) -> None:
    """Per-latent I(x; z_j): mixture estimate, moment-matched closed form, KL to the model's
    own prior (KL|y: at the image's label, where the prior has one; KL N(0,1): to the
    standard Normal) and active units, grouped by latent site; a table, a JSON file and a
    bar chart."""
    from pyro_vaes import api
    from pyro_vaes.analysis.influence import analyse_latents
    from pyro_vaes.figures import save_bar_chart

    _check_outputs(run, f"analysis/mi-{split}.json", f"figures/mi-{split}.png")
    loaded = api.load_run(run, device)
    analysis = analyse_latents(loaded.model, getattr(loaded.splits, split), limit=limit,
                               seed=seed, device=device)
    _check_top_k(top_k, analysis)
    rows = analysis.rows()
    influential = analysis.influential(threshold, top_k)
    rule = f"top {top_k}" if top_k else f"I mixture > {threshold:g}"
    click.echo(f"{'latent':<10} {'I mixture':>10} {'I closed':>10} {'KL prior':>10} "
               f"{'KL|y':>10} {'KL N(0,1)':>10} {'Var[mu]':>10}  active influential ({rule})")
    for row in rows:
        name = f"{row['site']}[{row['dim']}]"
        mark = "yes" if (row["site"], row["dim"]) in influential else ""
        cells = [_cell(row[key]) for key in ("mi_mixture", "mi_moment_matched", "kl_to_prior",
                                             "kl_to_prior_given_label",
                                             "kl_to_standard_normal",
                                             "posterior_mean_variance")]
        click.echo(f"{name:<10} {' '.join(cells)}  {'yes' if row['active'] else 'no':<6} "
                   f"{mark}")
    click.echo(f"{len(influential)} influential latent{'s' if len(influential) != 1 else ''} "
               f"({rule}{'' if top_k else ' nats'}): "
               + (", ".join(f"{s}[{j}]" for s, j in influential) or "none"))
    out = _analysis_dir(loaded) / f"mi-{split}.json"
    out.write_text(json.dumps({"split": split, "points": int(
        next(iter(analysis.sites.values())).loc.shape[0]), "factors": rows,
        "influential": [list(f) for f in influential]}, indent=2) + "\n")
    labels = [f"{r['site']}[{r['dim']}]" for r in rows]
    chart = save_bar_chart({"I mixture": [r["mi_mixture"] for r in rows],
                            "I closed form": [r["mi_moment_matched"] for r in rows],
                            "KL to the model's prior": [r["kl_to_prior"] or 0.0 for r in rows]},
                           labels, loaded.directory.figures / f"mi-{split}.png",
                           ylabel="nats", xlabel="latent",
                           title=f"{loaded.model_name}: information each latent carries about "
                                 f"the image, I(x; z_j) ({split} split, {len(rows)} latents)")
    click.echo(f"written {out}\nwritten {chart}")


@click.command("traverse")
@_options(_common + _selection)
@click.option("--num-images", type=click.IntRange(min=1, max=16), default=3, show_default=True,
              help="test images to traverse")
@click.option("--steps", type=click.IntRange(min=2, max=32), default=9, show_default=True,
              help="values per latent, between the 2% and 98% quantiles of its posterior means")
def traverse_command(run: Path, split: str, limit: int, seed: int, device: str,
                     threshold: float, top_k: int | None, num_images: int, steps: int) -> None:
    """Traverse only the influential latents (rows) of a few images (one grid each)."""
    import torch

    from pyro_vaes import api
    from pyro_vaes.analysis.influence import analyse_latents, factor_ranges, traverse_factors
    from pyro_vaes.figures import save_image_grid

    loaded = api.load_run(run, device)
    dataset = getattr(loaded.splits, split)
    _check_outputs(run, *[f"figures/traverse-influential-{split}-{i}.png"
                          for i in range(min(num_images, len(dataset)))])
    analysis = analyse_latents(loaded.model, dataset, limit=limit, seed=seed, device=device)
    _check_top_k(top_k, analysis)
    factors = analysis.influential(threshold, top_k)
    if not factors:
        raise ConfigError(f"no latent carries more than {threshold} nats; lower --threshold "
                          f"or pass --top-k")
    x = dataset.pixels(torch.arange(min(num_images, len(dataset)))).to(device)
    grids = traverse_factors(loaded.model, x, factors, factor_ranges(analysis, factors), steps)
    for i in range(grids.shape[0]):
        path = loaded.directory.figures / f"traverse-influential-{split}-{i}.png"
        save_image_grid(grids[i].flatten(0, 1).cpu(), path, nrow=steps,
                        row_labels=[_label(f, analysis) for f in factors],
                        xlabel="latent value (2% to 98% quantile of its posterior means)",
                        title=f"{loaded.model_name}: influential latents of {split} image {i} "
                              f"(row label: latent, I mixture in nats)")
        click.echo(f"written {path}")


@click.command("prune")
@_options(_common)
@click.option("--k", "ks", type=click.IntRange(min=0), multiple=True,
              help="numbers of kept latents (repeat)  [default: 1, 2, 4, ..., all]")
@click.option("--num-images", type=click.IntRange(min=1, max=16), default=8, show_default=True,
              help="test images to reconstruct")
@click.option("--train-limit", type=click.IntRange(min=10), default=5000, show_default=True,
              help="training images for the ranking and the classifier")
def prune_command(run: Path, split: str, limit: int, seed: int, device: str,
                  ks: tuple[int, ...], num_images: int, train_limit: int) -> None:
    """Reconstruct keeping the top-k latents (others at the prior mean), and the test accuracy
    of a linear classifier on the top-k posterior means as a function of k."""
    import torch

    from pyro_vaes import api
    from pyro_vaes.analysis.influence import (
        accuracy_versus_kept,
        analyse_latents,
        default_ks,
        pruned_reconstructions,
    )
    from pyro_vaes.figures import save_image_grid, save_line_plot

    loaded = api.load_run(run, device)
    splits = loaded.splits
    has_targets = getattr(splits, split).targets is not None
    _check_outputs(run, f"figures/prune-{split}.png", f"analysis/prune-{split}.json",
                   *([f"figures/prune-accuracy-{split}.png"] if has_targets else []))
    train = analyse_latents(loaded.model, splits.train, limit=train_limit, seed=seed,
                            device=device)
    ranking = train.ranking()
    if ks and max(ks) > len(ranking):
        raise ConfigError(f"--k {max(ks)} is larger than the {len(ranking)} latents of this "
                          f"run; give values of at most {len(ranking)}")
    ks_list = sorted(set(ks)) if ks else default_ks(len(ranking))
    dataset = getattr(splits, split)
    x = dataset.pixels(torch.arange(min(num_images, len(dataset)))).to(device)
    recon = pruned_reconstructions(loaded.model, x, ranking, ks_list)
    figure = loaded.directory.figures / f"prune-{split}.png"
    save_image_grid(torch.cat([x.cpu()[None], recon.cpu()]).flatten(0, 1), figure,
                    nrow=x.shape[0], row_labels=["data", *[f"k={k}" for k in ks_list]],
                    title=f"{loaded.model_name}: reconstructions from the k latents of "
                          f"largest I(x; z_j)")
    click.echo(f"written {figure}")
    result: dict = {"ranking": [list(f) for f in ranking], "ks": ks_list}
    if dataset.targets is not None:
        test = analyse_latents(loaded.model, dataset, limit=limit, seed=seed, device=device)
        rows = accuracy_versus_kept(train, test, splits.train.targets[:train_limit],
                                    dataset.targets[:limit], ks_list, seed=seed)
        result["accuracy"] = rows
        click.echo(f"{'k':>4} {'top-k acc':>10} {'bottom-k acc':>13}")
        for row in rows:
            click.echo(f"{row['k']:>4} {row['accuracy_top_k']:>10.3f} "
                       f"{row['accuracy_bottom_k']:>13.3f}")
        plot = save_line_plot({"top-k latents by I(x; z_j)": ([r["k"] for r in rows],
                                                              [r["accuracy_top_k"] for r in rows]),
                               "bottom-k latents": ([r["k"] for r in rows],
                                                    [r["accuracy_bottom_k"] for r in rows])},
                              loaded.directory.figures / f"prune-accuracy-{split}.png",
                              xlabel="latents kept (k)", ylabel="linear-probe test accuracy",
                              title=f"{loaded.model_name}: classification from k latents")
        click.echo(f"written {plot}")
    out = _analysis_dir(loaded) / f"prune-{split}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    click.echo(f"written {out}")


def _known_metrics(_ctx: click.Context, _param: click.Parameter,
                   value: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse an unknown metric name while the options are read (eager: before RUN is
    checked and before anything is loaded), in the words of ``select_metrics``."""
    wanted = [part.strip() for name in value for part in name.split(",") if part.strip()]
    unknown = [name for name in wanted if name not in METRIC_NAMES]
    if unknown:
        raise ConfigError(f"unknown metric {unknown[0]!r}; choose from "
                          f"{', '.join(METRIC_NAMES)}")
    return value


@click.command("metrics")
@_options(_common)
@click.option("--metrics", "metric_names", multiple=True, metavar="NAMES", is_eager=True,
              callback=_known_metrics,
              help="metrics to compute, comma-separated or repeated  [default: all: "
                   + ", ".join(METRIC_NAMES) + "]")
def metrics_command(run: Path, split: str, limit: int, seed: int, device: str,
                    metric_names: tuple[str, ...]) -> None:
    """Disentanglement metrics of the posterior means against the true factors (data sets with
    known factors: shapes, shapes-small): MIG (continuous and binned), DCI, SAP, FactorVAE,
    beta-VAE, modularity, explicitness, IRS, and the unsupervised total correlation and
    mutual information of sampled codes. See docs/analysis.md for each definition."""
    from pyro_vaes import api
    from pyro_vaes.analysis.disentanglement import disentanglement_scores, select_metrics
    from pyro_vaes.analysis.influence import analyse_latents

    names = select_metrics(metric_names)
    _check_outputs(run, f"analysis/metrics-{split}.json")
    loaded = api.load_run(run, device)
    dataset = getattr(loaded.splits, split)
    if dataset.factors is None:
        raise ConfigError(f"run {run} was trained on '{loaded.train_config.data}', which has no "
                          f"known factors; metrics need --data shapes or shapes-small")
    analysis = analyse_latents(loaded.model, dataset, limit=limit, seed=seed, device=device)
    rows = analysis.rows()
    active = sum(row["active"] for row in rows)
    if active == 0:
        largest = max(row["posterior_mean_variance"] for row in rows)
        click.echo(f"Warning: none of the {len(rows)} latents is active (the largest variance "
                   f"of a posterior mean over the images is {largest:.2g}, below 0.01): the "
                   f"representation is (nearly) constant, so these scores measure noise, not "
                   f"disentanglement; see `pyro-vaes analyze mi {run}`, and train longer or "
                   f"with a smaller --beta", err=True)
    scores = disentanglement_scores(analysis, dataset.factors, seed=seed, metrics=names)
    for key, value in scores.items():
        click.echo(f"{key:<28} {value:.4f}" if isinstance(value, float) else f"{key:<28} {value}")
    out = _analysis_dir(loaded) / f"metrics-{split}.json"
    out.write_text(json.dumps(scores, indent=2) + "\n")
    click.echo(f"written {out}")


@click.group("analyze")
def analyze_group() -> None:
    """Per-latent mutual information and its uses; disentanglement metrics."""


for _command in (mi_command, traverse_command, prune_command, metrics_command):
    analyze_group.add_command(_command)
