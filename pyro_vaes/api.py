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
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyro
import torch
from pyro import poutine

from pyro_vaes.choices import CHECKPOINTS
from pyro_vaes.config import RESUMABLE_OPTIONS, TrainConfig, from_dict, option_name, validate
from pyro_vaes.data import load_dataset
from pyro_vaes.data.checks import check_classes_for, size_notes
from pyro_vaes.errors import (
    CheckpointError,
    ConfigError,
    PyroVAEsError,
    TrainingDiverged,
    TrainingInterrupted,
)
from pyro_vaes.figures import save_image_grid, save_loss_curves
from pyro_vaes.inference import (
    importance_log_likelihood,
)
from pyro_vaes.inference.importance import likelihood_figures
from pyro_vaes.models import DataInfo, LatentVariableModel, build_model, model_class
from pyro_vaes.models.base import Batch
from pyro_vaes.outputs import check_writable_directory
from pyro_vaes.process import resolve_threads, torch_threads
from pyro_vaes.recipes import get_recipe
from pyro_vaes.runs import RunDirectory, RunLock
from pyro_vaes.training import Trainer, faults, load_checkpoint, resolve_device, save_checkpoint
from pyro_vaes.training.distributed import DistributedContext
from pyro_vaes.training.progress import note
from pyro_vaes.training.trainer import describe_position


@dataclass
class Run:
    """A trained (or training) model with its configuration and run directory."""

    directory: RunDirectory
    model: LatentVariableModel
    model_name: str
    train_config: TrainConfig
    history: list[dict[str, Any]] = field(default_factory=list)
    _splits: Any = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    best_epoch_summary: str = ""
    threads_used: int | None = None
    """torch's CPU thread count while it trained (``--threads``, ``auto`` resolved)."""

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
                "data_info": self.model.data_info.to_dict(), "changes": list(self.changes),
                **({} if self.threads_used is None else {"threads_used": self.threads_used})}


def load_splits(config: TrainConfig) -> Any:
    """Load the data set a training config names."""
    return load_dataset(config.data, config.data_root, seed=config.seed,
                        max_train=config.max_train, image_size=config.image_size)


# -- training ---------------------------------------------------------------------------
BEST_CHECKPOINT = "best.pt"


def checkpoint_path(directory: RunDirectory, which: str = "last") -> Path:
    """RUN/checkpoint.pt (the last state) or RUN/best.pt (the best epoch by the run's
    ``--early-stop-on`` measure; same format)."""
    if which not in CHECKPOINTS:
        raise ConfigError(f"checkpoint {which!r} is not one of: {', '.join(CHECKPOINTS)}")
    return directory.checkpoint if which == "last" else directory.root / BEST_CHECKPOINT


class _EpochWriter:
    """Callback: metrics line after each epoch and, with ``tensorboard``, the run's
    TensorBoard events (:mod:`pyro_vaes.tensorboard`)."""

    def __init__(self, run: Run, tensorboard: bool) -> None:
        self.run = run
        self.board = None
        if tensorboard:
            from pyro_vaes.tensorboard import RunBoard

            self.board = RunBoard(run.directory.tensorboard, run.model, run.splits,
                                  run.train_config.seed)

    def __call__(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.run.directory.append_metrics(record)
        if self.board is not None:
            self.board.epoch(record)

    def finish(self) -> None:
        """After the last epoch: traversals and hparams."""
        if self.board is not None:
            self.board.finish(self.run.config_dict(), self.run.history)

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _checkpointer(run: Run) -> Any:
    """The trainer's checkpointer: the run's config and weights beside the trainer state,
    in RUN/checkpoint.pt and, at an epoch that is the best so far, in RUN/best.pt too."""
    def save(state: dict[str, Any], best: bool) -> None:
        checkpoint = {"config": run.config_dict(), "state_dict": run.model.state_dict(),
                      **state}
        save_checkpoint(run.directory.checkpoint, checkpoint)
        if best:
            save_checkpoint(checkpoint_path(run.directory, "best"), checkpoint)
    return save


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


_RECORDED = ("model", "model_config", "train", "data_info")


def _check_config_json(directory: RunDirectory, saved: dict[str, Any], path: Path, *,
                       since_epoch: int | None = None) -> None:
    """Refuse a config.json that disagrees with the checkpoint at ``path`` (config.json is a
    copy for people to read; an edit to it would otherwise be silently ignored). It records
    the settings of the last checkpoint; ``since_epoch``: ``saved`` is the state of that
    earlier epoch (RUN/best.pt), and the training options a resume changed after it (listed
    in config.json's "changes") may differ."""
    written = directory.read_config()
    if written is None:
        return
    saved = json.loads(json.dumps(saved))
    if written.get("model", saved["model"]) != saved["model"]:
        raise CheckpointError(f"{directory.config} names model '{written['model']}' but "
                              f"{path} holds a '{saved['model']}' run; config.json only "
                              f"records the checkpoint's settings: restore it (or delete it) "
                              f"and train a new run to change the model")
    resumed: set[str] = set()
    if since_epoch is not None:
        resumed = {name for change in written.get("changes", [])
                   if change.get("epoch", 0) > since_epoch for name in change.get("changed", {})}
    differing = []
    for section in _RECORDED[1:]:
        mine, theirs = written.get(section, saved[section]), saved[section]
        if isinstance(mine, dict) and isinstance(theirs, dict):
            differing += [option_name(k) for k in sorted(set(mine) | set(theirs))
                          if mine.get(k) != theirs.get(k)
                          and not (section == "train" and k in resumed)]
        elif mine != theirs:
            differing.append(section)
    if differing:
        raise CheckpointError(f"{directory.config} differs from {path} in "
                              f"{', '.join(differing)}; config.json only records the "
                              f"checkpoint's settings: restore it (or delete it) and pass "
                              f"changes on the command line")


def _fits_in_memory(model: torch.nn.Module, device: torch.device, what: str) -> None:
    """Refuse a model whose parameters, gradients and Adam moments cannot fit."""
    need = 4 * sum(p.numel() * p.element_size() for p in model.parameters())
    if device.type == "cuda":
        available = torch.cuda.mem_get_info(device)[0]
    else:
        try:
            with open("/proc/meminfo") as handle:
                fields = dict(line.split(":", 1) for line in handle)
            available = int(fields["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            return
    if need > available:
        raise ConfigError(f"{what}: training needs about {need / 2**30:.1f} GiB for its "
                          f"parameters, gradients and optimiser state, more than the "
                          f"{available / 2**30:.1f} GiB available; choose smaller sizes "
                          f"(e.g. --latent-dim, --hidden-dim)")


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError | torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "alloc" in str(error))


def _build(model_name: str, data_info: DataInfo, options: dict[str, Any], elbo: str | None,
           device: torch.device) -> LatentVariableModel:
    """build_model, with an allocation failure turned into one line naming the sizes."""
    try:
        model = build_model(model_name, data_info, dict(options), elbo=elbo)
    except (MemoryError, RuntimeError) as error:
        if not _is_out_of_memory(error):
            raise
        raise ConfigError(f"model '{model_name}' with these options does not fit in memory; "
                          f"choose smaller sizes (e.g. --latent-dim, --hidden-dim)") from None
    _fits_in_memory(model, device, f"model '{model_name}' with these options")
    return model


def _early_model_check(model_name: str, model_options: dict[str, Any]) -> None:
    """Validate a model's options before any data is loaded (unknown names, bounds)."""
    cls = model_class(model_name)
    names = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(model_options) - names)
    if unknown:
        raise ConfigError(f"model '{model_name}' has no option {option_name(unknown[0])}; see "
                          f"`pyro-vaes train {model_name} --help`")
    validate(from_dict(cls.config_class, model_options))


def train(model_name: str, out: str | Path, *, model_options: dict[str, Any] | None = None,
          train_config: TrainConfig | None = None, resume: bool = False,
          tensorboard: bool = False, progress: bool | str = False, figures: bool = True) -> Run:
    """Train a model and write its run directory (or continue one with ``resume``).

    Everything is validated (options, output directory, data, model) before any file is
    written. With ``resume`` the run continues from its checkpoint with its saved options:
    ``train_config.epochs`` is the total to reach, and the fields of ``train_config`` set
    away from their defaults and every entry of ``model_options`` are requested changes,
    allowed or refused as :func:`resume_run` says. ``progress``: True for progress bars on
    stderr, ``"lines"`` for one plain line per epoch there (for logs and pipes), False for
    neither.
    """
    train_config = train_config or TrainConfig()
    if resume:
        defaults = dataclasses.asdict(TrainConfig())
        requested = {k: v for k, v in dataclasses.asdict(train_config).items()
                     if k != "epochs" and v != defaults[k]}
        return resume_run(out, model_name, epochs=train_config.epochs,
                          options={**(model_options or {}), **requested},
                          tensorboard=tensorboard or None, progress=progress, figures=figures)
    validate(train_config)
    if train_config.recipe is not None:   # config.json names only a recipe the model has
        get_recipe(model_name, train_config.recipe)
    _early_model_check(model_name, dict(model_options or {}))
    RunDirectory.check_new(out)
    return _train(model_name, Path(out), dict(model_options or {}), train_config,
                  tensorboard=tensorboard, progress=progress, figures=figures)


def _merge_requested(saved_train: TrainConfig, saved_model: dict[str, Any], model_name: str,
                     options: dict[str, Any], where: Path
                     ) -> tuple[TrainConfig, dict[str, Any]]:
    """The saved options with the requested resumable changes applied, and those changes;
    refuses (listing them) requested values of any other option that differ from the run's."""
    cls = model_class(model_name)
    model_fields = {f.name for f in dataclasses.fields(cls.config_class)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - model_fields - train_fields)
    if unknown:
        raise ConfigError(f"model '{model_name}' has no option {option_name(unknown[0])}; see "
                          f"`pyro-vaes train {model_name} --help`")
    merged = dataclasses.replace(saved_train)
    model_defaults = dataclasses.asdict(cls.config_class())
    changes: dict[str, Any] = {}
    refused = []
    for name, value in options.items():
        saved = (saved_model.get(name, model_defaults[name]) if name in model_fields
                 else getattr(saved_train, name))
        if value == saved:
            continue
        if name in model_fields or name not in RESUMABLE_OPTIONS:
            refused.append(f"{option_name(name)} {value} (the run has {saved})")
            continue
        changes[name] = {"from": saved, "to": value}
        setattr(merged, name, value)
    if refused:
        allowed = ", ".join(option_name(n) for n in RESUMABLE_OPTIONS)
        raise ConfigError(f"--resume cannot change {'; '.join(refused)}: drop "
                          f"{'it' if len(refused) == 1 else 'them'} to continue the run in "
                          f"{where} (a resume may change only {allowed}), or train a new run "
                          f"with another --out")
    if merged.lr_schedule != "exponential" and "lr_decay" not in options:
        merged.lr_decay = TrainConfig().lr_decay
    return merged, changes


def resume_run(out: str | Path, model_name: str | None = None, *, epochs: int | None = None,
               options: dict[str, Any] | None = None, tensorboard: bool | None = None,
               progress: bool | str = False, figures: bool = True) -> Run:
    """Continue the run in ``out`` from its checkpoint (mid-epoch checkpoints included).

    ``epochs``: the total to reach (default: the run's own). ``options``: option values
    asked for by name (``{"lr": 1e-3}``); values equal to the run's are fine, the
    resumable ones (:data:`pyro_vaes.config.RESUMABLE_OPTIONS`: the learning rate, the
    gradient clipping, the schedule, the device, the epochs, the checkpoint interval)
    take effect from the checkpoint on and are recorded in config.json under "changes"
    with the epoch (and step) they took effect; any other differing value is refused
    with the list of what differs. A directory holding an unstarted run (killed before
    its first checkpoint) is started from its beginning, with the options of its
    config.json when it has one. ``tensorboard``: None keeps writing TensorBoard events
    when the run has them (RUN/tensorboard), True or False decide.
    """
    root = Path(out)
    directory = RunDirectory(root)
    options = dict(options or {})
    if tensorboard is None:
        tensorboard = directory.has_tensorboard()
    if root.is_dir() and not directory.checkpoint.exists() and directory.is_unstarted():
        return _restart_unstarted(directory, model_name, epochs, options, tensorboard=tensorboard,
                                  progress=progress, figures=figures)
    directory = RunDirectory.open(root)
    checkpoint = load_checkpoint(directory.checkpoint)
    saved = checkpoint["config"]
    model_name = model_name or saved["model"]
    _check_checkpoint_model(checkpoint, model_name, directory.checkpoint)
    _check_config_json(directory, saved, directory.checkpoint)
    try:
        saved_train = from_dict(TrainConfig, saved["train"])
        validate(saved_train)
    except (TypeError, PyroVAEsError) as error:
        raise CheckpointError(f"{directory.checkpoint}: its training options are not valid "
                              f"({error}); train a new run") from None
    train_config, changes = _merge_requested(saved_train, dict(saved["model_config"]),
                                             model_name, options, root)
    if epochs is not None:
        if epochs != saved_train.epochs:
            changes["epochs"] = {"from": saved_train.epochs, "to": epochs}
        train_config.epochs = epochs
    validate(train_config)
    if checkpoint["epoch"] >= train_config.epochs:
        raise ConfigError(f"{out} has already trained {checkpoint['epoch']} epochs; "
                          f"pass --epochs larger than that to continue")
    _refuse_stopped(checkpoint, out)
    check_writable_directory(root)
    RunLock.check_free(root)
    history = list(saved.get("changes", []))
    if changes:
        position = checkpoint.get("position", {})
        history.append({"epoch": checkpoint["epoch"] + 1, "step": position.get("batch", 0),
                        "changed": changes})
    return _train(model_name, root, dict(saved["model_config"]), train_config,
                  checkpoint=checkpoint, changes=history,
                  restart_schedule=bool({"lr", "lr_schedule", "lr_decay"} & set(changes)),
                  tensorboard=tensorboard, progress=progress, figures=figures)


def _restart_unstarted(directory: RunDirectory, model_name: str | None, epochs: int | None,
                       options: dict[str, Any], **kwargs: Any) -> Run:
    """Start again a run that never wrote a checkpoint, from its config.json if any."""
    written = directory.read_config() or {}
    saved_model = written.get("model")
    if model_name is not None and saved_model not in (None, model_name):
        raise CheckpointError(f"{directory.config} is for a '{saved_model}' run, not "
                              f"'{model_name}'; use `pyro-vaes train {saved_model} --resume` "
                              f"or another --out")
    model_name = model_name or saved_model
    if not isinstance(model_name, str):
        raise CheckpointError(f"{directory.root} holds no checkpoint and no config.json naming "
                              f"its model; start it with `pyro-vaes train MODEL --out "
                              f"{directory.root}`")
    model_fields = {f.name for f in dataclasses.fields(model_class(model_name).config_class)}
    model_options = {**dict(written.get("model_config") or {}),
                     **{k: v for k, v in options.items() if k in model_fields}}
    model_options = {k: v for k, v in model_options.items() if k in model_fields}
    train_values = {**dict(written.get("train") or {}),
                    **{k: v for k, v in options.items() if k not in model_fields}}
    if epochs is not None:
        train_values["epochs"] = epochs
    try:
        train_config = from_dict(TrainConfig, train_values)
    except TypeError as error:
        raise CheckpointError(f"{directory.config}: not a run configuration ({error}); "
                              f"delete it and train again") from None
    validate(train_config)
    _early_model_check(model_name, model_options)
    RunDirectory.check_new(directory.root)
    return _train(model_name, directory.root, model_options, train_config, **kwargs)


def _train(model_name: str, root: Path, model_options: dict[str, Any], train_config: TrainConfig,
           **kwargs: Any) -> Run:
    """:func:`_train_with_threads` with torch's thread count set to ``--threads`` (``auto``
    resolved now; config.json records the number as "threads_used")."""
    with torch_threads(resolve_threads(train_config.threads)):
        return _train_with_threads(model_name, root, model_options, train_config, **kwargs)


def _train_with_threads(model_name: str, root: Path, model_options: dict[str, Any],
                        train_config: TrainConfig, *,
                        checkpoint: dict[str, Any] | None = None,
                        changes: list[dict[str, Any]] | None = None,
                        restart_schedule: bool = False, tensorboard: bool,
                        progress: bool | str, figures: bool) -> Run:
    """Build everything, then (and only then) write: lock, checkpoint, config.json, epochs."""
    device = resolve_device(train_config.device)
    context = DistributedContext.from_environment()
    pyro.set_rng_seed(train_config.seed)
    splits = load_splits(train_config)
    check_classes_for(model_name, model_class(model_name).plan == "semi-supervised", splits,
                      train_config.data)
    data_info = DataInfo.from_splits(splits)
    elbo_name = train_config.elbo or model_class(model_name).default_elbo
    directory = RunDirectory(root)
    model = _build(model_name, data_info, model_options, elbo_name, device)
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["state_dict"])
        except RuntimeError as error:
            raise CheckpointError(f"{directory.checkpoint}: weights do not fit model "
                                  f"'{model_name}' ({str(error).splitlines()[0]}); train a new "
                                  f"run") from None
    run = Run(directory, model, model_name, train_config, _splits=splits,
              changes=list(changes or []), threads_used=torch.get_num_threads())
    try:
        trainer = Trainer(model, splits, train_config,
                          progress=progress if context.is_main else False)
    except (MemoryError, RuntimeError) as error:
        if not _is_out_of_memory(error):
            raise
        raise ConfigError(f"model '{model_name}' with these options does not fit in memory; "
                          f"choose smaller sizes") from None
    try:
        if checkpoint is not None:
            try:
                trainer.load_state_dict(checkpoint)
            except (KeyError, ValueError, TypeError, RuntimeError) as error:
                raise CheckpointError(f"{directory.checkpoint}: its training state does not "
                                      f"fit this run ({type(error).__name__}); train a new run"
                                      ) from None
            if restart_schedule:
                trainer.restart_schedule()
        _fit_and_record(trainer, run, context, tensorboard, fresh=checkpoint is None)
    finally:
        context.teardown()                     # every rank, also after an interruption
    if not context.is_main:
        return run
    if figures:
        write_training_figures(run)
    return run


def _fit_and_record(trainer: Trainer, run: Run, context: DistributedContext,
                    tensorboard: bool, *, fresh: bool) -> None:
    """Write the run directory (rank 0; ``fresh``: create it), train, and wait for every
    rank at the end."""
    directory = run.directory
    lock = writer = None
    try:
        if context.is_main:
            if fresh:
                directory = RunDirectory.create(directory.root)
            lock = directory.lock()
            faults.reached("run-created", 1)
            config = run.train_config
            for text in size_notes(config.data, run.splits, max_train=config.max_train,
                                   batch_size=config.batch_size) if fresh else []:
                note(text)                 # said once, when the run starts
            broken = 0 if fresh else directory.truncate_metrics(trainer.epoch)
            if broken:
                note(f"{directory.metrics}: dropped {broken} line(s) that were not JSON (cut "
                     f"off when the run stopped); it keeps one JSON line per epoch")
            trainer.checkpointer = _checkpointer(run)
            writer = _EpochWriter(run, tensorboard)
            trainer.callbacks.append(writer)
        if fresh:
            trainer.save_checkpoint()          # resumable from before the first step
        if context.is_main:
            directory.write_config(run.config_dict())
        run.history = trainer.fit()
        run.best_epoch_summary = trainer.early_stopping.describe()
        if writer is not None:
            writer.finish()
    except KeyboardInterrupt:
        raise TrainingInterrupted(_stopped(trainer, run)) from None
    except TrainingDiverged as error:
        raise TrainingDiverged(f"{error}; {_stopped(trainer, run, diverged=True)}") from None
    finally:
        if writer is not None:
            writer.close()
        if lock is not None:
            lock.release()
    context.barrier()


def _stopped(trainer: Trainer, run: Run, diverged: bool = False) -> str:
    """Where training stopped, what the checkpoint keeps and how to go on (one line)."""
    root = run.directory.root
    command = f"pyro-vaes train {run.model_name} --out {root} --resume"
    if trainer.last_checkpoint is None:
        return (f"{root} has no checkpoint yet; run the same `pyro-vaes train` command again "
                f"to start it")
    kept = f"{run.directory.checkpoint} keeps {describe_position(*trainer.last_checkpoint)}"
    if diverged:
        return (f"{kept}, the last good state: resume with a lower --lr (or with --clip-norm), "
                f"e.g. `{command} --lr {run.train_config.lr / 10:g}`")
    return (f"stopped at {describe_position(trainer.epoch, trainer.batch_index)}; {kept}: "
            f"continue with `{command}`")


# -- loading ----------------------------------------------------------------------------
def load_run(path: str | Path, device: str = "cpu", expect_model: str | None = None,
             which: str = "last") -> Run:
    """Load a run directory's model in evaluation mode: the weights of its last state
    (``which="last"``, RUN/checkpoint.pt) or of its best epoch (``"best"``, RUN/best.pt),
    refusing, in one line, a checkpoint that is not a valid pyro_vaes checkpoint or that
    disagrees with its config.json; ``run.history`` ends at the loaded epoch."""
    directory = RunDirectory.open(path)
    path_of = checkpoint_path(directory, which)
    if which == "best" and not path_of.is_file():
        raise CheckpointError(f"{path_of}: no best checkpoint in this run (written by versions "
                              f"that track the best epoch); use --checkpoint last")
    checkpoint = load_checkpoint(path_of, map_location=resolve_device(device))
    config = checkpoint["config"]
    if expect_model is not None:
        _check_checkpoint_model(checkpoint, expect_model, path_of)
    _check_config_json(directory, config, path_of,
                       since_epoch=checkpoint["epoch"] if which == "best" else None)
    try:
        data_info = DataInfo.from_dict(config["data_info"])
        model = build_model(config["model"], data_info, dict(config["model_config"]))
        train_config = from_dict(TrainConfig, config["train"])
    except (TypeError, KeyError, ValueError, PyroVAEsError) as error:
        raise CheckpointError(f"{path_of}: its settings do not describe a valid "
                              f"model ({str(error).splitlines()[0] if str(error) else error!r});"
                              f" train a new run") from None
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"{path_of}: weights do not fit model "
                              f"'{config['model']}' ({str(error).splitlines()[0]}); "
                              f"re-train the run") from None
    model.to(resolve_device(device)).eval()
    train_config.device = device
    return Run(directory, model, config["model"], train_config, list(checkpoint["history"]),
               changes=list(config.get("changes", [])))


# -- evaluation -------------------------------------------------------------------------
@torch.no_grad()
def evaluate(run: Run, *, split: str = "test", num_samples: int = 100,
             iw_images: int | str = "auto", batch_size: int = 256, seed: int = 0,
             measures: str | Iterable[str] | None = None,
             judge_cache: str | Path | None = None, progress: bool = False,
             threads: int | str = "auto") -> dict[str, Any]:
    """Test ELBO, the K-sample importance-weighted log-likelihood and the model's measures.

    From importance weights log w_k = log p(x, z_k) - log q(z_k|x): the ELBO (the true
    beta = 1 bound, one sample per point) over the whole split, and the K-sample bound
    IW = logsumexp_k log w_k - log K on ``iw_images`` points drawn with ``seed`` (``"auto"``:
    1,000 or the whole split when smaller; ``"all"``: the whole split), each with
    ``_stderr`` (standard error over points), ``_points`` and ``_images`` beside it
    (:func:`pyro_vaes.inference.importance.likelihood_figures`).
    Models add their own groups of measures
    (``model.measure_groups``, through ``model.measures``). ``measures`` picks groups
    (comma-separated names or a list; default all, ``likelihood`` included); every
    figure ``F`` comes with ``F_images``, the number of images it used. The image
    classifier that judges interventions is cached in ``judge_cache`` (default
    RUN/cache). ``progress`` shows a progress bar on stderr. ``threads``: torch's thread
    count meanwhile, as ``--threads`` of training (``auto``: :func:`pyro_vaes.process.
    auto_threads`).
    """
    from pyro_vaes.analysis.measure_request import LIKELIHOOD, measure_groups, parse_measures
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
    groups = [g for g in chosen if g != LIKELIHOOD]
    with torch_threads(resolve_threads(threads)):   # torch threads as for training
        if LIKELIHOOD in chosen:
            results.update(likelihood_figures(model, batches, split, num_samples,
                                              iw_points=iw_images, seed=seed,
                                              progress=progress))
        if groups:
            _measure_groups(run, groups, split, seed, judge_cache, progress, results)
    return results


def _measure_groups(run: Run, groups: list[str], split: str, seed: int,
                    judge_cache: str | Path | None, progress: bool,
                    results: dict[str, Any]) -> None:
    """The model's own measures (``groups``) into ``results``, with a progress bar."""
    from tqdm.auto import tqdm

    from pyro_vaes.analysis.measure_request import MeasureRequest

    with tqdm(total=len(groups), desc=f"evaluate: {split} measures", unit="group",
              disable=not progress) as bar:
        def done(name: str) -> None:
            bar.update(1)
            following = groups[groups.index(name) + 1:] if name in groups else []
            bar.set_postfix_str(following[0] if following else "")

        bar.set_postfix_str(groups[0])
        cache = Path(judge_cache) if judge_cache is not None else run.directory.root / "cache"
        request = MeasureRequest(frozenset(groups), cache, done, seed)
        results.update(run.model.measures(run.splits, split, request))


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
    model = _build(model_name, DataInfo.from_splits(splits), dict(model_options or {}), None,
                   torch.device("cpu"))
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
           "load_splits", "render", "resume_run", "sample", "train", "write_training_figures"]
