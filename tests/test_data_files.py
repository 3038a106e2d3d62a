"""CelebA and image-folder sets read from tiny trees of images written in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError, DataError

ATTRS = ["Bald", "Smiling", "Young"]
# 7 images: official partition 3 train, 2 valid, 2 test.
PARTITION = [0, 0, 0, 1, 1, 2, 2]
COLOURS = [
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (128, 128, 128),
]  # fmt: skip


def write_celeba(root: Path) -> Path:
    base = root / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(PARTITION))]
    for name, colour in zip(names, COLOURS, strict=True):
        Image.new("RGB", (30, 40), colour).save(base / "img_align_celeba" / name, quality=95)
    attr_rows = [
        f"{name} " + " ".join(" 1" if (i >> k) & 1 else "-1" for k in range(len(ATTRS)))
        for i, name in enumerate(names)
    ]
    text = {
        "list_attr_celeba.txt": [str(len(names)), " ".join(ATTRS) + " ", *attr_rows],
        "list_eval_partition.txt": [f"{n} {p}" for n, p in zip(names, PARTITION, strict=True)],
        "identity_CelebA.txt": [f"{n} {100 + i}" for i, n in enumerate(names)],
        "list_bbox_celeba.txt": [
            str(len(names)),
            "image_id x_1 y_1 width height",
            *[f"{n}    95   71  226  313" for n in names],
        ],
        "list_landmarks_align_celeba.txt": [
            str(len(names)),
            "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y "
            "rightmouth_x rightmouth_y",
            *[f"{n} 69 109 106 113 77 142 73 152 108 154" for n in names],
        ],
    }
    for filename, lines in text.items():
        (base / filename).write_text("\n".join(lines) + "\n")
    return root


def test_celeba_tiny_tree(tmp_path: Path) -> None:
    root = write_celeba(tmp_path)
    splits = load_dataset("celeba", str(root), image_size=16)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (3, 2, 2)
    assert splits.image_shape == (3, 16, 16)
    assert splits.attribute_names == ATTRS
    assert splits.num_classes is None and splits.train.targets is None
    attrs = torch.cat([p.attributes for p in (splits.train, splits.val, splits.test)])
    assert attrs.dtype == torch.float32
    expected = torch.tensor([[(i >> k) & 1 for k in range(3)] for i in range(7)]).float()
    assert torch.equal(attrs, expected)
    images = torch.cat([p.images for p in (splits.train, splits.val, splits.test)])
    assert images.dtype == torch.uint8
    colours = images.float().mean(dim=(2, 3))
    assert torch.allclose(colours, torch.tensor(COLOURS).float(), atol=6)
    # the CelebA directory itself is accepted too; max_train limits the train part
    direct = load_dataset("celeba", str(root / "celeba"), max_train=2)
    assert len(direct.train) == 2 and direct.image_shape == (3, 64, 64)


def test_celeba_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data-root"):
        load_dataset("celeba")
    root = write_celeba(tmp_path)
    os.remove(root / "celeba" / "list_bbox_celeba.txt")
    with pytest.raises(DataError, match="list_bbox_celeba.txt") as err:
        load_dataset("celeba", str(root))
    assert "\n" not in str(err.value)
    (root / "celeba" / "list_bbox_celeba.txt").write_text("7\nimage_id x\n000001.jpg abc\n")
    with pytest.raises(DataError, match="unreadable") as err:
        load_dataset("celeba", str(root))
    assert "\n" not in str(err.value)


def test_celeba_missing_image(tmp_path: Path) -> None:
    root = write_celeba(tmp_path)
    path = root / "celeba" / "img_align_celeba" / "000006.jpg"
    os.remove(path)
    with pytest.raises(DataError) as err:
        load_dataset("celeba", str(root))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def write_folder(root: Path) -> Path:
    classes = [("cat", (200, 30, 30), 6, (20, 12)), ("dog", (30, 30, 200), 4, (9, 15))]
    for cls, colour, count, size in classes:
        (root / cls).mkdir(parents=True)
        for i in range(count):
            ext = "png" if i % 2 else "jpg"
            Image.new("RGB", size, colour).save(root / cls / f"{i}.{ext}")
    return root


def test_image_folder(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "pets")
    splits = load_dataset("image-folder", str(root), seed=0)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 1, 1)
    assert splits.class_names == ["cat", "dog"]
    assert splits.image_shape == (3, 64, 64)
    assert torch.equal(torch.bincount(splits.train.targets, minlength=2), torch.tensor([5, 3]))
    for part in (splits.train, splits.val, splits.test):
        red = part.images[:, 0].float().mean(dim=(1, 2)) > part.images[:, 2].float().mean(
            dim=(1, 2)
        )
        assert torch.equal(red, part.targets == 0)
    small = load_dataset("image-folder", str(root), image_size=8, max_train=4)
    assert len(small.train) == 4 and small.image_shape == (3, 8, 8)
    assert torch.equal(torch.bincount(small.train.targets, minlength=2), torch.tensor([2, 2]))


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data-root"):
        load_dataset("image-folder")
    missing = tmp_path / "missing"
    with pytest.raises(DataError, match="not found") as err:
        load_dataset("image-folder", str(missing))
    assert str(missing) in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as err:
        load_dataset("image-folder", str(empty))
    assert str(empty) in str(err.value) and "\n" not in str(err.value)
    root = write_folder(tmp_path / "broken")
    bad = root / "cat" / "9.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(DataError) as err:
        load_dataset("image-folder", str(root))
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
