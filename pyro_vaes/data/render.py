"""Deterministic, vectorised rendering of simple 2-D shapes (square, ellipse, heart).

Units (all in canvas fractions, so the same values work at any ``size``):

* ``shape``: 0 square, 1 ellipse, 2 heart (``SHAPE_NAMES``).
* ``scale``: size multiplier; at 1.0 the square's side is 0.34 of the canvas,
  the ellipse's semi-axes are 0.24 and 0.12, the heart is 0.33 wide and 0.41 tall; every
  shape then fits in a circle of radius 0.24.
* ``rotation``: radians, counter-clockwise as seen on the image.
* ``pos_x``, ``pos_y``: in [0, 1]; the shape's centre lies at
  ``0.25 + 0.5 * pos`` of the canvas width (x, left to right) or height
  (y, top to bottom), so shapes at scale <= 1 stay inside the canvas.

A pixel is on (255) when its centre lies inside the shape, off (0) otherwise:
no randomness and no anti-aliasing.
"""

from __future__ import annotations

import math

import torch

SHAPE_NAMES = ["square", "ellipse", "heart"]
SYMMETRY_PERIOD = [math.pi / 2, math.pi, 2 * math.pi]
_SQUARE_HALF = 0.17
_ELLIPSE_AXES = (0.24, 0.12)
_HEART_UNIT = 0.165  # canvas fraction per unit of the implicit heart curve
_HEART_SHIFT = 0.255  # moves the curve's bounding-box centre to the origin
_RADIUS = 0.245  # every shape at scale 1 lies within this distance of its centre
_CHUNK_PIXELS = 1 << 23  # evaluated pixels per chunk (about 32 MB per float temporary)


def _inside(kind: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Membership of unit-shape coordinates (already scaled per shape kind)."""
    if kind == 0:
        return torch.maximum(x.abs_(), y.abs_()) <= 1.0
    if kind == 1:
        return x.mul_(x).addcmul_(y, y) <= 1.0
    # Heart: x^2 + (y - |x|^(2/3))^2 <= 1 (cleft at the top, tip at the bottom).
    y = y.sub_(x.abs().pow_(2.0 / 3.0))
    return x.mul_(x).addcmul_(y, y) <= 1.0


def _unit(kind: int) -> tuple[float, float]:
    """Canvas-fraction size of one unit along the shape's own x and y axes."""
    if kind == 0:
        return _SQUARE_HALF, _SQUARE_HALF
    if kind == 1:
        return _ELLIPSE_AXES
    return _HEART_UNIT, _HEART_UNIT


def _window(centre: torch.Tensor, width: int, size: int) -> torch.Tensor:
    """Pixel indices (B, width) of a window around each centre (canvas fraction), on the canvas."""
    start = torch.floor(centre * size - width / 2).to(torch.long).clamp_(0, size - width)
    return start[:, None] + torch.arange(width)[None, :]


def _render_kind(
    kind: int,
    scale: torch.Tensor,
    rotation: torch.Tensor,
    pos_x: torch.Tensor,
    pos_y: torch.Tensor,
    out: torch.Tensor,
    images: torch.Tensor,
    width: int,
) -> None:
    """Render shapes of one kind into ``out[images, 0]`` (zeros before) as 0/255.

    Only a ``width`` square window around each shape is evaluated and written.
    """
    size = out.shape[-1]
    centre_x, centre_y = 0.25 + 0.5 * pos_x, 0.25 + 0.5 * pos_y
    cols, rows = _window(centre_x, width, size), _window(centre_y, width, size)
    dx = (cols.to(torch.float32) + 0.5) / size - centre_x[:, None]  # (B, W) along columns
    dy = centre_y[:, None] - (rows.to(torch.float32) + 0.5) / size  # (B, W) rows, pointing up
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    ux, uy = _unit(kind)
    sx, sy = (scale * ux)[:, None], (scale * uy)[:, None]
    shift = _HEART_SHIFT if kind == 2 else 0.0
    # Rotate pixel offsets back by -rotation, then divide by the shape's unit size.
    x = (cos[:, None] / sx * dx)[:, None, :] + (sin[:, None] / sx * dy)[:, :, None]
    y = (-sin[:, None] / sy * dx)[:, None, :] + (cos[:, None] / sy * dy + shift)[:, :, None]
    inside = _inside(kind, x, y).to(torch.uint8).mul_(255)
    out[images[:, None, None], 0, rows[:, :, None], cols[:, None, :]] = inside


def render_shapes(
    shape: torch.Tensor,
    scale: torch.Tensor,
    rotation: torch.Tensor,
    pos_x: torch.Tensor,
    pos_y: torch.Tensor,
    *,
    size: int = 64,
) -> torch.Tensor:
    """Render N shapes (units in the module docstring) as uint8 (N, 1, size, size) in {0, 255}."""
    shape = torch.as_tensor(shape, dtype=torch.long).reshape(-1)
    params = [
        torch.as_tensor(v, dtype=torch.float32).reshape(-1).expand(shape.shape[0])
        for v in (scale, rotation, pos_x, pos_y)
    ]
    if shape.numel() and (int(shape.min()) < 0 or int(shape.max()) >= len(SHAPE_NAMES)):
        raise ValueError(f"shape index must be in 0..{len(SHAPE_NAMES) - 1}")
    if shape.numel() and float(params[0].min()) <= 0.0:
        raise ValueError("scale must be positive")
    out = torch.zeros((shape.shape[0], 1, size, size), dtype=torch.uint8)
    if not shape.numel():
        return out
    # Every shape lies inside a circle of radius _RADIUS * scale: evaluate only that window.
    width = min(size, math.ceil(2 * _RADIUS * float(params[0].max()) * size) + 2)
    chunk = max(1, _CHUNK_PIXELS // (width * width))
    for kind in range(len(SHAPE_NAMES)):
        where = torch.nonzero(shape == kind).reshape(-1)
        for start in range(0, where.numel(), chunk):
            rows = where[start : start + chunk]
            _render_kind(kind, *(p[rows] for p in params), out, rows, width)
    return out
