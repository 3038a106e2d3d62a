"""Build the encoder and decoder a model's options name (``--net``, ``--hidden-dim``,
``--channels``)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from pyro_vaes.choices import DEFAULT_CHANNELS, NETS
from pyro_vaes.descriptions import NET_DESCRIPTIONS  # noqa: F401 (exported)
from pyro_vaes.errors import ConfigError
from pyro_vaes.nets.conv import (
    ConvDecoder,
    ConvEncoder,
    conv_supported,
)
from pyro_vaes.nets.mlp import MLPDecoder, MLPEncoder


def default_net(image_shape: Sequence[int]) -> str:
    """The net used when none is named: conv wherever it can take the image (square, side
    even and at least 8), MLP otherwise.

    Measured (docs/benchmarks.md, "Nets"): on Fashion-MNIST the conv nets reach a 10
    nats better test ELBO and 8 points better accuracy than the MLP after 3 CCVAE
    epochs, at twice the step time; on the 8x8 digits they gain 3-5 nats for the VAE
    and 1.6 for the ML-VAE and are within 0.2 nats (1 %) of the MLP for M2, the CCVAE
    and the class-related VAE, at 0.1-0.25 s an epoch either way.
    """
    return "conv" if conv_supported(image_shape) else "mlp"


def uses_convolutions(image_shape: Sequence[int]) -> bool:
    """True when the default net for this image shape is convolutional."""
    return default_net(image_shape) == "conv"


def check_net(net: str | None, image_shape: Sequence[int]) -> None:
    """Refuse a net that cannot take this image shape, naming the fix."""
    if net is not None and net not in NETS:
        raise ConfigError(f"--net {net!r} is not valid; choose one of: {', '.join(NETS)}")
    if net == "conv" and not conv_supported(image_shape):
        c, h, w = (int(s) for s in image_shape)
        raise ConfigError(f"--net conv needs square images whose side is even and at least 8, "
                          f"got {h}x{w}; use --net mlp (or --image-size with an even side)")


def make_encoder(image_shape: Sequence[int], feature_dim: int = 256, *, net: str | None = None,
                 channels: int = DEFAULT_CHANNELS) -> nn.Module:
    """An encoder from images (..., C, H, W) to features (..., feature_dim)."""
    net = net or default_net(image_shape)
    check_net(net, image_shape)
    if net == "conv":
        return ConvEncoder(image_shape, feature_dim, channels)
    return MLPEncoder(image_shape, feature_dim, hidden_dim=feature_dim)


def make_decoder(latent_dim: int, image_shape: Sequence[int], hidden_dim: int = 256, *,
                 net: str | None = None, channels: int = DEFAULT_CHANNELS) -> nn.Module:
    """A decoder from latents (..., latent_dim) to per-pixel parameters (..., C, H, W)."""
    net = net or default_net(image_shape)
    check_net(net, image_shape)
    if net == "conv":
        return ConvDecoder(latent_dim, image_shape, hidden_dim, channels)
    return MLPDecoder(latent_dim, image_shape, hidden_dim)
