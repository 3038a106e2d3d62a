"""Reproduce the class-related / class-independent VAE's claims (Hajimiri et al.,
"Semi-Supervised Disentanglement of Class-Related and Class-Independent Factors in VAE",
2021; the library's ``parted`` model) on the full Fashion-MNIST split.

Run ``python3 -m runners.reproduce.parted`` (about an hour on 2 cores, at most 80 minutes,
see below; ``--quick`` for a smoke run of a minute or two on digits that writes to a scratch
page). Every training is ``pyro-vaes train`` with the MLP nets, a Bernoulli likelihood,
batch 128, Adam 1e-3, the papers' weighting of labelled and unlabelled images and early
stopping on validation accuracy (patience 6, at most 30 epochs; the best epoch's weights are
evaluated); the attention slope of the class-related model rises from 1 to 8 over the first
10 epochs (``--slope-epochs``) and stays there, so that the weights kept are trained with
the slope they are evaluated with. The class-related model and M2 get the same total latent
size (16: the model's 10 class-related dimensions u and 6 class-independent dimensions z,
M2's 16 continuous dimensions). Both at 256 labels (the paper's setting) and 1000 labels,
three seeds each: twelve trainings, two at a time. What it claims, and the targets, are in
:func:`build_claims`; the table goes to the "parted" section of docs/reproduction.md with
the figures in docs/figures/.

Time (pilots of one epoch on the 55,000 training images, one thread per process, the
machine's 2 cores shared with other work). Training time of the epoch at 256 labels: this
model 23 s at a 1-minute load average of 3-6 and 27-35 s at 8-10; M2 27 s and 21-33 s; at
1000 labels 37 s and 29 s (load 9-10). CPU time of a whole one-epoch ``pyro-vaes train``
process (start, epoch, validation, figures): 21 s for this model, 20 s for M2, of which 7 s
are the start (a run on 1,000 images), i.e. about 15 s an epoch on a core of its own.
``evaluate``: 34 s and 12 s (load 6). A run of the full 30 epochs therefore takes about 9
minutes with a core to itself and at most 12-14 minutes at load 3-6 (under the 15 minutes
that call for three seeds); the twelve trainings, two at a time, at most 6 x 9 = 55 minutes
alone on the 2 cores and 6 x (12 + 14) = 77 minutes at load 3-6, plus about a minute of
figures; early stopping ends most runs sooner. Under heavier load lower ``--max-epochs``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from runners.reproduce.common import (
    Claim,
    Environment,
    RunSpec,
    Stages,
    Stat,
    claims_table,
    loss_spikes,
    program_arguments,
    program_parser,
    publish_figures,
    read_evaluation,
    read_history,
    seeds_for,
    train_every_spec,
    write_section,
)

LABELS = (256, 1000)
LATENT_DIM = 16     # total continuous latent of both models: u 10 + z 6 here, 16 for M2
CLASS_DIM = 10
SLOPE_EPOCHS = 10   # the attention slope reaches --slope-end by then (runs stop early)
U_PROBE_TARGET = 0.85
Z_PROBE_TARGET = 0.30
FIGURE_CLASSES = ("T-shirt/top", "Sneaker")


def base_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options every run of this program shares (both models)."""
    if args.quick:
        return {"data": "digits", "net": "mlp", "likelihood": "bernoulli", "batch_size": 64,
                "lr": 1e-3, "epochs": 2, "latent_dim": LATENT_DIM,
                "early_stop_on": "val_accuracy"}
    return {"data": "fashion-mnist", "net": "mlp", "likelihood": "bernoulli",
            "batch_size": 128, "lr": 1e-3, "epochs": args.max_epochs,
            "patience": args.patience, "latent_dim": LATENT_DIM,
            "early_stop_on": "val_accuracy"}


def parted_options(args: argparse.Namespace) -> dict[str, Any]:
    """The class-related model's own options: u's size, and the attention slope's schedule
    over the first SLOPE_EPOCHS epochs (over both epochs in quick mode)."""
    return {"class_dim": CLASS_DIM, "slope_epochs": None if args.quick else SLOPE_EPOCHS}


def recipe_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--recipe authors``: the class-related model trained by the authors' recipe
    (``pyro-vaes train parted --recipe authors``) on the same data and nets, for
    ``--max-epochs`` epochs without early stopping, evaluated at its last epoch as the
    authors' code is."""
    if args.quick:
        return {"recipe": "authors", "data": "digits", "net": "mlp", "likelihood": "bernoulli",
                "epochs": 2}
    return {"recipe": "authors", "data": "fashion-mnist", "net": "mlp",
            "likelihood": "bernoulli", "epochs": args.max_epochs}


def model_seeds(args: argparse.Namespace, labels: int) -> list[int]:
    """The class-related model's seeds at a label count (``--seeds``, or ``--seeds-at``)."""
    for item in args.seeds_at or []:
        at, count = item.split("=")
        if int(at) == labels:
            return seeds_for(args.quick, int(count))
    return seeds_for(args.quick, args.seeds)


def m2_seeds(args: argparse.Namespace) -> list[int]:
    """Seeds of the M2 baseline runs: none when ``--m2-baseline`` gives its figures."""
    if args.m2_baseline:
        return []
    return seeds_for(args.quick, args.m2_seeds or args.seeds)


def m2_figures(args: argparse.Namespace, dirs: dict[str, Path], labels: int, key: str) -> Stat:
    """M2's figure at a label count: from its runs, or as ``--m2-baseline`` gives it."""
    if args.m2_baseline:
        accuracy, probe = args.m2_baseline_figures[labels]
        return Stat.of([accuracy if key == "accuracy" else probe])
    return evaluations([f"m2-{labels}-s{s}" for s in m2_seeds(args)], dirs, key)


def parse_m2_baseline(parser: argparse.ArgumentParser, items: list[str] | None,
                      counts: tuple[int, ...]) -> dict[int, tuple[float, float]]:
    """``--m2-baseline LABELS=ACCURACY:PROBE`` values as {labels: (accuracy, probe)}, refused
    before anything trains when one is malformed or a label count of the program has none."""
    figures: dict[int, tuple[float, float]] = {}
    for item in items or []:
        try:
            at, rest = item.split("=")
            accuracy, probe = rest.split(":")
            figures[int(at)] = (float(accuracy), float(probe))
        except ValueError:
            parser.error(f"--m2-baseline {item}: expected LABELS=ACCURACY:PROBE, e.g. "
                         f"256=0.722:0.758")
    missing = [n for n in counts if n not in figures]
    if figures and missing:
        parser.error(f"--m2-baseline gives no figures at {missing[0]} labels; give one for "
                     f"each of {', '.join(map(str, counts))}")
    return figures


def label_counts(args: argparse.Namespace) -> tuple[int, ...]:
    return (100, 200) if args.quick else LABELS


def specs(args: argparse.Namespace) -> list[RunSpec]:
    """Every training of the program: the class-related model and M2, per label count and
    seed. M2 is evaluated for its accuracy and its z probe only."""
    base = base_options(args)
    out = []
    for labels in label_counts(args):
        for seed in model_seeds(args, labels):
            if args.recipe == "authors":
                out.append(RunSpec(f"parted-{labels}-s{seed}", "parted",
                                   {**recipe_options(args), "labels": labels, "seed": seed},
                                   checkpoint="last"))
            else:
                out.append(RunSpec(f"parted-{labels}-s{seed}", "parted",
                                   {**base, **parted_options(args), "labels": labels,
                                    "seed": seed}))
        for seed in m2_seeds(args):
            out.append(RunSpec(f"m2-{labels}-s{seed}", "m2",
                               {**base, "labels": labels, "seed": seed},
                               measures="accuracy,leakage"))
    return out


# -- figures ------------------------------------------------------------------------------
@torch.no_grad()
def intervention_figures(run_dir: Path, work: Path, which: str = "best") -> list[Path]:
    """Traversals of u and z (two classes), swaps of z against (c, u), and conditional
    generation from each mixture component with the components' picture and BC matrix,
    drawn by the library's registered interventions from the run's best epoch."""
    from pyro_vaes import api
    from pyro_vaes.interventions import InterventionOptions, intervention

    run = api.load_run(run_dir, which=which)
    out = work / "figures-parted"
    out.mkdir(parents=True, exist_ok=True)
    names = list(run.model.data_info.class_names or [])
    chosen = [n for n in FIGURE_CLASSES if n in names] or names[:2]
    plans = {"traverse": InterventionOptions(labels=chosen),
             "swap": InterventionOptions(num_images=8),
             "generate": InterventionOptions(num_samples=10)}
    written: list[Path] = []
    for kind, options in plans.items():
        written += intervention("parted", kind)(run, out, options)
    return written


def figure_name(path: Path) -> str:
    """docs/figures/ name of a written figure: every name starts with ``parted-``."""
    return path.name if path.name.startswith("parted-") else f"parted-{path.name}"


# -- the table ---------------------------------------------------------------------------
def evaluations(names: list[str], dirs: dict[str, Path], key: str) -> Stat:
    return Stat.of(read_evaluation(dirs[n])[key] for n in names)


def tau_of(run_dir: Path) -> float:
    """The run's Bhattacharyya threshold tau (its saved model options)."""
    return float(json.loads((run_dir / "config.json").read_text())["model_config"]["tau"])


def build_claims(args: argparse.Namespace, dirs: dict[str, Path]) -> list[Claim]:
    """One row per claim: accuracy against M2, the u and z probes and the components'
    overlaps at each label count, and the stable objective over every run."""
    claims: list[Claim] = []
    for labels in label_counts(args):
        parted = [f"parted-{labels}-s{s}" for s in model_seeds(args, labels)]
        accuracy = evaluations(parted, dirs, "classifier_accuracy")
        m2_accuracy = m2_figures(args, dirs, labels, "accuracy")
        claims.append(Claim(f"Test accuracy of argmax q(c\\|x) at {labels} labels is at least "
                            f"M2's (argmax q(y\\|x))", accuracy, m2_accuracy, ">= M2",
                            accuracy.mean >= m2_accuracy.mean))
        m2_probe = m2_figures(args, dirs, labels, "leakage_probe_accuracy")
        chance = read_evaluation(dirs[parted[0]])["probe_chance"]
        u_probe = evaluations(parted, dirs, "u_probe_accuracy")
        claims.append(Claim(f"The class-related u carries the class: linear probe of the "
                            f"class from E[u\\|x] at {labels} labels (baseline: from M2's "
                            f"whole z; chance {chance:.2f})", u_probe, m2_probe,
                            f">= {U_PROBE_TARGET}", u_probe.mean >= U_PROBE_TARGET))
        z_probe = evaluations(parted, dirs, "z_probe_accuracy")
        claims.append(Claim(f"The class-independent z does not: linear probe of the class "
                            f"from E[z\\|x] at {labels} labels (baseline: from M2's whole z; "
                            f"chance {chance:.2f})", z_probe, m2_probe,
                            f"<= {Z_PROBE_TARGET}", z_probe.mean <= Z_PROBE_TARGET))
        tau = tau_of(dirs[parted[0]])
        bc_max = evaluations(parted, dirs, "bc_max")
        above = [int(read_evaluation(dirs[n])["bc_pairs_above_tau"]) for n in parted]
        claims.append(Claim(f"The mixture prior's components are apart: largest pairwise "
                            f"Bhattacharyya coefficient of the {labels}-label models "
                            f"(pairs above tau per seed: {above})", bc_max, None,
                            f"< tau = {tau:g} for every pair in every seed",
                            max(bc_max.values) < tau))
    spikes = {n: loss_spikes(read_history(d)) for n, d in dirs.items()}
    spiky = {n: s for n, s in spikes.items() if s}
    claims.append(Claim("Stable objective: no epoch's training loss above twice the median "
                        "of the five before it, in any run of this program (both models)",
                        f"{len(dirs) - len(spiky)} of {len(dirs)} runs spike-free",
                        None, "every run", not spiky,
                        "" if not spiky else f"(spikes: {spiky})"))
    return claims


def slope_at(epoch: int, epochs: int, start: float = 1.0, end: float = 8.0) -> float:
    """The attention slope the model trained with in (1-based) ``epoch`` when the schedule
    spans ``epochs`` (``PartedVAE.on_epoch_start``: linear from start to end, then end)."""
    if epochs <= 1:
        return end
    return start + (end - start) * min(1.0, (epoch - 1) / (epochs - 1))


def runs_table(args: argparse.Namespace, dirs: dict[str, Path]) -> str:
    """Per model and label count: epochs trained, best epoch, and the training slope of
    the class-related model's best epoch (evaluation uses --slope-end)."""
    span = parted_options(args)["slope_epochs"] or base_options(args)["epochs"]
    rows = ["| model | labels | epochs trained | best epoch (val accuracy) | "
            "training slope at the best epoch |", "|---|---:|---|---|---|"]
    for model in ("parted", "m2"):
        seeds = seeds_for(args.quick, args.m2_seeds if model == "m2" and args.m2_seeds
                          else args.seeds)
        for labels in label_counts(args):
            histories = [read_history(dirs[f"{model}-{labels}-s{s}"]) for s in seeds]
            best = [max(h, key=lambda r: r["val_accuracy"])["epoch"] for h in histories]
            slope = (Stat.of(slope_at(b, span) for b in best).format(1)
                     if model == "parted" else "—")
            rows.append(f"| {model} | {labels} | {Stat.of(len(h) for h in histories).format(1)}"
                        f" | {Stat.of(best).format(1)} | {slope} |")
    return "\n".join(rows)


def recipe_runs_table(args: argparse.Namespace, dirs: dict[str, Path]) -> str:
    """Per label count, the recipe's runs: epochs, the last epoch's validation accuracy,
    supervised steps per epoch, learning rate at the end, and the last epoch's terms."""
    rows = ["| labels | epochs | val accuracy (last) | supervised steps per epoch | lr at the "
            "end | KL_z (nats) | E KL_u (nats) | H(q(c\\|x)) (nats) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for labels in label_counts(args):
        last = [read_history(dirs[f"parted-{labels}-s{s}"])[-1]
                for s in model_seeds(args, labels)]

        def stat(key: str, digits: int = 3, last: list[dict[str, Any]] = last) -> str:
            values = [r[key] for r in last if key in r]
            return Stat.of(values).format(digits) if values else "—"
        rows.append(f"| {labels} | {stat('epoch', 0)} | {stat('val_accuracy')} | "
                    f"{stat('supervised_steps', 0)} | {stat('lr', 5)} | {stat('val_kl_z', 2)} | "
                    f"{stat('val_kl_u', 2)} | {stat('val_entropy_c', 3)} |")
    return "\n".join(rows)


def write_recipe_page(args: argparse.Namespace, claims: list[Claim], dirs: dict[str, Path],
                      figures: list[str], stages: Stages) -> Path:
    """The section of the authors' recipe (``--recipe authors``)."""
    seeds = {labels: len(model_seeds(args, labels)) for labels in label_counts(args)}
    baseline = (f"M2's figures are not trained here: they are the means of the M2 runs of "
                f"the clean-ELBO program below ({', '.join(args.m2_baseline)}: test accuracy : "
                f"z probe), whose M2 code and settings are unchanged (tests/"
                f"test_same_numbers.py replays M2's numbers)." if args.m2_baseline else
                f"{len(m2_seeds(args))} seed(s).")
    recipe = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in recipe_options(args).items())
    m2 = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in base_options(args).items())
    text = f"""
## Class-related VAE, the authors' recipe (`--recipe authors`)

Program: `python3 -m runners.reproduce.parted --recipe authors{' --quick' if args.quick else ''}
{' '.join('--m2-baseline ' + b for b in args.m2_baseline or [])}` ({stages.summary()}).
Every class-related run: `pyro-vaes train parted {recipe} --labels N --seed S` (the recipe's
every option is in docs/models/parted.md, "Recipes": capacity targets for KL_z and E KL_u,
batch terms on c, one separate cross-entropy step per iteration, slope per step, Adam 5e-4,
batch 64, plateau schedule; the authors train 80 epochs, this program
{recipe_options(args)['epochs']}), then
`pyro-vaes evaluate RUN` (the last epoch, as the authors' code; no early stopping);
seeds per label count: {seeds}. M2, the baseline in the same engine: `pyro-vaes train m2
{m2} --labels N --seed S`, `evaluate --checkpoint best --measures accuracy,leakage`;
{baseline} Test figures on the whole test split; probes fitted on the whole
training split.

{claims_table(claims)}

**Runs** (mean ± sd over seeds, the last epoch; KL and entropy are the validation
diagnostics):

{recipe_runs_table(args, dirs)}

{chr(10).join(figures)}
"""
    return write_section("parted-authors", text, args.page)


def write_page(args: argparse.Namespace, claims: list[Claim], dirs: dict[str, Path],
               figures: list[str], stages: Stages) -> Path:
    seeds = seeds_for(args.quick, args.seeds)
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in base_options(args).items())
    span_text = parted_options(args)["slope_epochs"] or base_options(args)["epochs"]
    own = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in parted_options(args).items()
                   if v is not None)
    text = f"""
## Class-related / class-independent VAE (Hajimiri et al., 2021; `parted`)

Program: `python3 -m runners.reproduce.parted{' --quick' if args.quick else ''}`
({stages.summary()}).
Every run: `pyro-vaes train MODEL {options} --labels N --seed S` (the class-related
model also `{own}`: u {CLASS_DIM} + z {LATENT_DIM - CLASS_DIM}, M2 a
{LATENT_DIM}-dimensional z; every other option at its default: gamma_bc 30, tau 0.15,
alpha 50, attention slope 1 -> 8), then
`pyro-vaes evaluate RUN --checkpoint best` (M2: `--measures accuracy,leakage`);
{len(seeds)} seed(s) per cell. Test figures on the whole test split; probes (standardised
logistic regression on posterior means) fitted on the whole training split.

{claims_table(claims)}

**Runs** (mean ± sd over seeds; the attention slope rises over the first
{span_text} epochs and the model is evaluated with the final one, so a best epoch
before that was trained with a smaller slope than the one it is evaluated with):

{runs_table(args, dirs)}

Figures (the {label_counts(args)[0]}-label model, seed 0, best epoch): traversals of u
within a class's component and of z within N(0, 1); swaps (z of the image on the left,
class and u of the image on top); one row of samples per mixture component; the
components in (u1, u2) beside their pairwise Bhattacharyya coefficients.

{chr(10).join(figures)}
"""
    return write_section("parted", text, args.page)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = program_parser(__doc__, max_epochs=30, patience=6)
    parser.add_argument("--recipe", choices=("elbo", "authors"), default="elbo",
                        help="how the class-related model is trained: elbo (the clean-ELBO "
                             "story, early stopping) or authors (`--recipe authors`, all "
                             "--max-epochs, last epoch evaluated); its own section and work "
                             "directory")
    parser.add_argument("--seeds-at", action="append", metavar="LABELS=N",
                        help="the class-related model's seeds at one label count (repeatable)")
    parser.add_argument("--m2-baseline", action="append", metavar="LABELS=ACCURACY:PROBE",
                        help="take M2's test accuracy and z probe at a label count from an "
                             "earlier run of this program instead of training M2 (repeatable; "
                             "the page says so)")
    parser.add_argument("--m2-seeds", type=int, default=None,
                        help="seeds of the M2 baseline per label count [default: --seeds]")
    args = parser.parse_args(argv)
    program = "parted" if args.recipe == "elbo" else f"parted-{args.recipe}"
    args = program_arguments(parser, argv, program)
    args.m2_baseline_figures = parse_m2_baseline(parser, args.m2_baseline, label_counts(args))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    stages = Stages("parted")
    env = Environment(args.work, jobs=args.jobs, judge_cache=args.work / "judge-cache",
                      stages=stages)
    dirs = train_every_spec(specs(args), env, args, stages)
    stages("claims")
    claims = build_claims(args, dirs)
    stages("figures")
    first = dirs[f"parted-{label_counts(args)[0]}-s0"]
    if args.recipe == "authors":
        written = intervention_figures(first, args.work, which="last")
        links = publish_figures(args, written, lambda p: "authors-" + figure_name(p))
        page = write_recipe_page(args, claims, dirs, links, stages)
    else:
        written = intervention_figures(first, args.work)
        links = publish_figures(args, written, figure_name)
        page = write_page(args, claims, dirs, links, stages)
    for claim in claims:
        print(claim.row())
    stages(f"written {page}")


if __name__ == "__main__":
    main()
