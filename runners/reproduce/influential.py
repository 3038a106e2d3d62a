"""Reproduce the influential-factors claims (Liu et al., "Discovering Influential Factors in
Variational Autoencoders") on the full Fashion-MNIST split (55,000 / 5,000 / 10,000).

Run ``python3 -m runners.reproduce.influential`` (``--quick`` for a smoke run on digits that
writes to a scratch page). A VAE (beta 1) and a beta-VAE (beta 4), three seeds each, are
trained with ``pyro-vaes train vae`` with the MLP nets, a Bernoulli likelihood, the
meanfield ELBO, 20 latents, batch 128, Adam 1e-3 and early stopping on the validation ELBO
(patience 10, at most 60 epochs); the best epoch is analysed:

- per latent z_j, on the whole test split (10,000 images), the three estimates of the
  library (``pyro_vaes.analysis``, as ``pyro-vaes analyze mi``): the mixture estimate of
  I(x; z_j) (one sample per image, log q(z_j) exact against all 10,000 components), the
  moment-matched closed form, and the KL to the prior (N(0, 1) here);
- a factor is influential when its mixture MI exceeds 0.5 nats (the paper's and the
  library's default threshold);
- accuracy against k (as ``pyro-vaes analyze prune``): factors ranked by mixture MI on
  10,000 training images; a linear probe (standardised logistic regression) of the class
  from the posterior means of the k most (top-k) and the k least (bottom-k) informative
  factors, fitted on those 10,000 training images, scored on the whole test split, for
  every k = 1..20.

Claims: fewer influential factors at beta 4 than at beta 1 (means over seeds); the top-k
curve strictly above the bottom-k curve for every k < D = 20, in every seed (per beta);
I mixture <= closed form <= KL in every row of every run (strict; the mixture estimate's
Monte Carlo error, about 0.01 nats, is not forgiven: the largest excess is printed).

Time (estimated from one- and two-epoch pilots, one thread per training, two at a time):
CPU time per Fashion-MNIST VAE epoch about 5.5 s (11 s of wall time on the shared machine
at a 1-minute load of 4-6); each run adds about 40 s of start-up and 50 s of evaluation
(wall, loaded); the analysis of one run (MI of 2 x 10,000 images, 40 probes) takes about
25 s of CPU (4 minutes of wall time niced at load 8), two at a time. Six runs of at most 60
epochs: about 17 minutes of training on two free cores (33 minutes at load 4-6), plus
about 5 minutes of start-up and evaluation and 2-12 minutes of analysis: about 25 minutes
on free cores, about 50 minutes at load 4-6; under 90 either way.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from runners.reproduce.common import (
    ROOT,
    Claim,
    Environment,
    RunSpec,
    Stages,
    Stat,
    claims_table,
    loss_spikes,
    mean_of,
    program_arguments,
    program_parser,
    publish_figures,
    read_evaluation,
    read_history,
    seeds_for,
    train_every_spec,
    write_section,
)

BETAS = (1.0, 4.0)
THRESHOLD = 0.5          # nats: a factor is influential above this mixture MI
ANALYSIS_IMAGES = 10_000


def base_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options every run of this program shares."""
    if args.quick:
        return {"data": "digits", "net": "mlp", "likelihood": "bernoulli", "elbo": "meanfield",
                "batch_size": 64, "lr": 1e-3, "epochs": 2, "latent_dim": 20}
    return {"data": "fashion-mnist", "net": "mlp", "likelihood": "bernoulli",
            "elbo": "meanfield", "batch_size": 128, "lr": 1e-3, "epochs": args.max_epochs,
            "patience": args.patience, "latent_dim": 20}     # early stopping: val_elbo


def run_name(beta: float, seed: int) -> str:
    return f"vae-beta{beta:g}-s{seed}"


def specs(args: argparse.Namespace) -> list[RunSpec]:
    """Every training of the program."""
    return [RunSpec(run_name(beta, seed), "vae", {**base_options(args), "beta": beta,
                                                  "seed": seed})
            for seed in seeds_for(args.quick, args.seeds) for beta in BETAS]


# -- the analysis of one run (kept as JSON beside it, so a rerun reads it back) -----------
def analysis_path(run_dir: Path) -> Path:
    return run_dir.parent / f"{run_dir.name}-influence.json"


@torch.no_grad()
def mixture_standard_error(loc: torch.Tensor, scale: torch.Tensor, *, seed: int = 0
                           ) -> list[float]:
    """Monte Carlo standard error of the one-sample mixture estimate of I(x; z_j) per latent:
    sd over images of log q(z_j|x_n) - log q(z_j) at z ~ q(z_j|x_n), over sqrt(N) (an
    independent draw of the estimate's own terms)."""
    from pyro_vaes.analysis import gaussian_mixture_log_density

    loc, scale = loc.double(), scale.double()
    generator = torch.Generator().manual_seed(seed)
    z = loc + scale * torch.randn(loc.shape, generator=generator, dtype=torch.float64)
    log_cond = torch.distributions.Normal(loc, scale).log_prob(z)
    terms = log_cond - gaussian_mixture_log_density(z, loc, scale)
    return (terms.std(0) / loc.shape[0] ** 0.5).tolist()


@torch.no_grad()
def analyse_run(run_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Per-latent MI estimates on the test split (with the mixture estimate's standard
    error), the influential factors, and the top-k / bottom-k accuracy curve of the best
    epoch's posterior means; written beside the run directory."""
    import time

    from pyro_vaes import api
    from pyro_vaes.analysis.influence import accuracy_versus_kept, analyse_latents

    started = time.perf_counter()
    run = api.load_run(run_dir, which="best")
    splits = run.splits
    test = analyse_latents(run.model, splits.test, limit=ANALYSIS_IMAGES, seed=seed)
    train = analyse_latents(run.model, splits.train, limit=ANALYSIS_IMAGES, seed=seed)
    dim = len(test.factors())
    n_train = min(ANALYSIS_IMAGES, len(splits.train))
    n_test = min(ANALYSIS_IMAGES, len(splits.test))
    curve = accuracy_versus_kept(train, test, splits.train.targets[:n_train],
                                 splits.test.targets[:n_test], list(range(1, dim + 1)),
                                 seed=seed)
    errors = [e for site in test.sites.values()
              for e in mixture_standard_error(site.loc, site.scale, seed=seed + 1)]
    out = {"rows": test.rows(), "mixture_standard_error": errors,
           "influential": [list(f) for f in test.influential(THRESHOLD)],
           "train_ranking": [list(f) for f in train.ranking()], "curve": curve,
           "test_images": n_test, "train_images": n_train,
           "seconds": time.perf_counter() - started}
    analysis_path(run_dir).write_text(json.dumps(out, indent=1) + "\n")
    return out


def analyse_all(dirs: dict[str, Path], env: Environment) -> dict[str, dict[str, Any]]:
    """Analyse every run (each in its own one-thread process, ``env.jobs`` at a time)."""
    say = env.stages or print

    def one(name: str) -> dict[str, Any]:
        path = analysis_path(dirs[name])
        if not path.is_file():
            say(f"mutual information and accuracy against k: {name}")
            log = env.work / f"{name}.log"
            with log.open("a") as handle:
                done = subprocess.run([sys.executable, "-m", "runners.reproduce.influential",
                                       "--analyse", str(dirs[name])], cwd=ROOT,
                                      env=env.env(), stdout=handle, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                raise RuntimeError(f"analysing {name} failed; see {log}")
            say(f"analysed {name} in {json.loads(path.read_text())['seconds']:.0f} s")
        return json.loads(path.read_text())

    with ThreadPoolExecutor(max_workers=max(1, env.jobs)) as pool:
        return dict(zip(dirs, pool.map(one, list(dirs)), strict=True))


def ordering(rows: list[dict[str, Any]], errors: list[float] | None = None
             ) -> dict[str, Any]:
    """How many rows satisfy I mixture <= closed form <= KL to the prior, the largest
    excess of either inequality (nats; <= 0 when every row holds) and, given the mixture
    estimate's standard errors, the largest excess of the first in standard errors."""
    first = [r["mi_mixture"] - r["mi_moment_matched"] for r in rows]
    second = [r["mi_moment_matched"] - r["kl_to_prior"] for r in rows]
    held = sum(a <= 0 and b <= 0 for a, b in zip(first, second, strict=True))
    out = {"held": held, "rows": len(rows), "excess_mixture": max(first),
           "excess_closed": max(second)}
    if errors is not None:
        out["excess_mixture_in_se"] = max(a / e if e > 0 else (math.inf if a > 0 else 0.0)
                                          for a, e in zip(first, errors, strict=True))
    return out


def curve_gaps(curve: list[dict[str, float]]) -> list[float]:
    """top-k minus bottom-k accuracy for every k < D."""
    return [r["accuracy_top_k"] - r["accuracy_bottom_k"] for r in curve[:-1]]


# -- figures -----------------------------------------------------------------------------
def figures(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> list[Path]:
    """MI bars (three estimates per latent) and the accuracy-vs-k curves of seed 0."""
    from pyro_vaes.figures import save_bar_chart, save_line_plot

    out = args.work / "figures-influential"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    series = {}
    for beta in BETAS:
        result = results[run_name(beta, 0)]
        rows = sorted(result["rows"], key=lambda r: -r["mi_mixture"])
        written.append(save_bar_chart(
            {"I mixture": [r["mi_mixture"] for r in rows],
             "I closed form": [r["mi_moment_matched"] for r in rows],
             "KL to the prior": [r["kl_to_prior"] for r in rows]},
            [f"z[{r['dim']}]" for r in rows], out / f"influential-mi-beta{beta:g}.png",
            ylabel="nats", title=f"beta = {beta:g}: I(x; z_j) per latent, test split "
                                 f"(influential above {THRESHOLD} nats)"))
        ks = [r["k"] for r in result["curve"]]
        series[f"beta {beta:g}, top-k"] = (ks, [r["accuracy_top_k"] for r in result["curve"]])
        series[f"beta {beta:g}, bottom-k"] = (ks, [r["accuracy_bottom_k"]
                                                   for r in result["curve"]])
    written.append(save_line_plot(series, out / "influential-accuracy-vs-k.png",
                                  xlabel="latents kept (k, ranked by I on training images)",
                                  ylabel="linear-probe test accuracy",
                                  title="Class from the k most / least informative latents"))
    return written


# -- the table ---------------------------------------------------------------------------
def build_claims(args: argparse.Namespace, dirs: dict[str, Path],
                 results: dict[str, dict[str, Any]]) -> list[Claim]:
    seeds = seeds_for(args.quick, args.seeds)

    def names(beta: float) -> list[str]:
        return [run_name(beta, s) for s in seeds]

    count = {beta: Stat.of(len(results[n]["influential"]) for n in names(beta))
             for beta in BETAS}
    dim = len(results[run_name(BETAS[0], seeds[0])]["rows"])
    claims = [Claim(f"Fewer influential factors (mixture I(x; z_j) > {THRESHOLD} nats on the "
                    f"test split, of {dim}) at beta 4 than at beta 1 (baseline: beta 1)",
                    count[4.0], count[1.0], "< beta 1", count[4.0].mean < count[1.0].mean)]
    for beta in BETAS:
        gaps = {n: curve_gaps(results[n]["curve"]) for n in names(beta)}
        smallest = Stat.of(min(g) for g in gaps.values())
        below = {n: [k + 1 for k, g in enumerate(v) if g <= 0] for n, v in gaps.items()}
        below = {n: ks for n, ks in below.items() if ks}
        bottom = Stat.of(mean_of(r["accuracy_bottom_k"] for r in
                                         results[n]["curve"][:-1]) for n in names(beta))
        claims.append(Claim(
            f"beta {beta:g}: classifying from the k most informative latents beats the k "
            f"least informative for every k < {dim} (measured: the smallest gap top-k minus "
            f"bottom-k over k; baseline: the bottom-k accuracy averaged over k)", smallest,
            bottom, "gap > 0 for every k, every seed", not below,
            "" if not below else "(not above at " + "; ".join(
                f"{n}: k = {', '.join(map(str, ks))}" for n, ks in below.items()) + ")"))
    orders = {n: ordering(results[n]["rows"], results[n]["mixture_standard_error"])
              for n in dirs}
    held = sum(o["held"] for o in orders.values())
    rows = sum(o["rows"] for o in orders.values())
    excess_mixture = max(o["excess_mixture"] for o in orders.values())
    excess_se = max(o["excess_mixture_in_se"] for o in orders.values())
    excess_closed = max(o["excess_closed"] for o in orders.values())
    claims.append(Claim(
        "The library's three estimates are ordered, I mixture <= closed form <= KL to the "
        "prior, in every row (every latent of every run, test split; strict, the mixture "
        "estimate's Monte Carlo error not forgiven)",
        f"{held} of {rows} rows", None, "every row", held == rows,
        f"(largest I mixture - closed form {excess_mixture:+.4f} nats, "
        f"{excess_se:+.1f} Monte Carlo standard errors of the mixture estimate; largest "
        f"closed form - KL {excess_closed:+.4f} nats)"))
    spikes = {n: loss_spikes(read_history(d)) for n, d in dirs.items()}
    spiky = {n: s for n, s in spikes.items() if s}
    claims.append(Claim("Stable objective: no epoch's training loss above twice the median "
                        "of the five before it, in any run of this program",
                        f"{len(dirs) - len(spiky)} of {len(dirs)} runs spike-free", None,
                        "every run", not spiky, "" if not spiky else f"(spikes: {spiky})"))
    return claims


def curve_table(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    """Accuracy against k, mean over seeds, both betas."""
    seeds = seeds_for(args.quick, args.seeds)
    head = ["| k |", "|---:|"]
    for beta in BETAS:
        head[0] += f" beta {beta:g} top-k | beta {beta:g} bottom-k |"
        head[1] += "---:|---:|"
    lines = list(head)
    dim = len(results[run_name(BETAS[0], seeds[0])]["curve"])
    for i in range(dim):
        cells = [str(i + 1)]
        for beta in BETAS:
            for key in ("accuracy_top_k", "accuracy_bottom_k"):
                cells.append(Stat.of(results[run_name(beta, s)]["curve"][i][key]
                                     for s in seeds).format())
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_page(args: argparse.Namespace, claims: list[Claim], dirs: dict[str, Path],
               results: dict[str, dict[str, Any]], links: list[str], stages: Stages) -> Path:
    seeds = seeds_for(args.quick, args.seeds)
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in base_options(args).items())
    epochs = {beta: Stat.of(len(read_history(dirs[run_name(beta, s)])) for s in seeds)
              for beta in BETAS}
    elbo = {beta: Stat.of(read_evaluation(dirs[run_name(beta, s)])["test_elbo"] for s in seeds)
            for beta in BETAS}
    first = results[run_name(BETAS[0], seeds[0])]
    text = f"""
## Influential factors (Liu et al.)

Program: `python3 -m runners.reproduce.influential` ({stages.summary()}).
Every run: `pyro-vaes train vae {options} --beta B --seed S`, then
`pyro-vaes evaluate RUN --checkpoint best`; the best epoch's latents are analysed with
the library's estimators (`pyro_vaes.analysis.analyse_latents`, as `pyro-vaes analyze mi` and
`analyze prune`) on {first['test_images']} test images (MI) and {first['train_images']}
training images (ranking, probe fitting). Epochs trained (early stopping on the validation
ELBO): beta 1 {epochs[1.0].format(1)}, beta 4 {epochs[4.0].format(1)}; test ELBO per image
(K = 100): beta 1 {elbo[1.0].format(1)}, beta 4 {elbo[4.0].format(1)}.

{claims_table(claims)}

**Accuracy against the number of kept latents** (linear probe of the class, mean ± sd over
seeds; top-k: the k latents of highest mixture MI on training images; bottom-k: the k lowest):

{curve_table(args, results)}

{chr(10).join(links)}
"""
    return write_section("influential", text, args.page)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = program_parser(__doc__)
    parser.add_argument("--analyse", type=Path, default=None, metavar="RUN",
                        help=argparse.SUPPRESS)
    return program_arguments(parser, argv, "influential")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.analyse is not None:
        analyse_run(args.analyse)
        return
    stages = Stages("influential")
    env = Environment(args.work, jobs=args.jobs, stages=stages)
    dirs = train_every_spec(specs(args), env, args, stages)
    stages("mutual information and accuracy against k, two runs at a time")
    results = analyse_all(dirs, env)
    claims = build_claims(args, dirs, results)
    stages("figures")
    written = figures(args, results)
    links = publish_figures(args, written)
    page = write_page(args, claims, dirs, results, links, stages)
    for claim in claims:
        print(claim.row())
    stages(f"written {page}")


if __name__ == "__main__":
    main()
