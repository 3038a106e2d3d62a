"""Reproduce the CCVAE's claims (Joy et al., "Capturing Label Characteristics in VAEs",
ICLR 2021) on the full Fashion-MNIST split and the 64x64 shapes set.

Run ``python3 -m runners.reproduce.ccvae`` (about 90 minutes on 2 cores; ``--quick`` for a
two-minute smoke run on digits that writes to a scratch page). Every training is
``pyro-vaes train`` with the MLP nets, a Bernoulli likelihood, batch 128, Adam 1e-3, early
stopping on validation accuracy (patience 10, at most 60 epochs) and the papers' weighting
of labelled and unlabelled images; the CCVAE and M2 get the same total latent size (20:
the CCVAE's 10 characteristic latents and 10 style latents, M2's 20 continuous latents).
Three seeds each. What it claims, and the targets, are in ``build_claims`` below; the table
goes to the "CCVAE" section of docs/reproduction.md with the figures in docs/figures/.

``--recipe authors`` trains every CCVAE (the shapes one too) with ``--recipe authors`` and M2
with ``--recipe kingma``, the program's optimiser settings given as flags as above (the
recipes' detaches, summed losses and M2's alpha stay); it has its own work directory and its
own section ("CCVAE, the authors' recipe") and leaves out the oversampling comparison and the
leakage curve, which are about the default.
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
    split_options,
    train_every_spec,
    write_section,
)

LABELS = (100, 600, 3000)
OVERSAMPLE = 17     # the labelled weight of the earlier schedule at 3000 labels (docs/design.md)
# --recipe: the recipe of each model in the program's runs
RECIPES = {"elbo": {"ccvae": "elbo", "m2": "elbo"},
           "authors": {"ccvae": "authors", "m2": "kingma"}}


def program_tag(args: argparse.Namespace) -> str:
    """The name of the work directory, the page section and the figures' prefix: ``ccvae``
    for the default story, ``ccvae-RECIPE`` otherwise."""
    return "ccvae" if args.recipe == "elbo" else f"ccvae-{args.recipe}"


def recipe_of(args: argparse.Namespace, model: str) -> dict[str, str]:
    """The ``recipe`` option of ``model``'s runs (none for the default story)."""
    return {} if args.recipe == "elbo" else {"recipe": RECIPES[args.recipe][model]}


def base_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options every Fashion-MNIST run of this program shares."""
    if args.quick:
        return {"data": "digits", "net": "mlp", "likelihood": "bernoulli", "batch_size": 64,
                "lr": 1e-3, "epochs": 2, "latent_dim": 20}
    return {"data": "fashion-mnist", "net": "mlp", "likelihood": "bernoulli",
            "batch_size": 128, "lr": 1e-3, "epochs": args.max_epochs,
            "patience": args.patience, "latent_dim": 20}


def label_counts(args: argparse.Namespace) -> tuple[int, ...]:
    return (100, 200, 400) if args.quick else LABELS


def shapes_options(args: argparse.Namespace) -> dict[str, Any]:
    """The CCVAE told the 7 binarised factors of the shapes set for a tenth of its images."""
    common = {"net": "mlp", "likelihood": "bernoulli", "label_kind": "attributes",
              "lr": 1e-3, "latent_dim": 17, "early_stop_on": "val_accuracy"}
    if args.quick:
        return {**common, "data": "shapes-small", "labelled_fraction": 0.5, "epochs": 2,
                "batch_size": 64}
    return {**common, "data": "shapes", "labelled_fraction": 0.1, "batch_size": 128,
            "epochs": args.max_epochs, "patience": args.patience}


def specs(args: argparse.Namespace) -> list[RunSpec]:
    """Every training of the program."""
    base = base_options(args)
    out = []
    for labels in label_counts(args):
        for seed in seeds_for(args.quick, args.seeds):
            for model in ("ccvae", "m2"):
                out.append(RunSpec(f"{model}-{labels}-s{seed}", model,
                                   {**recipe_of(args, model), **base, "labels": labels,
                                    "seed": seed}))
    top = label_counts(args)[-1]
    if args.recipe == "elbo":
        for model in ("ccvae", "m2"):
            out.append(RunSpec(f"{model}-{top}-repeats{OVERSAMPLE}-s0", model,
                               {**base, "labels": top, "seed": 0,
                                "labelled_repeats": OVERSAMPLE}, measures="accuracy,leakage"))
    out.append(RunSpec("ccvae-shapes-s0", "ccvae",
                       {**recipe_of(args, "ccvae"), **shapes_options(args), "seed": 0},
                       measures="accuracy,leakage"))
    return out


# -- measures the evaluation JSON does not hold -------------------------------------------
@torch.no_grad()
def shape_probe(run_dir: Path) -> dict[str, float]:
    """Linear-probe accuracy of the shape factor from z_c, z_s and the whole z (posterior
    means; fitted on the training split, scored on the test split), and the chance rate."""
    from pyro_vaes import api
    from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate

    run = api.load_run(run_dir, which="best")
    splits = run.splits
    train = encode_dataset(run.model.representation, splits.train)
    test = encode_dataset(run.model.representation, splits.test)
    y_train, y_test = splits.train.factors[:, 0], splits.test.factors[:, 0]
    whole = {k: torch.cat([v["z_c"], v["z_s"]], 1) for k, v in (("train", train),
                                                                  ("test", test))}
    return {"z_c": linear_probe_accuracy(train["z_c"], y_train, test["z_c"], y_test),
            "z_s": linear_probe_accuracy(train["z_s"], y_train, test["z_s"], y_test),
            "z": linear_probe_accuracy(whole["train"], y_train, whole["test"], y_test),
            "chance": majority_rate(y_train, y_test), "test_images": len(y_test)}


def leakage_curve(args: argparse.Namespace, env: Environment, stages: Stages
                  ) -> list[dict[str, float]]:
    """The z_s probe of one CCVAE (top label count, seed 0) after every epoch: trained one
    epoch at a time with ``api.resume_run`` (bit-exact continuation), probed in between."""
    from pyro_vaes import api
    from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy

    directory = env.work / "ccvae-curve-s0"
    record = env.work / "ccvae-curve-s0.json"
    points: list[dict[str, float]] = json.loads(record.read_text()) if record.is_file() else []
    epochs = 2 if args.quick else args.curve_epochs
    options = {**base_options(args), "labels": label_counts(args)[-1], "seed": 0,
               "epochs": 1, "patience": None}
    while len(points) < epochs:
        epoch = len(points) + 1
        if epoch == 1 and not (directory / "checkpoint.pt").is_file():
            model_options, train_config = split_options(options)
            run = api.train("ccvae", directory, model_options=model_options,
                            train_config=train_config, figures=False)
        else:
            run = api.resume_run(directory, "ccvae", epochs=epoch, figures=False)
        run.model.eval()
        splits = run.splits
        train = encode_dataset(run.model.representation, splits.train)
        test = encode_dataset(run.model.representation, splits.test)
        probe = linear_probe_accuracy(train["z_s"], splits.train.targets, test["z_s"],
                                      splits.test.targets)
        points.append({"epoch": epoch, "z_s_probe": probe,
                       "val_accuracy": run.history[-1].get("val_accuracy", float("nan"))})
        record.write_text(json.dumps(points, indent=1) + "\n")
        stages(f"leakage curve: epoch {epoch}, z_s probe {probe:.3f}")
    return points


@torch.no_grad()
def intervention_figures(run_dir: Path, work: Path) -> list[Path]:
    """Traversal, swap, flip and conditional-generation grids of a trained CCVAE (its best
    epoch), drawn by the library's registered interventions."""
    from pyro_vaes import api
    from pyro_vaes.interventions import InterventionOptions, intervention

    run = api.load_run(run_dir, which="best")
    out = work / "figures-ccvae"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    names = run.model.label_space.names
    plans = {"traverse": InterventionOptions(num_images=4, labels=[names[1], names[7]]),
             "swap": InterventionOptions(num_images=8),
             "flip": InterventionOptions(num_images=6),
             "generate": InterventionOptions(num_samples=10)}
    for kind, options in plans.items():
        written += intervention("ccvae", kind)(run, out, options)
    return written


# -- the table ---------------------------------------------------------------------------
def evaluations(names: list[str], dirs: dict[str, Path], key: str) -> Stat:
    return Stat.of(read_evaluation(dirs[n])[key] for n in names)


def build_claims(args: argparse.Namespace, dirs: dict[str, Path], shapes: dict[str, float]
                 ) -> tuple[list[Claim], str]:
    seeds = seeds_for(args.quick, args.seeds)
    counts = label_counts(args)
    claims: list[Claim] = []
    accuracy = {}
    for labels in counts:
        cc = evaluations([f"ccvae-{labels}-s{s}" for s in seeds], dirs, "accuracy")
        m2 = evaluations([f"m2-{labels}-s{s}" for s in seeds], dirs, "accuracy")
        accuracy[labels] = (cc, m2)
        claims.append(Claim(f"CCVAE test accuracy at {labels} labels is at least M2's "
                            f"(q(y\\|z_c) at the posterior mean vs M2's q(y\\|x))", cc, m2,
                            ">= M2", cc.mean >= m2.mean))
    top = counts[-1]
    cc_top = accuracy[top][0]
    claims.append(Claim(f"CCVAE test accuracy at {top} labels", cc_top, accuracy[top][1],
                        ">= 0.88", cc_top.mean >= 0.88))
    leak = evaluations([f"ccvae-{top}-s{s}" for s in seeds], dirs, "leakage_probe_accuracy")
    m2_leak = evaluations([f"m2-{top}-s{s}" for s in seeds], dirs, "leakage_probe_accuracy")
    chance = read_evaluation(dirs[f"ccvae-{top}-s0"])["leakage_majority_rate"]
    claims.append(Claim(f"Label leakage: a linear probe reads the class from z_s (CCVAE) / "
                        f"z (M2) at {top} labels (chance {chance:.2f})", leak, m2_leak,
                        "<= 0.30 and below M2's", leak.mean <= 0.30 and leak.mean < m2_leak.mean))
    flip = Stat.of(read_evaluation(dirs[f"ccvae-{top}-s{s}"])["intervention_success"]
                   / read_evaluation(dirs[f"ccvae-{top}-s{s}"])["judge_accuracy"]
                   for s in seeds)
    m2_flip = Stat.of(read_evaluation(dirs[f"m2-{top}-s{s}"])["intervention_success"]
                      / read_evaluation(dirs[f"m2-{top}-s{s}"])["judge_accuracy"]
                      for s in seeds)
    judge = read_evaluation(dirs[f"ccvae-{top}-s0"])["judge_accuracy"]
    claims.append(Claim(f"Interventions: flip success as a fraction of the judge "
                        f"classifier's own accuracy ({judge:.3f}) at {top} labels", flip,
                        m2_flip, ">= 0.9", flip.mean >= 0.9))
    div = evaluations([f"ccvae-{top}-s{s}" for s in seeds], dirs, "diversity")
    m2_div = evaluations([f"m2-{top}-s{s}" for s in seeds], dirs, "diversity")
    claims.append(Claim(f"Conditional samples for a fixed class are at least as diverse as "
                        f"M2's (mean pairwise RMS pixel distance, {top} labels)", div, m2_div,
                        ">= M2", div.mean >= m2_div.mean))
    claims.append(Claim("Shapes 64x64: the CCVAE told the 7 binarised factors (10% of "
                        "images labelled) learns the shape: linear probe of the shape from "
                        f"z_c (chance {shapes['chance']:.2f})", Stat.of([shapes["z_c"]]),
                        f"whole z: {shapes['z']:.3f}; z_s: {shapes['z_s']:.3f}", ">= 0.9",
                        shapes["z_c"] >= 0.9))
    spikes = {n: loss_spikes(read_history(d)) for n, d in dirs.items()}
    spiky = {n: s for n, s in spikes.items() if s}
    claims.append(Claim("Stable objective: no epoch's training loss above twice the median "
                        "of the five before it, in any run of this program",
                        f"{len(dirs) - len(spiky)} of {len(dirs)} runs spike-free",
                        None, "every run", not spiky,
                        "" if not spiky else f"(spikes: {spiky})"))
    if args.recipe != "elbo":
        return claims, ""
    # the oversampling comparison (papers' weighting vs the earlier schedule)
    rows = ["| model | labelled weight | test accuracy | z_s / z probe | epochs |",
            "|---|---|---:|---:|---:|"]
    for model in ("ccvae", "m2"):
        for name, weight in ((f"{model}-{top}-s0", "1 (papers')"),
                             (f"{model}-{top}-repeats{OVERSAMPLE}-s0",
                              f"{OVERSAMPLE} (`--labelled-repeats {OVERSAMPLE}`)")):
            ev = read_evaluation(dirs[name])
            rows.append(f"| {model} | {weight} | {ev['accuracy']:.3f} | "
                        f"{ev['leakage_probe_accuracy']:.3f} | {len(read_history(dirs[name]))} |")
    return claims, "\n".join(rows)


def write_page(args: argparse.Namespace, claims: list[Claim], oversampling: str,
               curve: list[dict[str, float]], dirs: dict[str, Path], figures: list[str],
               stages: Stages) -> Path:
    seeds = seeds_for(args.quick, args.seeds)
    counts = label_counts(args)
    epochs = {m: Stat.of(len(read_history(dirs[f"{m}-{n}-s{s}"])) for n in counts
                         for s in seeds) for m in ("ccvae", "m2")}
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in base_options(args).items())
    if args.recipe == "elbo":
        title, flag, recipes = "## CCVAE (Joy et al., ICLR 2021)", "", ""
        curve_rows = " ".join(f"{p['epoch']}: {p['z_s_probe']:.2f}" for p in curve)
        extra = f"""**Papers' weighting against oversampling** (seed 0, {counts[-1]} labels; the
default counts each labelled image once per epoch, `--labelled-repeats {OVERSAMPLE}` weights
the labelled term {OVERSAMPLE} times, about what the earlier
one-labelled-batch-per-unlabelled-batch schedule did):

{oversampling}

**Leakage against epochs** (z_s probe of a CCVAE at {counts[-1]} labels, seed 0, after
each epoch): {curve_rows}."""
    else:
        names = RECIPES[args.recipe]
        title = "## CCVAE, the authors' recipe (`--recipe authors`; M2 `--recipe kingma`)"
        flag = f" --recipe {args.recipe}"
        recipes = (f" with `--recipe {names['ccvae']}` (CCVAE, the shapes run too) and "
                   f"`--recipe {names['m2']}` (M2); the flags override the recipes' optimiser "
                   f"settings, so the recipes' detaches, summed losses and M2's alpha = 0.1 N "
                   f"/ N_labelled are what differs from the section above")
        extra = ""
    text = f"""
{title}

Program: `python3 -m runners.reproduce.ccvae{flag}` ({stages.summary()}).
Every run: `pyro-vaes train MODEL {options} --labels N --seed S`{recipes}, then
`pyro-vaes evaluate RUN --checkpoint best`; {len(seeds)} seed(s) per cell; epochs trained
(early stopping on validation accuracy): CCVAE {epochs['ccvae'].format(1)}, M2
{epochs['m2'].format(1)}. Test figures on the whole 10,000-image test split; probes fitted
on the whole training split.

{claims_table(claims)}

{extra}

{chr(10).join(figures)}
"""
    return write_section(program_tag(args), text, args.page)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = program_parser(__doc__)
    parser.add_argument("--curve-epochs", type=int, default=30)
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="elbo",
                        help="elbo (the default story) or authors (the CCVAE's `--recipe "
                             "authors` beside M2's `--recipe kingma`); its own section and "
                             "work directory")
    return program_arguments(parser, argv, program_tag(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    stages = Stages("ccvae")
    env = Environment(args.work, jobs=args.jobs, judge_cache=args.work / "judge-cache",
                      stages=stages)
    dirs = train_every_spec(specs(args), env, args, stages)
    curve: list[dict[str, float]] = []
    if args.recipe == "elbo":
        stages("leakage curve")
        curve = leakage_curve(args, env, stages)
    stages("shape probe on the shapes set")
    shapes = shape_probe(dirs["ccvae-shapes-s0"])
    claims, oversampling = build_claims(args, dirs, shapes)
    stages("figures")
    top = label_counts(args)[-1]
    written = intervention_figures(dirs[f"ccvae-{top}-s0"], args.work)
    links = publish_figures(args, written, lambda p: f"{program_tag(args)}-{p.name}")
    page = write_page(args, claims, oversampling, curve, dirs, links, stages)
    for claim in claims:
        print(claim.row())
    stages(f"written {page}")


if __name__ == "__main__":
    main()
