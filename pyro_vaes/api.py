"""The user-facing API: train, load, evaluate, sample and render.

Every ``pyro-vaes`` command is a thin wrapper over one function here, so a
notebook can do exactly what the command line does::

    from pyro_vaes import api
    run = api.train("vae", "runs/digits-vae", model_options={"latent_dim": 8},
                    train_config=api.TrainConfig(epochs=20))
    print(api.evaluate(run)["test_iw_log_likelihood"])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyro
import torch
from pyro import poutine

from pyro_vaes.config import TrainConfig, from_dict, validate
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import CheckpointError, ConfigError
from pyro_vaes.figures import save_image_grid, save_loss_curves
from pyro_vaes.inference import (
    importance_log_likelihood,
)
from pyro_vaes.models import DataInfo, LatentVariableModel, build_model, model_class
from pyro_vaes.models.base import Batch
from pyro_vaes.runs import RunDirectory
from pyro_vaes.training import Trainer, load_checkpoint, resolve_device, save_checkpoint
from pyro_vaes.training.distributed import DistributedContext


@dataclass
class Run:
    """A trained (or training) model with its configuration and run directory."""

    directory: RunDirectory
    model: LatentVariableModel
    model_name: str
    train_config: TrainConfig
    history: list[dict[str, Any]] = field(default_factory=list)
    _splits: Any = None
    best_epoch_summary: str = ""

    @property
    def splits(self) -> Any:
        """The data splits the run was trained on (loaded on first use)."""
        if self._splits is None:
            self._splits = load_splits(self.train_config)
        return self._splits

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def config_dict(self) -> dict[str, Any]:
        """What config.json and the checkpoint hold."""
        return {"model": self.model_name, "model_config": self.model.config_dict(),
                "train": dataclasses.asdict(self.train_config),
                "data_info": self.model.data_info.to_dict()}


def load_splits(config: TrainConfig) -> Any:
    """Load the data set a training config names."""
    return load_dataset(config.data, config.data_root, seed=config.seed,
                        max_train=config.max_train, image_size=config.image_size)


# -- training ---------------------------------------------------------------------------
BEST_CHECKPOINT = "best.pt"
CHECKPOINTS = ("last", "best")


def checkpoint_path(directory: RunDirectory, which: str = "last") -> Path:
    """RUN/checkpoint.pt (the last epoch) or RUN/best.pt (the best epoch by the run's
    ``--early-stop-on`` measure; same format)."""
    if which not in CHECKPOINTS:
        raise ConfigError(f"checkpoint {which!r} is not one of: {', '.join(CHECKPOINTS)}")
    return directory.checkpoint if which == "last" else directory.root / BEST_CHECKPOINT


class _EpochWriter:
    """Callback: metrics line, TensorBoard scalars and checkpoint after each epoch (and
    RUN/best.pt when the epoch is the best so far)."""

    def __init__(self, run: Run, tensorboard: bool) -> None:
        self.run = run
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(run.directory.tensorboard))

    def __call__(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.run.directory.append_metrics(record)
        if self.writer is not None:
            for key, value in record.items():
                if key != "epoch":
                    self.writer.add_scalar(key, value, record["epoch"])
            self.writer.flush()
        checkpoint = {"config": self.run.config_dict(),
                      "state_dict": self.run.model.state_dict(), **trainer.state_dict()}
        save_checkpoint(self.run.directory.checkpoint, checkpoint)
        if trainer.early_stopping.improved:
            save_checkpoint(checkpoint_path(self.run.directory, "best"), checkpoint)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _check_checkpoint_model(checkpoint: dict[str, Any], model_name: str, path: Path) -> None:
    saved = checkpoint["config"].get("model")
    if saved != model_name:
        raise CheckpointError(f"{path} holds a '{saved}' run, not '{model_name}'; "
                              f"use `pyro-vaes train {saved} --resume` or another --out")


def _refuse_stopped(checkpoint: dict[str, Any], out: str | Path) -> None:
    """A run that early stopping ended has nothing left to continue."""
    state = checkpoint.get("early_stopping")
    if state and state["patience"] is not None \
            and state["epochs_without_improvement"] >= state["patience"]:
        raise ConfigError(f"{out} stopped early at epoch {checkpoint['epoch']} ({state['patience']}"
                          f" epochs without a better {state['measure']}); its best weights are "
                          f"in {BEST_CHECKPOINT}: evaluate it with --checkpoint best")


def train(model_name: str, out: str | Path, *, model_options: dict[str, Any] | None = None,
          train_config: TrainConfig | None = None, resume: bool = False,
          tensorboard: bool = False, progress: bool = False, figures: bool = True,
          plan_options: dict[str, Any] | None = None) -> Run:
    """Train a model and write its run directory (or continue one with ``resume``).

    On resume the saved options are used; only ``train_config.epochs`` (the
    total to reach), ``device`` and the progress bar may change. Everything is
    validated (options, data, checkpoint) before any file is written. With
    ``train_config.patience`` training stops early; RUN/best.pt always holds the
    best epoch by ``train_config.early_stop_on`` (see ``load_run(which="best")``).
    """
    train_config = train_config or TrainConfig()
    validate(train_config)
    model_class(model_name)
    checkpoint = None
    if resume:
        directory = RunDirectory.open(out)
        checkpoint = load_checkpoint(directory.checkpoint)
        _check_checkpoint_model(checkpoint, model_name, directory.checkpoint)
        saved = from_dict(TrainConfig, checkpoint["config"]["train"])
        saved.epochs, saved.device = train_config.epochs, train_config.device
        train_config = saved
        model_options = checkpoint["config"]["model_config"]
        if checkpoint["epoch"] >= train_config.epochs:
            raise ConfigError(f"{out} has already trained {checkpoint['epoch']} epochs; "
                              f"pass --epochs larger than that to continue")
        _refuse_stopped(checkpoint, out)
    resolve_device(train_config.device)
    context = DistributedContext.from_environment()
    pyro.set_rng_seed(train_config.seed)
    splits = load_splits(train_config)
    data_info = DataInfo.from_splits(splits)
    elbo_name = train_config.elbo or model_class(model_name).default_elbo
    model = build_model(model_name, data_info, dict(model_options or {}), elbo=elbo_name)
    if checkpoint is None:
        RunDirectory.check_new(out)
        directory = RunDirectory(Path(out))
    else:
        model.load_state_dict(checkpoint["state_dict"])
    run = Run(directory, model, model_name, train_config, _splits=splits)
    trainer = Trainer(model, splits, train_config, progress=progress and context.is_main,
                      plan_options=plan_options)
    if checkpoint is not None:
        trainer.load_state_dict(checkpoint)
    writer = None
    if context.is_main:
        if checkpoint is None:
            RunDirectory.create(out)
        else:
            directory.truncate_metrics(trainer.epoch)
        directory.write_config(run.config_dict())
        writer = _EpochWriter(run, tensorboard)
        trainer.callbacks.append(writer)
    try:
        run.history = trainer.fit()
        run.best_epoch_summary = trainer.early_stopping.describe()
    finally:
        if writer is not None:
            writer.close()
        context.barrier()
    if not context.is_main:
        return run
    if figures:
        write_training_figures(run)
    return run


# -- loading ----------------------------------------------------------------------------
def load_run(path: str | Path, device: str = "cpu", expect_model: str | None = None,
             which: str = "last") -> Run:
    """Load a run directory's model in evaluation mode: the weights of its last epoch
    (``which="last"``, RUN/checkpoint.pt) or of its best one (``"best"``, RUN/best.pt);
    ``run.history`` ends at that epoch."""
    directory = RunDirectory.open(path)
    path_of = checkpoint_path(directory, which)
    if which == "best" and not path_of.is_file():
        raise CheckpointError(f"{path_of}: no best checkpoint in this run (written by versions "
                              f"that track the best epoch); use --checkpoint last")
    checkpoint = load_checkpoint(path_of, map_location=resolve_device(device))
    config = checkpoint["config"]
    if expect_model is not None:
        _check_checkpoint_model(checkpoint, expect_model, path_of)
    data_info = DataInfo.from_dict(config["data_info"])
    model = build_model(config["model"], data_info, dict(config["model_config"]))
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"{path_of}: weights do not fit model "
                              f"'{config['model']}' ({str(error).splitlines()[0]}); "
                              f"re-train the run") from None
    model.to(resolve_device(device)).eval()
    train_config = from_dict(TrainConfig, config["train"])
    train_config.device = device
    return Run(directory, model, config["model"], train_config, list(checkpoint["history"]))


# -- evaluation -------------------------------------------------------------------------
IW_ROWS = 8192   # batch x importance samples per chunk: one decoder call of at most this many


def _counted(batches: Any, images: list[int], bar: Any) -> Any:
    """Yield ``batches``, adding each one's images to ``images[0]`` and advancing ``bar``."""
    for batch in batches:
        images[0] += int(batch.mask.sum()) if batch.mask is not None else batch.size
        yield batch
        bar.update(1)


@torch.no_grad()
def evaluate(run: Run, *, split: str = "test", num_samples: int = 100,
             batch_size: int = 256, seed: int = 0,
             measures: str | Iterable[str] | None = None,
             judge_cache: str | Path | None = None, progress: bool = False) -> dict[str, Any]:
    """Test ELBO, the K-sample importance-weighted log-likelihood and the model's measures.

    Both likelihood figures come from the same K importance weights
    log w_k = log p(x, z_k) - log q(z_k|x): ELBO = mean_k log w_k (the true beta = 1
    bound), IW = logsumexp_k log w_k - log K. Models add their own groups of measures
    (``model.measure_groups``, through ``model.measures``). ``measures`` picks groups
    (comma-separated names or a list; default all, ``likelihood`` included); every
    figure ``F`` comes with ``F_images``, the number of images it used. The image
    classifier that judges interventions is cached in ``judge_cache`` (default
    RUN/cache). ``progress`` shows a progress bar on stderr.
    """
    from tqdm.auto import tqdm

    from pyro_vaes.analysis.measure_request import (
        LIKELIHOOD,
        MeasureRequest,
        measure_groups,
        parse_measures,
    )
    from pyro_vaes.training.plans import PLANS

    model = run.model.eval()
    names = parse_measures(model, measures)
    chosen = [g for g in measure_groups(model) if names is None or g in names]
    plan_splits = run.splits
    dataset = getattr(plan_splits, split)
    torch.manual_seed(seed)
    plan = PLANS[model.plan](model, plan_splits, batch_size=batch_size, device=run.device,
                             seed=run.train_config.seed)
    batches = list(plan.eval_batches(split)) if LIKELIHOOD in chosen else []
    results: dict[str, Any] = {"split": split, "num_images": len(dataset),
                               "epoch": run.history[-1]["epoch"] if run.history else 0,
                               "measures": chosen}
    bar = tqdm(total=len(batches) + len(chosen) - (LIKELIHOOD in chosen), desc="evaluate",
               unit="step", disable=not progress)
    try:
        if LIKELIHOOD in chosen:
            bar.set_postfix_str(LIKELIHOOD)
            images = [0]
            chunk = max(1, min(num_samples, IW_ROWS // batch_size))
            elbo_total, iw_total, count = model.log_likelihood_sums(
                _counted(batches, images, bar), num_samples, chunk_size=chunk)
            results.update({"num_points": count, "importance_samples": num_samples,
                            f"{split}_elbo": elbo_total / count,
                            f"{split}_elbo_images": images[0],
                            f"{split}_iw_log_likelihood": iw_total / count,
                            f"{split}_iw_log_likelihood_images": images[0]})
        groups = [g for g in chosen if g != LIKELIHOOD]
        if groups:
            def done(name: str) -> None:
                bar.update(1)
                following = groups[groups.index(name) + 1:] if name in groups else []
                bar.set_postfix_str(following[0] if following else "")

            bar.set_postfix_str(groups[0])
            cache = Path(judge_cache) if judge_cache is not None else run.directory.root / "cache"
            request = MeasureRequest(frozenset(groups), cache, done, seed)
            results.update(model.measures(plan_splits, split, request))
    finally:
        bar.close()
    return results


# -- sampling and figures ---------------------------------------------------------------
@torch.no_grad()
def sample(run: Run, num_samples: int = 64, seed: int = 0) -> torch.Tensor:
    """Mean images decoded from prior samples, (N, C, H, W)."""
    torch.manual_seed(seed)
    return run.model.eval().generate(num_samples).cpu()


@torch.no_grad()
def write_training_figures(run: Run, num_images: int = 8) -> list[Path]:
    """Reconstructions, prior samples and loss curves into RUN/figures/."""
    model = run.model.eval()
    figures = run.directory.figures
    figures.mkdir(exist_ok=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.train_config.seed)
        test = run.splits.test
        x = test.pixels(torch.arange(min(num_images, len(test)))).to(run.device)
        recon = model.reconstruct(x)
        written = [
            save_image_grid(torch.cat([x.cpu(), recon.cpu()]), figures / "reconstructions.png",
                            nrow=x.shape[0], row_labels=["data", "reconstruction"],
                            title=f"{run.model_name}: test images and reconstructions"),
            save_image_grid(sample(run, 64, run.train_config.seed), figures / "samples.png",
                            nrow=8, title=f"{run.model_name}: samples from the prior"),
        ]
    if run.history:
        written.append(save_loss_curves(run.history, figures / "loss_curves.png"))
    return written


# -- rendering --------------------------------------------------------------------------
def example_batch(model: LatentVariableModel, splits: Any, size: int = 4) -> Batch:
    """A small real batch (labels attached) to trace a model with."""
    from pyro_vaes.training.plans import PLANS

    plan = PLANS[model.plan](model, splits, batch_size=size, device="cpu")
    return next(iter(plan.eval_batches("train")))


def render(model_name: str, out: str | Path, *, model_options: dict[str, Any] | None = None,
           train_config: TrainConfig | None = None, formats: tuple[str, ...] = ("svg", "png")
           ) -> list[Path]:
    """Draw the model and the guide with ``pyro.render_model`` and write the shape table."""
    train_config = train_config or TrainConfig(max_train=64)
    pyro.set_rng_seed(train_config.seed)
    splits = load_splits(train_config)
    model = build_model(model_name, DataInfo.from_splits(splits), dict(model_options or {}))
    batch = example_batch(model, splits)
    args = model.site_args(batch)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for role, fn in (("model", model.model), ("guide", model.guide)):
        for fmt in formats:
            path = out / f"{model_name}-{role}.{fmt}"
            pyro.render_model(fn, model_args=args, render_distributions=True, filename=str(path))
            written.append(path)
    shapes = []
    for role, fn in (("model", model.model), ("guide", model.guide)):
        trace = poutine.trace(fn).get_trace(*args)
        trace.compute_log_prob()
        shapes.append(f"# {role} trace of {model_name}\n{trace.format_shapes()}\n")
    path = out / f"{model_name}-shapes.txt"
    path.write_text("\n".join(shapes))
    written.append(path)
    return written


__all__ = ["Run", "TrainConfig", "evaluate", "importance_log_likelihood", "load_run",
           "load_splits", "render", "sample", "train", "write_training_figures"]
