"""What a model needs to know about its data to be built (kept in checkpoints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class DataInfo:
    """What a model needs to know about its data to be built (kept in checkpoints)."""

    image_shape: tuple[int, int, int]
    num_classes: int | None = None
    class_names: list[str] | None = None
    attribute_names: list[str] | None = None
    factor_names: list[str] | None = None
    factor_sizes: list[int] | None = None
    label_frequencies: list[float] | None = None

    @classmethod
    def from_splits(cls, splits: Any) -> DataInfo:
        """Read the fields off a :class:`pyro_vaes.data.DataSplits`."""
        return cls(
            image_shape=tuple(int(s) for s in splits.image_shape),
            num_classes=splits.num_classes,
            class_names=splits.class_names,
            attribute_names=splits.attribute_names,
            factor_names=getattr(splits, "factor_names", None),
            factor_sizes=getattr(splits, "factor_sizes", None),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = asdict(self)
        out["image_shape"] = list(self.image_shape)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DataInfo:
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)


__all__ = ["DataInfo"]
