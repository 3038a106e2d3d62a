"""What a report page holds, as plain data (no torch): gathered by the other modules of
this package, drawn by :mod:`pyro_vaes.report.html`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """A titled table of rows; ``marked`` rows are shown emphasised (e.g. non-default
    options)."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    marked: list[bool] = field(default_factory=list)
    note: str = ""


@dataclass
class Series:
    """One logged quantity over the epochs (epochs without it are left out)."""

    name: str
    epochs: list[int]
    values: list[float]


@dataclass
class Evaluation:
    """The run's evaluation figures and where they come from (``source``: one sentence)."""

    values: dict[str, Any]
    source: str
    computed: bool


@dataclass
class Factor:
    """One slider of the latent explorer: dimension ``dim`` of latent site ``site``.

    ``values[i][s]`` is the latent value of frame ``s`` for image ``i``, ``reset[i]`` the
    frame closest to that image's posterior mean; ``mi`` is I(x; z_j) in nats (mixture
    estimate), ``kl`` the mean KL of q(z_j | x) to the model's own prior."""

    site: str
    dim: int
    name: str
    mi: float
    kl: float | None
    range_kind: str
    values: list[list[float]]
    reset: list[int]


@dataclass
class Explorer:
    """The latent explorer: images to pick, one slider per factor, and the precomputed
    frames ``frames[i][f][s]`` (data URIs) of image ``i``, factor ``f``, step ``s``."""

    images: list[str]
    image_labels: list[str]
    reconstructions: list[str]
    factors: list[Factor]
    frames: list[list[list[str]]]
    steps: int
    ranges: str
    mi_images: int
    unavailable: str = ""


@dataclass
class Grid:
    """A figure of the model's interventions (a PNG data URI) and what it shows."""

    kind: str
    title: str
    uri: str


@dataclass
class Confusion:
    """Predicted against true labels on the test split (classes), or per-attribute
    accuracies (``names`` are the attributes and ``counts`` one row of [accuracy])."""

    names: list[str]
    counts: list[list[int]]
    images: int
    accuracy: float
    per_attribute: list[float] | None = None


@dataclass
class Page:
    """Everything one report shows."""

    title: str
    subtitle: str
    overview: list[Table]
    curves: list[Series]
    loaded_epoch: int
    evaluation: Evaluation
    explorer: Explorer
    grids: list[Grid]
    confusion: Confusion | None
    notes: list[str] = field(default_factory=list)
