"""Fully connected encoder and decoder for small images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Sequential):
    """Linear layers with ReLU between them (and after the last if ``final_activation``)."""

    def __init__(self, sizes: Sequence[int], final_activation: bool = False) -> None:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2 or final_activation:
                layers.append(nn.ReLU())
        super().__init__(*layers)


class MLPEncoder(nn.Module):
    """Flattens an image batch (B, C, H, W) into features (B, feature_dim)."""

    def __init__(self, image_shape: Sequence[int], feature_dim: int = 256,
                 hidden_dim: int = 256) -> None:
        super().__init__()
        pixels = int(torch.tensor(image_shape).prod())
        self.feature_dim = feature_dim
        self.net = MLP([pixels, hidden_dim, feature_dim], final_activation=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(-3))


class MLPDecoder(nn.Module):
    """Maps latents (..., latent_dim) to per-pixel parameters (..., C, H, W)."""

    def __init__(self, latent_dim: int, image_shape: Sequence[int], hidden_dim: int = 256) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        pixels = int(torch.tensor(self.image_shape).prod())
        self.net = MLP([latent_dim, hidden_dim, hidden_dim, pixels])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)
        return out.reshape(*z.shape[:-1], *self.image_shape)
