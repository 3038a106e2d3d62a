"""Reading one IDX file (the MNIST file format), plain or gzip-compressed."""

from __future__ import annotations

import gzip
import os
import zlib

import torch

from pyro_vaes.errors import DataError

_UINT8 = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_KIND = {1: "uint8 labels", 3: "uint8 images"}
DEFAULT_FIX = "re-install the data set or point --data-root at a directory with intact IDX files"


def _read_bytes(path: str, fix: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; {fix}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err}); {fix}") from None
    if not (path.endswith(".gz") or raw[:2] == _GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        reason = str(err).replace("\n", " ") or type(err).__name__
        raise DataError(f"{path}: corrupt gzip data ({reason}); {fix}") from None


def _expected_magic(ndim: int | None) -> str:
    if ndim is None:
        return "0x000008NN for uint8 data with NN dimensions"
    return f"0x{(_UINT8 << 8) | ndim:08X} for {_KIND.get(ndim, f'{ndim}-d uint8 data')}"


def read_idx(path: str, *, ndim: int | None = None, fix: str = DEFAULT_FIX) -> torch.Tensor:
    """Read one IDX file of uint8 data (``.gz`` or plain) into a uint8 tensor.

    ``ndim``, when given, is the number of dimensions the file must have;
    ``fix`` is the advice appended to every error message.
    """
    path = os.fspath(path)
    raw = _read_bytes(path, fix)
    if len(raw) < 4:
        raise DataError(f"{path}: truncated, only {len(raw)} bytes, no IDX header; {fix}")
    magic = int.from_bytes(raw[:4], "big")
    dtype, dims = raw[2], raw[3]
    if raw[:2] != b"\0\0" or dtype != _UINT8 or dims == 0 or (ndim is not None and dims != ndim):
        raise DataError(
            f"{path}: bad IDX magic 0x{magic:08X} (expected {_expected_magic(ndim)}); "
            f"the file is not such an IDX file, {fix}"
        )
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(
            f"{path}: truncated, expected a {header}-byte header, found {len(raw)} bytes; {fix}"
        )
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    expected = 1
    for size in shape:
        expected *= size
    found = len(raw) - header
    if found < expected:
        raise DataError(
            f"{path}: truncated, expected {expected} bytes of data, found {found}; {fix}"
        )
    if found > expected:
        raise DataError(
            f"{path}: {found - expected} trailing bytes after the {expected} bytes of data "
            f"of shape {tuple(shape)}; {fix}"
        )
    if expected == 0:
        return torch.zeros(shape, dtype=torch.uint8)
    data = torch.frombuffer(bytearray(memoryview(raw)[header:]), dtype=torch.uint8)
    return data.reshape(shape)
