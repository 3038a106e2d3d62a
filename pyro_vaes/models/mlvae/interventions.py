"""ML-VAE interventions: swap content and style, generate for new groups, interpolate content.

- ``swap``: a grid whose cell (r, k) decodes the style of row image r with the
  content of column image k (both test images, each encoded alone); the first
  row shows the content sources, the first column the style sources.
- ``generate``: for each group (a held-out level when ``--holdout-classes``
  was given, otherwise test images of each level: images the model never saw)
  the content is accumulated from ``--num-images`` of its images and new
  members are decoded with fresh style s ~ N(0, I).
- ``interpolate``: content accumulated from two groups (``--label A --label B``
  or the first two levels), interpolated linearly in ``--steps`` steps, decoded
  with the style of each row's test image held fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pyro_vaes.data import group_ids
from pyro_vaes.errors import ConfigError
from pyro_vaes.figures import save_image_grid, swap_grid
from pyro_vaes.interventions import InterventionOptions, random_positions, register
from pyro_vaes.labels import label_index
from pyro_vaes.models.mlvae.grouping import level_names

MAX_GROUPS = 10


def _levels(run: Any, options: InterventionOptions, default: list[int]) -> list[int]:
    """The levels named by ``--label`` (names or indices), else ``default``."""
    model = run.model
    names = level_names(model.config.group_by, model.data_info)
    if not options.labels:
        return default
    return [label_index(names, label, what=f"a value of --group-by {model.config.group_by}",
                        digits=True) for label in options.labels]


def _group_images(run: Any, level: int, k: int, generator: torch.Generator
                  ) -> tuple[torch.Tensor, str]:
    """``k`` images of a level, from the training split for a held-out level (never
    trained on) or the test split otherwise; and where they came from."""
    model = run.model
    part = "train" if level in model.holdout_groups else "test"
    dataset = getattr(run.splits, part)
    positions = (group_ids(dataset, model.config.group_by) == level).nonzero().squeeze(1)
    if len(positions) == 0:
        name = level_names(model.config.group_by, model.data_info)[level]
        raise ConfigError(f"no {part} images of {name!r}; choose another --label")
    chosen = positions[random_positions(len(positions), k, generator)]
    return dataset.pixels(chosen).to(run.device), part


@register("mlvae", "swap", uses=("num_images", "seed"))
@torch.no_grad()
def swap(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Style from the row image, content from the column image."""
    model = run.model.eval()
    test = run.splits.test
    generator = torch.Generator().manual_seed(options.seed)
    n = min(options.num_images, len(test))
    pick = random_positions(len(test), 2 * n, generator)
    style_x = test.pixels(pick[:n]).to(run.device)
    content_x = test.pixels(pick[n:2 * n] if len(pick) >= 2 * n else pick[:n]).to(run.device)
    s = model.representation(style_x)["s"]
    c = model.representation(content_x)["c"]
    cells = model.decode(c.unsqueeze(0), s.unsqueeze(1)).cpu()        # (rows, cols, C, H, W)
    grid = swap_grid(style_x.cpu(), content_x.cpu(), cells)
    names = level_names(model.config.group_by, model.data_info)
    ids = group_ids(test, model.config.group_by)
    path = save_image_grid(
        grid, out_dir / "mlvae-swap.png", nrow=n + 1,
        title="ML-VAE swap: content of the column, style of the row",
        col_labels=["content:", *[names[int(ids[i])] for i in pick[n:2 * n]]],
        row_labels=["style:", *[names[int(ids[i])] for i in pick[:n]]],
        xlabel="content source (test image, encoded alone)",
        ylabel="style source (test image)")
    return [path]


@register("mlvae", "generate", uses=("num_images", "labels", "num_samples", "seed"))
@torch.no_grad()
def generate(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """New members of unseen groups: content accumulated from k images, fresh style."""
    model = run.model.eval()
    names = level_names(model.config.group_by, model.data_info)
    default = list(model.holdout_groups) or list(range(min(len(names), MAX_GROUPS)))
    levels = _levels(run, options, default)
    torch.manual_seed(options.seed)
    generator = torch.Generator().manual_seed(options.seed)
    k, m = options.num_images, options.num_samples
    rows, labels = [], []
    for level in levels:
        x, part = _group_images(run, level, k, generator)
        mask = torch.ones(1, len(x), dtype=torch.bool, device=run.device)
        c = model.group_representation(x.unsqueeze(0), mask)               # (1, Dc)
        s = model.style_prior().sample((m,)).to(run.device)
        new = model.decode(c, s).cpu()
        pad = torch.ones(k - len(x), *new.shape[1:])
        rows.append(torch.cat([x.cpu(), pad, new]))
        seen = "held out" if level in model.holdout_groups else f"{part} images"
        labels.append(f"{names[level]} ({seen})")
    path = save_image_grid(
        torch.cat(rows), out_dir / "mlvae-generate.png", nrow=k + m,
        title=(f"ML-VAE: content accumulated from {k} images of each group, new members "
               f"with fresh style (row label: the group and where its images come from; "
               f"the model was trained on none of them)"),
        row_labels=labels,
        col_labels=[f"in {i + 1}" for i in range(k)] + [f"new {j + 1}" for j in range(m)],
        xlabel=f"{k} given images | {m} generated members", ylabel="group")
    return [path]


@register("mlvae", "interpolate", uses=("num_images", "labels", "steps", "seed"))
@torch.no_grad()
def interpolate(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Content interpolated between two groups, each row's style fixed."""
    model = run.model.eval()
    names = level_names(model.config.group_by, model.data_info)
    levels = _levels(run, options, [0, 1])
    if len(levels) != 2:
        raise ConfigError("interpolate needs exactly two groups; give --label A --label B")
    generator = torch.Generator().manual_seed(options.seed)
    contents = []
    for level in levels:
        x, _ = _group_images(run, level, model.config.group_size, generator)
        mask = torch.ones(1, len(x), dtype=torch.bool, device=run.device)
        contents.append(model.group_representation(x.unsqueeze(0), mask)[0])
    test = run.splits.test
    n = min(options.num_images, len(test))
    style_x = test.pixels(random_positions(len(test), n, generator)).to(run.device)
    s = model.representation(style_x)["s"]                                  # (n, Ds)
    t = torch.linspace(0, 1, options.steps, device=run.device).unsqueeze(-1)
    c = (1 - t) * contents[0] + t * contents[1]                             # (steps, Dc)
    cells = model.decode(c.unsqueeze(0), s.unsqueeze(1)).cpu()            # (n, steps, ...)
    grid = torch.cat([torch.cat([style_x[r:r + 1].cpu(), cells[r]]) for r in range(n)])
    a, b = (names[level] for level in levels)
    path = save_image_grid(
        grid, out_dir / "mlvae-interpolate.png", nrow=options.steps + 1,
        title=f"ML-VAE: content interpolated from group {a} to group {b}, style fixed per row",
        col_labels=["style src", *[f"{float(v):.2f}" for v in t.flatten()]],
        row_labels=[f"image {r + 1}" for r in range(n)],
        xlabel=f"content: {a} (0) -> {b} (1), accumulated from {model.config.group_size} "
               f"images each",
        ylabel="style of the row")
    return [path]
