"""Resizing images: PIL images for the file loaders, uint8 tensors for in-memory sets."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pyro_vaes.errors import ConfigError


def check_image_size(image_size: int | None) -> None:
    """Reject an ``image_size`` below 2 pixels."""
    if image_size is not None and image_size < 2:
        raise ConfigError(
            f"--image-size {image_size}: must be at least 2 pixels; give a larger size"
        )


def crop_resize(image: Image.Image, size: int, crop: int | None = None) -> torch.Tensor:
    """Centre-crop a PIL image to a square and resize it to ``size``; uint8 (3, size, size).

    The square side is ``crop`` (capped at the image's shorter side) or the
    shorter side when ``crop`` is None.
    """
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height) if crop is None else min(crop, width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != size:
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def resize_images(images: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Resize uint8 images (N, C, H, W) to (N, C, size, size) with antialiased bilinear."""
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        block = images[start : start + chunk].to(torch.float32)
        block = F.interpolate(
            block, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        out[start : start + chunk] = block.round_().clamp_(0, 255).to(torch.uint8)
    return out
