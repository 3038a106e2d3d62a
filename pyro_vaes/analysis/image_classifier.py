"""An independent image classifier: the judge of whether an intervention worked.

``train_image_classifier(dataset, labels)`` fits a small net (the project's
encoder for the image shape, conv for 28x28 and larger, MLP for 8x8, with 128
features and one linear head) on every labelled image of a training set:
cross-entropy for class targets, per-label binary cross-entropy for
attributes. It never sees a VAE; it is trained at evaluation time with its own
seed (the global RNG is left untouched) and kept in memory for the process,
keyed by the data, so one benchmark run trains it once per data set.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pyro_vaes.data import index_batches
from pyro_vaes.nets import conv_feature_side, make_encoder

_CACHE: dict[tuple[Any, ...], ImageClassifier] = {}


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


def _key(dataset: Any, labels: torch.Tensor, seed: int) -> tuple[Any, ...]:
    return (dataset.name, len(dataset), dataset.image_shape, tuple(labels.shape), seed,
            int(dataset.images[:, :, ::4, ::4].sum()), float(labels.float().sum()))


def train_image_classifier(dataset: Any, labels: torch.Tensor, *, seed: int = 0,
                           min_steps: int = 800, min_epochs: int = 3, batch_size: int = 128,
                           lr: float = 1e-3,
                           device: torch.device | str = "cpu") -> ImageClassifier:
    """Fit (or fetch from this process's cache) the judge of ``labels`` for ``dataset``.

    ``labels``: class indices (N,) or 0/1 attributes (N, L) of the images. Trains for
    at least ``min_epochs`` epochs and ``min_steps`` Adam steps.
    """
    key = _key(dataset, labels, seed)
    if key in _CACHE:
        return _CACHE[key].to(device)
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
    return net


def label_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy per label: (1,) for class indices (N,), (L,) for attributes (N, L)."""
    hits = (predicted.long() == labels.long()).float()
    return hits.mean(0, keepdim=hits.dim() == 1).reshape(-1)
