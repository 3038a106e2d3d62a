"""TensorBoard event files of a run (``--tensorboard``), in RUN/tensorboard.

What a run writes there:

- every epoch: the epoch's record as scalars, each under its metrics.jsonl name
  (``train_loss``, ``val_elbo``, ``val_recon``, ``val_kl_<site>``, ...), and
  two images, ``reconstructions`` (validation images above their reconstructions) and
  ``samples`` (images decoded from prior draws, the same draws every epoch);
- at the end: ``traversals`` (one validation image, its most informative latents swept
  one per row between the 2% and 98% quantiles of their posterior means) and the run's
  options as hparams, with the last epoch's measures as the metrics, so that
  ``tensorboard --logdir runs`` compares several runs in its HPARAMS tab.

Images are drawn under a forked RNG with the model in evaluation mode, so writing them
changes neither the training numbers nor a resumed run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from pyro_vaes.errors import ConfigError
from pyro_vaes.figures import tile

IMAGE_TAGS = ("reconstructions", "samples")
TRAVERSAL_TAG = "traversals"
NUM_IMAGES = 8
NUM_SAMPLES = 64
TRAVERSED_FACTORS = 8
TRAVERSAL_STEPS = 9


MIN_SIDE = 32
"""Smaller images are enlarged (nearest neighbour, a whole factor) to at least this side."""


def _grid(images: torch.Tensor, nrow: int) -> torch.Tensor:
    """(N, C, H, W) images as one (C, H', W') grid, small images enlarged."""
    factor = max(1, -(-MIN_SIDE // min(images.shape[-2:])))
    if factor > 1:
        images = torch.nn.functional.interpolate(images.float(), scale_factor=factor,
                                                 mode="nearest")
    return tile(images, nrow).permute(2, 0, 1)


@contextlib.contextmanager
def _quietly(model: torch.nn.Module, device: torch.device) -> Iterator[None]:
    """Evaluation mode, no gradients, and the RNG states (CPU and the model's GPU) restored."""
    devices = [device] if device.type == "cuda" else []
    was_training = model.training
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        model.eval()
        try:
            yield
        finally:
            model.train(was_training)


def hparam_values(config: dict[str, Any]) -> dict[str, Any]:
    """A run's options (``Run.config_dict()``) as flat hparams: ``model``, ``train/KEY`` and
    ``model/KEY``; None becomes "none", other values that are not numbers, strings or
    booleans are left out."""
    out: dict[str, Any] = {"model": config["model"]}
    for prefix, values in (("train", config["train"]), ("model", config["model_config"])):
        for key, value in values.items():
            if value is None:
                out[f"{prefix}/{key}"] = "none"
            elif isinstance(value, (bool, int, float, str)):
                out[f"{prefix}/{key}"] = value
    return out


class RunBoard:
    """Writes one run's TensorBoard events (see the module docstring)."""

    def __init__(self, log_dir: Path, model: torch.nn.Module, splits: Any, seed: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))
        self.model = model
        self.splits = splits
        self.seed = seed

    @property
    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _validation_images(self, count: int) -> torch.Tensor:
        images = self.splits.val
        return images.pixels(torch.arange(min(count, len(images)))).to(self._device)

    def epoch(self, record: dict[str, Any]) -> None:
        """The epoch's scalars, reconstructions and samples."""
        step = record["epoch"]
        for key, value in record.items():
            if key != "epoch":
                self.writer.add_scalar(key, value, step)
        with _quietly(self.model, self._device):
            torch.manual_seed(self.seed)
            x = self._validation_images(NUM_IMAGES)
            recon = self.model.reconstruct(x)
            self.writer.add_image("reconstructions",
                                  _grid(torch.cat([x.cpu(), recon.cpu()]), x.shape[0]), step)
            torch.manual_seed(self.seed)
            samples = self.model.generate(NUM_SAMPLES).cpu()
            self.writer.add_image("samples", _grid(samples, 8), step)
        self.writer.flush()

    def finish(self, config: dict[str, Any], history: list[dict[str, Any]]) -> None:
        """Traversals of the final model and the run's hparams with its final measures."""
        if not history:
            return
        step = history[-1]["epoch"]
        traversal = self._traversal()
        if traversal is not None:
            self.writer.add_image(TRAVERSAL_TAG, traversal, step)
        from torch.utils.tensorboard.summary import hparams

        metrics = {key: float(value) for key, value in history[-1].items()
                   if key not in ("epoch", "lr", "seconds")}
        for summary in hparams(hparam_values(config), metrics):
            self.writer.file_writer.add_summary(summary)
        self.writer.flush()

    def _traversal(self) -> torch.Tensor | None:
        """One validation image's most informative latents swept, as a grid; None where the
        guide has no Gaussian latent (a flow)."""
        from pyro_vaes.analysis.influence import analyse_latents, factor_ranges, traverse_factors

        with _quietly(self.model, self._device):
            try:
                analysis = analyse_latents(self.model, self.splits.val, limit=500, seed=self.seed,
                                           kl_samples=1, device=self._device)
            except ConfigError:
                return None
            factors = analysis.ranking()[:TRAVERSED_FACTORS]
            x = self._validation_images(1)
            grids = traverse_factors(self.model, x, factors, factor_ranges(analysis, factors),
                                     TRAVERSAL_STEPS)
        return _grid(grids[0].flatten(0, 1).cpu(), TRAVERSAL_STEPS)

    def close(self) -> None:
        self.writer.close()
