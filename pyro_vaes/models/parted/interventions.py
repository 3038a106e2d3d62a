"""Interventions on a trained class-related VAE (``pyro-vaes intervene KIND RUN``).

- ``traverse``: one grid per class (``--label`` picks classes): each row sweeps one
  dimension of u across mu_k +- span sigma_k of that class's component (the
  other dimensions at mu_k, z = 0), then each dimension of z across +- span.
- ``generate``: one row per class, ``--num-samples`` images with u ~ N(mu_k, sigma_k),
  z ~ N(0, I); also writes ``prior-components.png`` (the components in (u1, u2)
  with 1- and 2-sigma ellipses, and their pairwise Bhattacharyya coefficients).
- ``swap``: ``--num-images`` test images; cell (i, j) decodes z of image i with the
  class and u (predicted class, its u mean) of image j. The first row shows the
  images that give (c, u), the first column the images that give z.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pyro_vaes.figures import save_image_grid, swap_grid
from pyro_vaes.inference.bhattacharyya import pairwise_bhattacharyya
from pyro_vaes.interventions import InterventionOptions, random_positions, register
from pyro_vaes.labels import label_index
from pyro_vaes.models.parted.plots import save_prior_components
from pyro_vaes.naming import file_label


def class_names(model: Any) -> list[str]:
    """The data's class names, or "0", "1", ... where it has none."""
    names = model.data_info.class_names
    return list(names) if names else [str(k) for k in range(model.num_classes)]


def chosen_classes(model: Any, labels: list[str]) -> list[int]:
    """Indices of the classes named by ``--label`` (all classes when none is given)."""
    names = class_names(model)
    if not labels:
        return list(range(len(names)))
    return [label_index(names, label, what="a class of this run") for label in labels]


@register("parted", "traverse", uses=("labels", "steps", "span"))
@torch.no_grad()
def traverse(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Per class: rows sweep u_d within the class's component, then z_j within N(0, 1)."""
    model = run.model.eval()
    names = class_names(model)
    device = run.device
    du, dz = model.config.class_dim, model.z_dim
    offsets = torch.linspace(-options.span, options.span, options.steps, device=device)
    written = []
    for k in chosen_classes(model, options.labels):
        mean, scale = model.u_prior.means[k], model.u_prior.scales[k]
        u = mean.expand(du + dz, options.steps, du).clone()
        z = torch.zeros(du + dz, options.steps, dz, device=device)
        for d in range(du):
            u[d, :, d] = mean[d] + offsets * scale[d]
        for j in range(dz):
            z[du + j, :, j] = offsets
        images = model.decode(z, u).reshape(-1, *model.data_info.image_shape)
        rows = [f"u{d + 1}" for d in range(du)] + [f"z{j + 1}" for j in range(dz)]
        cols = [f"{float(o):+.1f}" for o in offsets]
        written.append(save_image_grid(
            images, out_dir / f"parted-traverse-{k}-{file_label(names[k], 'class')}.png",
            nrow=options.steps,
            row_labels=rows, col_labels=cols, ylabel="latent swept",
            xlabel="offset in prior standard deviations (u: of the class component; z: of N(0,1))",
            title=f"parted: traversals in class '{names[k]}' (others at mu_k, z = 0)"))
    return written


@register("parted", "generate", uses=("labels", "num_samples", "seed"))
@torch.no_grad()
def generate(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """One row of samples per class, and the prior-components figure."""
    model = run.model.eval()
    names = class_names(model)
    classes = chosen_classes(model, options.labels)
    torch.manual_seed(options.seed)
    c = torch.tensor(classes, device=run.device).repeat_interleave(options.num_samples)
    images = model.generate(len(c), c=c)
    grid = save_image_grid(images, out_dir / "parted-generate.png", nrow=options.num_samples,
                           row_labels=[names[k] for k in classes], ylabel="class c",
                           xlabel="samples u ~ N(mu_c, sigma_c), z ~ N(0, I)",
                           title="parted: samples from each prior component")
    prior = model.u_prior
    overlaps = pairwise_bhattacharyya(prior.means, prior.scales ** 2)
    plot = save_prior_components(prior.means, prior.scales, overlaps, names,
                                 out_dir / "prior-components.png", tau=model.config.tau)
    return [grid, plot]


@register("parted", "swap", uses=("num_images", "seed"))
@torch.no_grad()
def swap(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Cell (i, j): z of test image i decoded with (c, u) of test image j."""
    model = run.model.eval()
    names = class_names(model)
    dataset = getattr(run.splits, options.split)
    n = min(options.num_images, len(dataset))
    generator = torch.Generator().manual_seed(options.seed)
    idx = random_positions(len(dataset), n, generator)
    x = dataset.pixels(idx).to(run.device)
    codes = model.encode(x)
    swapped = model.decode(codes["z"].unsqueeze(1), codes["u"].unsqueeze(0))  # (i, j)
    images = swap_grid(x, x, swapped)
    predicted = [names[int(k)] for k in codes["c"]]
    return [save_image_grid(
        images, out_dir / "parted-swap.png", nrow=n + 1,
        row_labels=["(c, u) from"] + [f"z of #{i + 1}" for i in range(n)],
        col_labels=["z from"] + [f"#{j + 1} {predicted[j]}" for j in range(n)],
        xlabel="(c, u) taken from image j (its predicted class)",
        ylabel="class-independent z kept from image i",
        title="parted: swap (c, u) between images at fixed z")]
