"""An independent image classifier: the judge of whether an intervention worked.

``train_image_classifier(dataset, labels)`` fits a small net (the project's
encoder for the image shape, conv for 28x28 and larger, MLP for 8x8, with 128
features and one linear head) on every labelled image of a training set:
cross-entropy for class targets, per-label binary cross-entropy for
attributes. It never sees a VAE; it is trained with its own seed (the global
RNG is left untouched) the first time a data set needs it, then reused:

- in memory for the process, and
- on disk when a ``cache_dir`` is given (``pyro-vaes evaluate`` passes the run
  directory's ``cache/``, or ``--judge-cache DIR`` to share one judge between
  runs on the same data): ``judge-<key>.pt``, read back with
  ``torch.load(weights_only=True)``.

The key is a SHA-256 digest of the training images' bytes, the labels, the
seed and every training setting, so a changed data set (or setting) never
reuses an old judge: it is retrained and the file replaced.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pyro_vaes.data import index_batches
from pyro_vaes.nets import conv_feature_side, make_encoder

_CACHE: dict[str, ImageClassifier] = {}
FORMAT = "pyro_vaes/judge/1"


def _judge_net(image_shape: tuple[int, int, int]) -> str:
    """Conv (32 and 64 channels) for square images of side >= 16 that halve at least twice,
    MLP otherwise: the judge keeps its own nets whatever the VAEs' defaults are."""
    _, height, width = image_shape
    return "conv" if height == width and height >= 16 and conv_feature_side(height)[0] >= 2 \
        else "mlp"


class ImageClassifier(nn.Module):
    """Images (B, C, H, W) -> logits over K classes, or L attribute logits."""

    def __init__(self, image_shape: tuple[int, int, int], outputs: int, multiclass: bool,
                 feature_dim: int = 128) -> None:
        super().__init__()
        self.multiclass = multiclass
        self.features = make_encoder(image_shape, feature_dim, net=_judge_net(image_shape),
                                     channels=32)
        self.head = nn.Linear(feature_dim, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Class indices (N,) or 0/1 attributes (N, L)."""
        self.eval()
        out = []
        for start in range(0, x.shape[0], batch_size):
            logits = self(x[start:start + batch_size])
            out.append(logits.argmax(-1) if self.multiclass else (logits > 0).float())
        return torch.cat(out)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (targets) or binary cross-entropy per label (attributes)."""
        logits = self(x)
        if self.multiclass:
            return F.cross_entropy(logits, y)
        return F.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(-1).mean()


def judge_key(dataset: Any, labels: torch.Tensor, settings: dict[str, Any]) -> str:
    """SHA-256 of the images, the labels and the training settings (hex)."""
    digest = hashlib.sha256()
    digest.update(repr((FORMAT, tuple(dataset.image_shape), tuple(labels.shape),
                        str(labels.dtype), sorted(settings.items()))).encode())
    digest.update(dataset.images.contiguous().numpy().tobytes())
    digest.update(labels.contiguous().numpy().tobytes())
    return digest.hexdigest()


def _load(path: Path, key: str, device: torch.device | str) -> ImageClassifier | None:
    """The judge stored at ``path`` if it is one for ``key``, else None."""
    if not path.is_file():
        return None
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(stored, dict) or stored.get("format") != FORMAT \
                or stored.get("key") != key:
            return None
        with torch.random.fork_rng(devices=[]):  # initialising the net draws random weights
            net = ImageClassifier(tuple(stored["image_shape"]), int(stored["outputs"]),
                                  bool(stored["multiclass"]))
        net.load_state_dict(stored["state_dict"])
    except Exception:  # a damaged or foreign file: train a new judge over it
        return None
    return net.to(device).eval()


def _save(path: Path, key: str, net: ImageClassifier, image_shape: tuple[int, ...],
          outputs: int) -> None:
    """Write the judge atomically (temporary file, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=".judge-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, "key": key, "image_shape": list(image_shape),
                        "outputs": outputs, "multiclass": net.multiclass,
                        "state_dict": state}, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def train_image_classifier(dataset: Any, labels: torch.Tensor, *, seed: int = 0,
                           min_steps: int = 800, min_epochs: int = 3, batch_size: int = 128,
                           lr: float = 1e-3, device: torch.device | str = "cpu",
                           cache_dir: str | Path | None = None) -> ImageClassifier:
    """Fit (or fetch from this process's memory or from ``cache_dir``) the judge of
    ``labels`` for ``dataset``.

    ``labels``: class indices (N,) or 0/1 attributes (N, L) of the images. Trains for
    at least ``min_epochs`` epochs and ``min_steps`` Adam steps.
    """
    settings = {"seed": seed, "min_steps": min_steps, "min_epochs": min_epochs,
                "batch_size": batch_size, "lr": lr}
    key = judge_key(dataset, labels, settings)
    if key in _CACHE:
        return _CACHE[key].to(device)
    path = Path(cache_dir) / f"judge-{key[:16]}.pt" if cache_dir is not None else None
    net = _load(path, key, device) if path is not None else None
    if net is not None:
        _CACHE[key] = net
        return net
    multiclass = labels.dim() == 1
    outputs = int(labels.max()) + 1 if multiclass else int(labels.shape[1])
    if multiclass and dataset.class_names:
        outputs = len(dataset.class_names)
    steps_per_epoch = math.ceil(len(dataset) / batch_size)
    epochs = max(min_epochs, math.ceil(min_steps / steps_per_epoch))
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        net = ImageClassifier(dataset.image_shape, outputs, multiclass).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        generator = torch.Generator().manual_seed(seed)
        net.train()
        for _ in range(epochs):
            for idx in index_batches(len(dataset), batch_size, shuffle=True,
                                     generator=generator):
                loss = net.loss(dataset.pixels(idx).to(device), labels[idx].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    net.eval()
    _CACHE[key] = net
    if path is not None:
        _save(path, key, net, tuple(dataset.image_shape), outputs)
    return net


def label_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy per label: (1,) for class indices (N,), (L,) for attributes (N, L)."""
    hits = (predicted.long() == labels.long()).float()
    return hits.mean(0, keepdim=hits.dim() == 1).reshape(-1)
