"""Convolutional encoder and decoder for square images whose side halves at least once.

The encoder halves the side with stride-2 4x4 convolutions while it is even and
larger than 7 (28 -> 14 -> 7, 32 -> 16 -> 8 -> 4, 64 -> ... -> 4, 8 -> 4), then a
linear layer gives ``feature_dim`` features. The decoder mirrors it. ``channels``
is the width of the first convolution; the second half of the layers has twice
as many (``channels=32`` on 28x28: 32 and 64 channels).

Cost on the CPU (docs/benchmarks.md, "Convolutional nets"): feature maps are kept
channels-last (NHWC), which oneDNN's convolutions run faster, and the decoder's
last layer, which maps to the image's few channels, is a sub-pixel convolution (a
2x2 convolution to 4x the channels, then ``pixel_shuffle``) instead of a
transposed convolution: the same upsampling by two, at half the forward cost for
one output channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pyro_vaes.choices import DEFAULT_CHANNELS


def conv_feature_side(side: int) -> tuple[int, int]:
    """Return (number of stride-2 layers, side of the last feature map) for an image side.

    The side is halved while it is even and larger than 7: 28 -> 7 (2 layers),
    32 -> 4 (3 layers), 64 -> 4 (4 layers), 8 -> 4 (1 layer), 7 -> 7 (none).
    """
    layers = 0
    while side % 2 == 0 and side > 7:
        side //= 2
        layers += 1
    return layers, side


def conv_supported(image_shape: Sequence[int]) -> bool:
    """True for square images whose side halves at least once (8, 16, 28, 32, 64, ...)."""
    _, height, width = (int(s) for s in image_shape)
    return height == width and conv_feature_side(height)[0] >= 1


def conv_widths(layers: int, channels: int = DEFAULT_CHANNELS) -> list[int]:
    """Channels of each stride-2 layer: ``channels`` for the first half, twice that after."""
    return [channels if i < layers // 2 else 2 * channels for i in range(layers)]


class SubPixelConv(nn.Module):
    """Doubles the side: a 2x2 convolution (padded right and bottom) to ``4 * out_channels``
    channels, then ``pixel_shuffle(2)``; each output 2x2 block sees a 2x2 input window."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(F.pad(x, (0, 1, 0, 1))), 2)


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


class ConvEncoder(nn.Module):
    """Stride-2 4x4 convolutions, then a linear layer to ``feature_dim`` features."""

    def __init__(self, image_shape: Sequence[int], feature_dim: int = 256,
                 channels: int = DEFAULT_CHANNELS) -> None:
        super().__init__()
        in_channels, side = int(image_shape[0]), int(image_shape[1])
        layers, last = conv_feature_side(side)
        widths = conv_widths(layers, channels)
        blocks: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True):
            blocks += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
        self.feature_dim = feature_dim
        self.net = nn.Sequential(*blocks, nn.Flatten(),
                                 nn.Linear(widths[-1] * last * last, feature_dim), nn.ReLU())
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[:-3]
        x = _channels_last(x.reshape(-1, *x.shape[-3:]))
        return self.net(x).reshape(*batch, self.feature_dim)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: linear layers, stride-2 4x4 transposed convolutions,
    and a :class:`SubPixelConv` to the image's channels.

    Any number of leading batch dimensions (e.g. the enumerated classes of M2 in
    front of the data) go through the net as one flat batch, in one call.
    """

    def __init__(self, latent_dim: int, image_shape: Sequence[int], hidden_dim: int = 256,
                 channels: int = DEFAULT_CHANNELS) -> None:
        super().__init__()
        out_channels, side = int(image_shape[0]), int(image_shape[1])
        self.image_shape = (out_channels, side, side)
        layers, last = conv_feature_side(side)
        widths = list(reversed(conv_widths(layers, channels)))
        blocks: list[nn.Module] = [
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, widths[0] * last * last), nn.ReLU(),
            nn.Unflatten(1, (widths[0], last, last)),
        ]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            blocks += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
        blocks.append(SubPixelConv(widths[-1], out_channels))
        self.net = nn.Sequential(*blocks)
        self.to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch = z.shape[:-1]
        hidden = self.net[:5](z.reshape(-1, z.shape[-1]))
        out = self.net[5:](_channels_last(hidden))
        return out.reshape(*batch, *self.image_shape)
