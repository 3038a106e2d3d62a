"""Early stopping on a validation measure, and which epoch was best.

``--early-stop-on`` names the measure (``val_elbo`` or ``val_accuracy``; higher
is better for both), ``--patience N`` stops training after N epochs in a row
without a new best; ``--epochs`` stays the maximum. The best epoch is tracked
whether or not ``--patience`` is given, so the run directory always holds the
best weights (``RUN/best.pt``) next to the last ones. The state is part of the
trainer's ``state_dict``, so a resumed run stops exactly where a straight one
would.
"""

from __future__ import annotations

import math
from typing import Any

from pyro_vaes.errors import ConfigError


def default_measure(model: Any) -> str:
    """``val_accuracy`` for models that predict labels, ``val_elbo`` for the others."""
    return "val_accuracy" if model.predicts_labels else "val_elbo"


def check_measure(measure: str, model: Any) -> None:
    """Refuse a measure the model does not log."""
    if measure == "val_accuracy" and not model.predicts_labels:
        raise ConfigError(f"--early-stop-on val_accuracy: model '{model.name}' predicts no "
                          f"labels; use --early-stop-on val_elbo")


class EarlyStopping:
    """Follows one validation measure (higher is better) epoch by epoch."""

    def __init__(self, measure: str, patience: int | None = None) -> None:
        self.measure = measure
        self.patience = patience
        self.best_value = -math.inf
        self.best_epoch = 0
        self.epochs_without_improvement = 0
        self.improved = False

    @property
    def stopped(self) -> bool:
        """True once ``patience`` epochs in a row brought no new best."""
        return self.patience is not None and self.epochs_without_improvement >= self.patience

    def update(self, record: dict[str, Any]) -> bool:
        """Read one epoch's record; True when it is the best so far (strictly higher;
        NaN never is)."""
        value = float(record[self.measure])
        self.improved = value > self.best_value
        if self.improved:
            self.best_value, self.best_epoch = value, int(record["epoch"])
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return self.improved

    def describe(self) -> str:
        """One line: the best epoch and why training stopped (or not)."""
        line = f"best {self.measure} {self.best_value:.4f} at epoch {self.best_epoch}"
        if self.stopped:
            line += f"; stopped after {self.patience} epochs without improvement"
        return line

    def state_dict(self) -> dict[str, Any]:
        """Plain values (checkpoints are loaded with ``weights_only=True``)."""
        return {"measure": self.measure, "patience": self.patience,
                "best_value": self.best_value, "best_epoch": self.best_epoch,
                "epochs_without_improvement": self.epochs_without_improvement,
                "improved": self.improved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.best_value = float(state["best_value"])
        self.best_epoch = int(state["best_epoch"])
        self.epochs_without_improvement = int(state["epochs_without_improvement"])
        self.improved = bool(state["improved"])
