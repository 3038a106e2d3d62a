"""Images as PNG data URIs, written with zlib alone (no imaging library needed).

A report embeds thousands of small decoded frames; encoding each one as an 8-bit
greyscale or RGB PNG (filter type 0 on every row, one IDAT chunk) is fast and small,
and any browser decodes it.
"""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 3: 2}   # channels -> PNG colour type (0 greyscale, 2 RGB)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def to_bytes(image: np.ndarray) -> np.ndarray:
    """A (C, H, W) float image in [0, 1] as (H, W, C) uint8, rounded to the nearest level."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3 or image.shape[0] not in _COLOUR_TYPES:
        raise ValueError(f"expected a (1 or 3, H, W) image; got shape {image.shape}")
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8).transpose(1, 2, 0)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a (C, H, W) float image in [0, 1] (C = 1 or 3)."""
    pixels = to_bytes(image)
    height, width, channels = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           pixels.reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + _chunk(b"IEND", b""))


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """``data:MIME;base64,...`` of some bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_uri(image: np.ndarray) -> str:
    """The data URI of a (C, H, W) float image in [0, 1]."""
    return data_uri(encode_png(image))


def file_uri(path: str | Path) -> str:
    """The data URI of a PNG file."""
    return data_uri(Path(path).read_bytes())
