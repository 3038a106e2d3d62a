"""Convolutional encoder and decoder for square images of side 16, 28, 32 or 64."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def conv_feature_side(side: int) -> tuple[int, int]:
    """Return (number of stride-2 layers, side of the last feature map) for an image side.

    The side is halved while it is even and larger than 7: 28 -> 7 (2 layers),
    32 -> 4 (3 layers), 64 -> 4 (4 layers).
    """
    layers = 0
    while side % 2 == 0 and side > 7:
        side //= 2
        layers += 1
    return layers, side


def _channels(layers: int) -> list[int]:
    return [32 if i < layers // 2 else 64 for i in range(layers)]


class ConvEncoder(nn.Module):
    """Stride-2 4x4 convolutions, then a linear layer to ``feature_dim`` features."""

    def __init__(self, image_shape: Sequence[int], feature_dim: int = 256) -> None:
        super().__init__()
        channels, side = int(image_shape[0]), int(image_shape[1])
        layers, last = conv_feature_side(side)
        widths = _channels(layers)
        blocks: list[nn.Module] = []
        for c_in, c_out in zip([channels, *widths[:-1]], widths, strict=True):
            blocks += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
        self.feature_dim = feature_dim
        self.net = nn.Sequential(*blocks, nn.Flatten(),
                                 nn.Linear(widths[-1] * last * last, feature_dim), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[:-3]
        return self.net(x.reshape(-1, *x.shape[-3:])).reshape(*batch, self.feature_dim)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: linear layers, then stride-2 transposed convolutions."""

    def __init__(self, latent_dim: int, image_shape: Sequence[int], hidden_dim: int = 256) -> None:
        super().__init__()
        channels, side = int(image_shape[0]), int(image_shape[1])
        self.image_shape = (channels, side, side)
        layers, last = conv_feature_side(side)
        widths = list(reversed(_channels(layers)))
        blocks: list[nn.Module] = [
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, widths[0] * last * last), nn.ReLU(),
            nn.Unflatten(1, (widths[0], last, last)),
        ]
        outs = [*widths[1:], channels]
        for i, (c_in, c_out) in enumerate(zip(widths, outs, strict=True)):
            blocks.append(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1))
            if i < len(outs) - 1:
                blocks.append(nn.ReLU())
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch = z.shape[:-1]
        return self.net(z.reshape(-1, z.shape[-1])).reshape(*batch, *self.image_shape)
