"""CCVAE interventions (`pyro-vaes intervene KIND RUN`): traverse, generate, swap, flip.

Every intervention encodes test images to their posterior means, changes the
characteristic latents z_c (or swaps z_c and z_s between images), decodes the
mean image and writes a PNG grid with labelled axes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pyro_vaes.figures import save_image_grid, swap_grid
from pyro_vaes.interventions import InterventionOptions, first_images, register
from pyro_vaes.naming import file_label


# -- the latent manipulations (pure functions of the model) -------------------------------
def traversal_values(model: Any, index: int, steps: int, span: float) -> torch.Tensor:
    """``steps`` values of z_c,index from one conditional-prior mode to the other.

    From m(0) -/+ span s(0) to m(1) +/- span s(1): the sweep starts beyond the
    "off" mode on the side away from the "on" mode and ends beyond the "on" mode.
    """
    loc = model.conditional_prior.loc[:, index].detach()
    scale = model.conditional_prior.scales()[:, index].detach()
    direction = 1.0 if float(loc[1] - loc[0]) >= 0 else -1.0
    start = loc[0] - direction * span * scale[0]
    end = loc[1] + direction * span * scale[1]
    return torch.linspace(float(start), float(end), steps, device=loc.device)


def traverse_latents(z_c: torch.Tensor, index: int, values: torch.Tensor) -> torch.Tensor:
    """(N, S, L): each row of z_c (N, L) repeated S times with column ``index`` set to values."""
    out = z_c.unsqueeze(1).repeat(1, values.shape[0], 1)
    out[:, :, index] = values
    return out


def flip_characteristics(model: Any, z_c: torch.Tensor, y: torch.Tensor,
                         target: torch.Tensor) -> torch.Tensor:
    """z_c with every latent whose label fact changes from y to target resampled from
    p(z_c,i | new fact); the other latents are kept."""
    space = model.label_space
    old = space.indicators(space.site_value(y))
    new = space.indicators(space.site_value(target))
    fresh = model.conditional_prior(new).sample()
    return torch.where(old != new, fresh, z_c)


# -- the commands ------------------------------------------------------------------------
@register("ccvae", "traverse", uses=("num_images", "labels", "steps", "span"))
@torch.no_grad()
def traverse(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """One grid per asked label (rows: images, columns: the sweep); a 2-D grid per image
    when exactly two labels are asked."""
    model = run.model.eval()
    space = model.label_space
    x, _ = first_images(run, options)
    loc_c, _, loc_s, _ = model.encode(x)
    indices = space.indices(options.labels)
    if len(options.labels) == 2:
        return _traverse_pair(model, loc_c, loc_s, indices, out_dir, options)
    written = []
    for index in indices:
        values = traversal_values(model, index, options.steps, options.span)
        z_c = traverse_latents(loc_c, index, values)
        z_s = loc_s.unsqueeze(1).expand(-1, options.steps, -1)
        images = model.decode(z_c, z_s).flatten(0, 1)
        name = space.names[index]
        written.append(save_image_grid(
            images, out_dir / f"traverse-{file_label(name)}.png", nrow=options.steps,
            title=_sweep_title(space, name, options.span),
            row_labels=[f"test {n}" for n in range(x.shape[0])],
            col_labels=[f"{v:.2f}" for v in values.tolist()],
            xlabel=f"z_c[{name}]", ylabel="image (rest of z fixed)"))
    return written


def _sweep_title(space: Any, name: str, span: float) -> str:
    """The title of a one-latent sweep: which label the latent characterises, its two
    conditional-prior modes, and what --span adds beyond them."""
    if space.multiclass:
        off, on = f"not class {name}", f"class {name}"
    else:
        off, on = f"{name} off", f"{name} on"
    return (f"ccvae: z_c[{name}] swept from its prior mode for '{off}' to its mode for "
            f"'{on}', going {span:g} prior standard deviations beyond each (--span)")


def _traverse_pair(model: Any, loc_c: torch.Tensor, loc_s: torch.Tensor, indices: list[int],
                   out_dir: Path, options: InterventionOptions) -> list[Path]:
    a, b = indices
    names = model.label_space.names
    values_a = traversal_values(model, a, options.steps, options.span)
    values_b = traversal_values(model, b, options.steps, options.span)
    written = []
    for n in range(loc_c.shape[0]):
        rows = traverse_latents(loc_c[n:n + 1], a, values_a)[0]          # (S, L)
        grid = traverse_latents(rows, b, values_b)                         # (S, S, L)
        z_s = loc_s[n].expand(options.steps, options.steps, -1)
        images = model.decode(grid, z_s).flatten(0, 1)
        path = out_dir / f"traverse-{file_label(names[a])}-{file_label(names[b])}-test{n}.png"
        written.append(save_image_grid(
            images, path, nrow=options.steps,
            title=f"ccvae: test image {n}, z_c[{names[a]}] (rows) x z_c[{names[b]}] (columns)",
            row_labels=[f"{v:.2f}" for v in values_a.tolist()],
            col_labels=[f"{v:.2f}" for v in values_b.tolist()],
            xlabel=f"z_c[{names[b]}]", ylabel=f"z_c[{names[a]}]"))
    return written


@register("ccvae", "generate", uses=("num_images", "labels", "num_samples", "seed"))
@torch.no_grad()
def generate(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Rows: a chosen y (each asked class; or test images' attribute vectors with the asked
    attributes on); columns: z_c ~ p(z_c | y), z_s ~ N(0, I)."""
    model = run.model.eval()
    space = model.label_space
    torch.manual_seed(options.seed)
    if space.multiclass:
        indices = space.indices(options.labels)
        y = torch.tensor(indices, device=run.device)
        row_labels = [space.names[i] for i in indices]
    else:
        _, y = first_images(run, options)
        y = y.clone()
        for i in space.indices(options.labels) if options.labels else []:
            y[:, i] = 1.0
        row_labels = ["+".join(n for n, on in zip(space.names, row.tolist(), strict=True) if on)
                      or "(none)" for row in y]
        row_labels = [label if len(label) <= 30 else label[:27] + "..." for label in row_labels]
    rows, s = y.shape[0], options.num_samples
    y_rep = y.repeat_interleave(s, 0)
    images = model.decode(model.sample_characteristics(y_rep), model.sample_style(rows * s))
    return [save_image_grid(images, out_dir / "generate.png", nrow=s,
                            title="ccvae: conditional generation, z_c ~ p(z_c | y), "
                                  "z_s ~ N(0, I)",
                            row_labels=row_labels, col_labels=[str(k) for k in range(s)],
                            xlabel="sample", ylabel="y")]


@register("ccvae", "swap", uses=("num_images",))
@torch.no_grad()
def swap(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Cell (i, j): z_c of test image i with z_s of test image j; originals on the edges."""
    model = run.model.eval()
    x, _ = first_images(run, options)
    loc_c, _, loc_s, _ = model.encode(x)
    n = x.shape[0]
    cells = model.decode(loc_c.unsqueeze(1).expand(-1, n, -1),
                         loc_s.unsqueeze(0).expand(n, -1, -1))          # (n, n, C, H, W)
    images = swap_grid(x, x, cells)
    return [save_image_grid(images, out_dir / "swap.png", nrow=n + 1,
                            title="ccvae: characteristics z_c from the row image, "
                                  "style z_s from the column image",
                            row_labels=["z_s source"] + [f"z_c of test {i}" for i in range(n)],
                            col_labels=["z_c source"] + [f"z_s of test {j}" for j in range(n)],
                            xlabel="style from", ylabel="characteristics from")]


@register("ccvae", "flip", uses=("num_images", "labels", "seed"))
@torch.no_grad()
def flip(run: Any, out_dir: Path, options: InterventionOptions) -> list[Path]:
    """Rows: test images; columns: original, reconstruction, then each asked label
    intervened on (a class: y set to it; an attribute: y_i flipped), the changed
    characteristic latents resampled from the conditional prior."""
    model = run.model.eval()
    space = model.label_space
    torch.manual_seed(options.seed)
    x, y = first_images(run, options)
    loc_c, _, loc_s, _ = model.encode(x)
    columns = [x, model.decode(loc_c, loc_s)]
    col_labels = ["original", "reconstruction"]
    for index in space.indices(options.labels):
        if space.multiclass:
            target = torch.full_like(y, index)
            col_labels.append(f"y = {space.names[index]}")
        else:
            target = y.clone()
            target[:, index] = 1.0 - target[:, index]
            col_labels.append(f"flip {space.names[index]}")
        columns.append(model.decode(flip_characteristics(model, loc_c, y, target), loc_s))
    images = torch.stack(columns, 1).flatten(0, 1)
    return [save_image_grid(images, out_dir / "flip.png", nrow=len(columns),
                            title="ccvae: label interventions, changed z_c,i ~ p(z_c,i | new y)",
                            row_labels=[f"test {n}" for n in range(x.shape[0])],
                            col_labels=col_labels, xlabel="intervention", ylabel="image")]
