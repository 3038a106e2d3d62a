"""The prior-components figure: the class Gaussians of u and their pairwise overlaps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from pyro_vaes.figures import pyplot


def save_prior_components(means: torch.Tensor, scales: torch.Tensor, overlaps: torch.Tensor,
                          names: Sequence[str], path: str | Path, *, tau: float) -> Path:
    """Left: each component in (u1, u2) with 1- and 2-sigma ellipses (a density curve of u1
    when u is one-dimensional). Right: the K x K Bhattacharyya coefficients, written out."""
    from matplotlib.patches import Ellipse

    plt = pyplot()
    means, scales, overlaps = (t.detach().float().cpu() for t in (means, scales, overlaps))
    k = means.shape[0]
    colours = plt.get_cmap("tab10" if k <= 10 else "tab20")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    if means.shape[1] >= 2:
        for i in range(k):
            for n_sigma, alpha in ((1, 0.35), (2, 0.15)):
                left.add_patch(Ellipse((float(means[i, 0]), float(means[i, 1])),
                                       2 * n_sigma * float(scales[i, 0]),
                                       2 * n_sigma * float(scales[i, 1]),
                                       color=colours(i % colours.N), alpha=alpha, lw=0))
            left.annotate(names[i], (float(means[i, 0]), float(means[i, 1])), fontsize=7,
                          ha="center", va="center")
        low = (means[:, :2] - 2.5 * scales[:, :2]).min(0).values
        high = (means[:, :2] + 2.5 * scales[:, :2]).max(0).values
        left.set_xlim(float(low[0]), float(high[0]))
        left.set_ylim(float(low[1]), float(high[1]))
        left.set_ylabel("u2")
        left.set_title("prior components p(u | c): 1 and 2 sigma", fontsize=9)
    else:
        grid = torch.linspace(float((means - 3 * scales).min()),
                              float((means + 3 * scales).max()), 400)
        for i in range(k):
            density = torch.distributions.Normal(means[i, 0], scales[i, 0]).log_prob(grid).exp()
            left.plot(grid.numpy(), density.numpy(), color=colours(i % colours.N),
                      label=names[i])
        left.set_ylabel("density")
        left.legend(fontsize=6)
        left.set_title("prior components p(u | c)", fontsize=9)
    left.set_xlabel("u1")
    left.grid(alpha=0.3)
    image = right.imshow(overlaps.numpy(), vmin=0, vmax=1, cmap="viridis")
    for i in range(k):
        for j in range(k):
            right.text(j, i, f"{float(overlaps[i, j]):.2f}", ha="center", va="center",
                       fontsize=6, color="white" if overlaps[i, j] < 0.5 else "black")
    right.set_xticks(range(k))
    right.set_xticklabels(list(names), rotation=90, fontsize=7)
    right.set_yticks(range(k))
    right.set_yticklabels(list(names), fontsize=7)
    right.set_title(f"Bhattacharyya coefficient (penalised above tau = {tau:g})", fontsize=9)
    fig.colorbar(image, ax=right, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
