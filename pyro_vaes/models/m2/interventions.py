"""M2 interventions (`pyro-vaes intervene KIND RUN`): traverse, generate, swap, flip.

z is encoded as the posterior mean of q(z | x, y) at the image's true class;
the class fed to the decoder is the handle M2 offers on the label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pyro_vaes.figures import save_image_grid, swap_grid
from pyro_vaes.interventions import InterventionOptions, first_images, register


@register("m2", "traverse", uses=("num_images", "steps", "span"))
@torch.no_grad()
def traverse(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """One grid per test image: rows are latent dimensions, each swept over +/- span."""
    model = run.model.eval()
    x, y = first_images(run, options)
    z = model.encode(x, y)
    values = torch.linspace(-options.span, options.span, options.steps, device=z.device)
    dims = z.shape[-1]
    written = []
    for n in range(x.shape[0]):
        grid = z[n].expand(dims, options.steps, dims).clone()
        for j in range(dims):
            grid[j, :, j] = values
        images = model.decode(grid, y[n].expand(dims, options.steps)).flatten(0, 1)
        written.append(save_image_grid(
            images, out_dir / f"traverse-test{n}.png", nrow=options.steps,
            title=f"m2: test image {n} (class {model.label_space.names[int(y[n])]}), one latent "
                  f"dimension swept per row",
            row_labels=[f"z[{j}]" for j in range(dims)],
            col_labels=[f"{v:.2f}" for v in values.tolist()], xlabel="value",
            ylabel="latent dimension"))
    return written


@register("m2", "generate", uses=("labels", "num_samples", "seed"))
@torch.no_grad()
def generate(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Rows: each asked class; columns: z ~ N(0, I)."""
    model = run.model.eval()
    torch.manual_seed(options.seed)
    classes = model.label_space.indices(options.labels)
    s = options.num_samples
    y = torch.tensor(classes, device=run.device).repeat_interleave(s)
    images = model.decode(model.sample_latent(y.shape[0]), y)
    return [save_image_grid(images, out_dir / "generate.png", nrow=s,
                            title="m2: conditional generation, z ~ N(0, I)",
                            row_labels=[model.label_space.names[k] for k in classes],
                            col_labels=[str(k) for k in range(s)], xlabel="sample",
                            ylabel="y")]


@register("m2", "swap", uses=("num_images",))
@torch.no_grad()
def swap(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Cell (i, j): the class of test image i with the style z of test image j."""
    model = run.model.eval()
    x, y = first_images(run, options)
    z = model.encode(x, y)
    n = x.shape[0]
    cells = model.decode(z.unsqueeze(0).expand(n, -1, -1), y.unsqueeze(1).expand(-1, n))
    images = swap_grid(x, x, cells)
    return [save_image_grid(images, out_dir / "swap.png", nrow=n + 1,
                            title="m2: class y from the row image, style z from the column image",
                            row_labels=["z source"] + [f"y of test {i}" for i in range(n)],
                            col_labels=["y source"] + [f"z of test {j}" for j in range(n)],
                            xlabel="style from", ylabel="class from")]


@register("m2", "flip", uses=("num_images", "labels"))
@torch.no_grad()
def flip(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Rows: test images; columns: original, reconstruction, then y set to each asked class."""
    model = run.model.eval()
    x, y = first_images(run, options)
    z = model.encode(x, y)
    classes = model.label_space.indices(options.labels)
    columns = [x, model.decode(z, y)] + [model.decode(z, torch.full_like(y, k)) for k in classes]
    images = torch.stack(columns, 1).flatten(0, 1)
    return [save_image_grid(images, out_dir / "flip.png", nrow=len(columns),
                            title="m2: label interventions, z kept and y set",
                            row_labels=[f"test {n}" for n in range(x.shape[0])],
                            col_labels=["original", "reconstruction"]
                            + [f"y = {model.label_space.names[k]}" for k in classes],
                            xlabel="intervention", ylabel="image")]
