"""PNG figures: image grids with labelled axes, and loss curves (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported on first use (training and the
    command line need it only when a figure is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tile(images: torch.Tensor, nrow: int) -> torch.Tensor:
    """Tile (N, C, H, W) images into one (H', W', C) array, ``nrow`` images per row,
    with a one-pixel white border."""
    images = images.detach().float().cpu().clamp(0, 1)
    n, c, h, w = images.shape
    ncol = nrow
    nrows = -(-n // ncol)
    canvas = torch.ones(c, nrows * (h + 1) + 1, ncol * (w + 1) + 1)
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = 1 + r * (h + 1), 1 + k * (w + 1)
        canvas[:, top:top + h, left:left + w] = images[i]
    return canvas.permute(1, 2, 0)


def swap_grid(rows: torch.Tensor, columns: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """The images of a swap figure, row by row: a blank corner and the ``columns`` (m, C, H, W)
    on top, then each of the ``rows`` (n, C, H, W) followed by its ``cells`` (n, m, C, H, W),
    cell (i, j) mixing row image i with column image j; ``nrow`` is m + 1."""
    top = torch.cat([torch.ones_like(columns[:1]), columns])
    body = torch.cat([rows.unsqueeze(1), cells], 1).flatten(0, 1)
    return torch.cat([top, body])


def wrapped(text: str, width_inches: float, fontsize: float) -> str:
    """``text`` broken into lines that fit ``width_inches`` at ``fontsize`` points (a
    character is about 0.55 of the font size wide), so that a title is never clipped."""
    import textwrap

    chars = max(20, int(width_inches * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.wrap(text, chars)) if len(text) > chars else text


def save_image_grid(images: torch.Tensor, path: str | Path, *, nrow: int,
                    title: str | None = None, row_labels: Sequence[str] | None = None,
                    col_labels: Sequence[str] | None = None, xlabel: str | None = None,
                    ylabel: str | None = None) -> Path:
    """Save images as a grid; row and column labels become tick labels on the axes."""
    grid = tile(images, nrow)
    n = images.shape[0]
    nrows = -(-n // nrow)
    h, w = images.shape[-2:]
    fig_w = max(3.0, 0.45 * nrow * max(w, 16) / 16 + (1.5 if row_labels else 0.5))
    fig_h = max(2.5, 0.45 * nrows * max(h, 16) / 16 + 1.0)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    cmap = "gray" if grid.shape[-1] == 1 else None
    ax.imshow((grid.squeeze(-1) if cmap else grid).numpy(), cmap=cmap, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([1 + k * (w + 1) + w / 2 for k in range(nrow)] if col_labels else [])
    if col_labels:
        ax.set_xticklabels(list(col_labels), rotation=45 if max(map(len, col_labels)) > 4 else 0,
                           fontsize=8)
    ax.set_yticks([1 + r * (h + 1) + h / 2 for r in range(nrows)] if row_labels else [])
    if row_labels:
        ax.set_yticklabels(list(row_labels), fontsize=8)
    if xlabel:
        ax.set_xlabel(wrapped(xlabel, fig_w - 0.5, 10), fontsize=10)
    if ylabel:
        ax.set_ylabel(wrapped(ylabel, fig_h - 0.5, 10), fontsize=10)
    if title:   # centred on the figure (not on the axes, which row labels push aside)
        fig.suptitle(wrapped(title, fig_w - 0.3, 10), fontsize=10)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def save_loss_curves(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Training loss (negative ELBO) and validation negative ELBO per epoch."""
    epochs = [r["epoch"] for r in history]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(epochs, [r["train_loss"] for r in history], marker="o", ms=3, label="train loss")
    ax.plot(epochs, [-r["val_elbo"] for r in history], marker="s", ms=3,
            label="validation -ELBO")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per data point")
    ax.xaxis.get_major_locator().set_params(integer=True)   # epochs are whole numbers
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def save_bar_chart(values: dict[str, Sequence[float]], labels: Sequence[str], path: str | Path,
                   *, ylabel: str, title: str | None = None, xlabel: str | None = None) -> Path:
    """Grouped bars: one group per label, one bar per series in ``values``; about 0.4 inch
    per group, between 6 and 14 inches wide, so that the labels stay readable."""
    import numpy as np

    x = np.arange(len(labels))
    width = 0.8 / max(len(values), 1)
    plt = pyplot()
    fig_w = min(14.0, max(6.0, 0.4 * len(labels) + 1.5))
    fig, ax = plt.subplots(figsize=(fig_w, 4.2))
    for i, (name, series) in enumerate(values.items()):
        ax.bar(x + i * width - 0.4 + width / 2, list(series), width, label=name)
    ax.set_xticks(x)
    crowded = len(labels) * max(map(len, labels), default=1) * 0.09 > fig_w
    ax.set_xticklabels(list(labels), rotation=90 if crowded else 0, fontsize=9)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_ylabel(ylabel, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=10)
    if title:
        fig.suptitle(wrapped(title, fig_w - 0.3, 11), fontsize=11)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))   # never over a bar
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def save_line_plot(series: dict[str, tuple[Sequence[float], Sequence[float]]], path: str | Path,
                   *, xlabel: str, ylabel: str, title: str | None = None) -> Path:
    """One line per named (x, y) series."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, (xs, ys) in series.items():
        ax.plot(list(xs), list(ys), marker="o", ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(wrapped(title, 4.8, 10), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
