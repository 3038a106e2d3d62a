"""Encoders and decoders: an MLP or a convolutional net, named by a model's ``net`` option.

``make_encoder`` / ``make_decoder`` build them from the image shape and the
widths; ``default_net`` is the choice when none is named.
"""

from pyro_vaes.nets.conv import (
    DEFAULT_CHANNELS,
    ConvDecoder,
    ConvEncoder,
    SubPixelConv,
    conv_feature_side,
    conv_supported,
    conv_widths,
)
from pyro_vaes.nets.factory import (
    NET_DESCRIPTIONS,
    NETS,
    check_net,
    default_net,
    make_decoder,
    make_encoder,
    uses_convolutions,
)
from pyro_vaes.nets.mlp import MLP, MLPDecoder, MLPEncoder

__all__ = [
    "DEFAULT_CHANNELS",
    "MLP",
    "NETS",
    "NET_DESCRIPTIONS",
    "ConvDecoder",
    "ConvEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "SubPixelConv",
    "check_net",
    "conv_feature_side",
    "conv_supported",
    "conv_widths",
    "default_net",
    "make_decoder",
    "make_encoder",
    "uses_convolutions",
]
