"""Encoders and decoders, chosen by image shape.

Small images (8x8 digits and anything with at most 256 pixels that is not a
square power-of-two-ish size) get multilayer perceptrons; square images of
side 16, 28, 32 or 64 get convolutional nets.
"""

from pyro_vaes.nets.conv import ConvDecoder, ConvEncoder, conv_feature_side
from pyro_vaes.nets.factory import make_decoder, make_encoder, uses_convolutions
from pyro_vaes.nets.mlp import MLP, MLPDecoder, MLPEncoder

__all__ = [
    "MLP",
    "ConvDecoder",
    "ConvEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "conv_feature_side",
    "make_decoder",
    "make_encoder",
    "uses_convolutions",
]
