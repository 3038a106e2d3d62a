"""Choose a net from the image shape."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from pyro_vaes.nets.conv import ConvDecoder, ConvEncoder, conv_feature_side
from pyro_vaes.nets.mlp import MLPDecoder, MLPEncoder


def uses_convolutions(image_shape: Sequence[int]) -> bool:
    """True for square images of side >= 16 that halve at least twice (16, 28, 32, 64, ...)."""
    _, height, width = (int(s) for s in image_shape)
    layers, _ = conv_feature_side(height)
    return height == width and height >= 16 and layers >= 2


def make_encoder(image_shape: Sequence[int], feature_dim: int = 256) -> nn.Module:
    """An encoder from images (..., C, H, W) to features (..., feature_dim)."""
    if uses_convolutions(image_shape):
        return ConvEncoder(image_shape, feature_dim)
    return MLPEncoder(image_shape, feature_dim, hidden_dim=feature_dim)


def make_decoder(latent_dim: int, image_shape: Sequence[int], hidden_dim: int = 256) -> nn.Module:
    """A decoder from latents (..., latent_dim) to per-pixel parameters (..., C, H, W)."""
    if uses_convolutions(image_shape):
        return ConvDecoder(latent_dim, image_shape, hidden_dim)
    return MLPDecoder(latent_dim, image_shape, hidden_dim)
