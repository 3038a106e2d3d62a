"""pyro_vaes: label-aware and group-aware VAEs as Pyro model/guide pairs."""

__version__ = "0.1.0"
