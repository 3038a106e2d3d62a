"""Labels: the label space of a model that reads labels, name -> index lookup, other classes.

The label space of a CCVAE (and of M2): L binary attributes, or one K-class label.

Binary attributes give one characteristic latent per label and
``y_i ~ Bernoulli`` inside the ``"labels"`` plate. A K-class label gives K
characteristic latents; ``y ~ Categorical`` sits in the ``"data"`` plate only
and its indicator vector ``[y == k]_k`` selects the conditional prior of each
latent, so every latent still sees one binary fact about y.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from pyro_vaes.data.info import DataInfo
from pyro_vaes.errors import ConfigError


@dataclass(frozen=True)
class LabelSpace:
    """Which labels a model characterises: ``kind`` and one name per characteristic latent."""

    kind: str
    names: tuple[str, ...]

    @classmethod
    def from_data(cls, data_info: DataInfo, kind: str | None) -> LabelSpace:
        """The label space a data set offers; ``kind`` None picks targets when there are any."""
        if kind is None:
            kind = "targets" if data_info.num_classes else "attributes"
        if kind == "targets":
            if not data_info.num_classes:
                raise ConfigError("--label-kind targets: this data set has no class targets; "
                                  "use --label-kind attributes or a labelled data set")
            names = data_info.class_names or [str(k) for k in range(data_info.num_classes)]
        else:
            if not data_info.attribute_names:
                raise ConfigError("--label-kind attributes: this data set has no binary "
                                  "attributes; use --label-kind targets or another data set")
            names = data_info.attribute_names
        return cls(kind, tuple(names))

    @property
    def size(self) -> int:
        """Number of characteristic latents (L labels, or K classes)."""
        return len(self.names)

    @property
    def multiclass(self) -> bool:
        """True for one K-class label, False for L binary labels."""
        return self.kind == "targets"

    def of(self, dataset: Any) -> torch.Tensor:
        """The labels of an ImageDataset this space reads: targets (N,) or attributes (N, L)."""
        return dataset.targets if self.multiclass else dataset.attributes

    def site_value(self, y: torch.Tensor | None) -> torch.Tensor | None:
        """A batch of labels in the shape of the ``y`` site: (B, 1) classes or (B, L) 0/1."""
        if y is None or not self.multiclass:
            return y
        return y.unsqueeze(-1)

    def indicators(self, y: torch.Tensor) -> torch.Tensor:
        """The 0/1 fact each characteristic latent sees, (..., L), from a ``y`` site value."""
        if self.multiclass:
            return (y == torch.arange(self.size, device=y.device)).to(torch.get_default_dtype())
        return y

    def index(self, name: str) -> int:
        """The position of a label by name, or a ConfigError listing the names."""
        return label_index(self.names, name, what="a label of this model")

    def indices(self, names: list[str]) -> list[int]:
        """Positions of ``names``; every label when ``names`` is empty."""
        return [self.index(n) for n in names] if names else list(range(self.size))


def label_index(names: Sequence[str], name: str, *, option: str = "--label",
                what: str = "a label", digits: bool = False) -> int:
    """The position of ``name`` among ``names`` (with ``digits``, also a position written as a
    number); otherwise a ConfigError naming ``option`` and listing the names."""
    if name in names:
        return list(names).index(name)
    if digits and name.isdigit() and int(name) < len(names):
        return int(name)
    raise ConfigError(f"{option} {name!r} is not {what}; choose from: {', '.join(names)}")


def other_classes(y: torch.Tensor, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """A uniformly drawn class different from each y."""
    shift = torch.randint(1, num_classes, y.shape, generator=generator).to(y.device)
    return (y + shift) % num_classes
