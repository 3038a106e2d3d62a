"""IDX files and IDX directory data sets (tiny files in tmp_path, real Fashion-MNIST)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
import torch

from pyro_vaes.data import load_dataset, read_idx
from pyro_vaes.errors import ConfigError, DataError

FASHION = "/usr/share/datasets/fashion-mnist"


def idx_bytes(data: torch.Tensor) -> bytes:
    """Encode a uint8 tensor as an IDX file."""
    header = bytes([0, 0, 0x08, data.dim()])
    header += b"".join(int(s).to_bytes(4, "big") for s in data.shape)
    return header + data.contiguous().numpy().tobytes()


def write_idx(path: Path, data: torch.Tensor) -> Path:
    raw = idx_bytes(data)
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)
    return path


def write_idx_dir(root: Path, n_train: int = 30, n_test: int = 12, gz: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    ext = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 4, 5), dtype=torch.uint8, generator=gen)
        labels = (torch.arange(n) % 3).to(torch.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def assert_one_line(err: pytest.ExceptionInfo, *names: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_read_idx_round_trip(tmp_path: Path, name: str) -> None:
    data = torch.randint(0, 256, (7, 3, 2), dtype=torch.uint8)
    out = read_idx(write_idx(tmp_path / name, data))
    assert out.dtype == torch.uint8
    assert torch.equal(out, data)


def test_read_idx_any_dims(tmp_path: Path) -> None:
    data = torch.arange(2 * 3 * 4 * 5, dtype=torch.int64).remainder(256).to(torch.uint8)
    data = data.reshape(2, 3, 4, 5)
    assert torch.equal(read_idx(write_idx(tmp_path / "four", data)), data)
    labels = torch.tensor([1, 2, 3], dtype=torch.uint8)
    assert torch.equal(read_idx(write_idx(tmp_path / "one.gz", labels)), labels)


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\0" * 64))
    with pytest.raises(DataError, match="bad IDX magic 0x00000000") as err:
        read_idx(path, ndim=3)
    assert_one_line(err, str(path), "0x00000803")


def test_wrong_dims_is_bad_magic(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "labels", torch.zeros(4, dtype=torch.uint8))
    with pytest.raises(DataError, match="bad IDX magic 0x00000801") as err:
        read_idx(path, ndim=3)
    assert_one_line(err, str(path))


def test_truncated_payload(tmp_path: Path) -> None:
    raw = idx_bytes(torch.zeros(5, 4, 4, dtype=torch.uint8))
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(raw[:-10])
    with pytest.raises(DataError, match="truncated, expected 80 bytes of data, found 70") as err:
        read_idx(path)
    assert_one_line(err, str(path))


def test_truncated_header_and_trailing_bytes(tmp_path: Path) -> None:
    short = tmp_path / "tiny"
    short.write_bytes(b"\0\0")
    with pytest.raises(DataError, match="truncated") as err:
        read_idx(short)
    assert_one_line(err, str(short))
    long = tmp_path / "long"
    long.write_bytes(idx_bytes(torch.zeros(3, dtype=torch.uint8)) + b"xx")
    with pytest.raises(DataError, match="trailing bytes") as err:
        read_idx(long)
    assert_one_line(err, str(long))


def test_corrupt_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(idx_bytes(torch.zeros(50, 8, 8, dtype=torch.uint8)))
    path = tmp_path / "bad.gz"
    path.write_bytes(packed[:20])
    with pytest.raises(DataError, match="corrupt gzip") as err:
        read_idx(path)
    assert_one_line(err, str(path))
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8b" + b"\xff" * 40)
    with pytest.raises(DataError, match="corrupt gzip") as err:
        read_idx(garbage)
    assert_one_line(err, str(garbage))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here"
    with pytest.raises(DataError, match="not found") as err:
        read_idx(path)
    assert_one_line(err, str(path))


def test_idx_directory(tmp_path: Path) -> None:
    root = write_idx_dir(tmp_path / "idx")
    splits = load_dataset("idx", str(root), seed=1)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (27, 3, 12)
    assert splits.image_shape == (1, 4, 5)
    assert splits.class_names == [str(k) for k in range(10)]
    assert splits.train.images.dtype == torch.uint8
    assert splits.train.targets is not None and splits.train.targets.dtype == torch.int64
    assert torch.equal(torch.bincount(splits.val.targets), torch.tensor([1, 1, 1]))
    again = load_dataset("idx", str(root), seed=1)
    assert torch.equal(again.train.images, splits.train.images)
    other = load_dataset("mnist", str(root), seed=2, max_train=9, image_size=8)
    assert len(other.train) == 9 and other.image_shape == (1, 8, 8)
    assert torch.equal(torch.bincount(other.train.targets), torch.tensor([3, 3, 3]))


def test_idx_directory_plain_files(tmp_path: Path) -> None:
    root = write_idx_dir(tmp_path / "plain", gz=False)
    assert len(load_dataset("idx", str(root)).test) == 12


def test_missing_directory_and_files(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist") as err:
        load_dataset("fashion-mnist", str(missing))
    assert_one_line(err, str(missing))
    root = write_idx_dir(tmp_path / "part")
    os.remove(root / "t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte") as err:
        load_dataset("idx", str(root))
    assert_one_line(err, str(root), "--data-root")


def test_label_count_mismatch(tmp_path: Path) -> None:
    root = write_idx_dir(tmp_path / "mismatch")
    labels = root / "train-labels-idx1-ubyte"
    write_idx(labels, torch.zeros(29, dtype=torch.uint8))
    with pytest.raises(DataError, match="29 labels") as err:
        load_dataset("idx", str(root))
    assert_one_line(err, str(labels), str(root / "train-images-idx3-ubyte.gz"))


def test_mnist_needs_root() -> None:
    with pytest.raises(ConfigError, match="--data mnist needs --data-root DIR"):
        load_dataset("mnist")


@pytest.mark.skipif(not os.path.isdir(FASHION), reason=f"{FASHION} is not installed")
def test_fashion_mnist_real_files() -> None:
    splits = load_dataset("fashion-mnist")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (55000, 5000, 10000)
    assert splits.image_shape == (1, 28, 28)
    assert splits.num_classes == 10
    assert splits.class_names is not None and splits.class_names[0] == "T-shirt/top"
    assert splits.class_names[-1] == "Ankle boot"
    assert torch.equal(torch.bincount(splits.val.targets), torch.full((10,), 500))
    assert int(splits.test.images.max()) == 255
