"""How training shows its progress on stderr: a progress bar on a terminal, one plain line
per epoch when stderr is piped or redirected, and one-off notes."""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm

LINES = "lines"
"""``progress="lines"``: no bars, one plain line per epoch (for logs and pipes)."""


def note(text: str) -> None:
    """Say something the user should know once, on stderr, as one line ``Note: ...``."""
    print(f"Note: {' '.join(text.split())}", file=sys.stderr, flush=True)


def epoch_summary(record: dict[str, Any]) -> dict[str, str]:
    """What the progress reports of an epoch: its validation ELBO and, where logged, its
    validation accuracy."""
    summary = {"val_elbo": f"{record['val_elbo']:.2f}"}
    if "val_accuracy" in record:
        summary["val_accuracy"] = f"{record['val_accuracy']:.4f}"
    return summary


class EpochProgress:
    """The epoch-level progress: with ``enabled`` True a bar (stderr) whose postfix shows
    :func:`epoch_summary`; with ``enabled`` :data:`LINES` one plain line per epoch with the
    same summary; nothing otherwise."""

    def __init__(self, epochs: int, done: int, *, enabled: bool | str) -> None:
        self.epochs = epochs
        self.lines = enabled == LINES
        self.bar = tqdm(total=epochs, initial=done, desc="epochs", unit="epoch",
                        disable=enabled is not True)

    def show(self, record: dict[str, Any]) -> None:
        """Advance one epoch and show its validation measures."""
        summary = epoch_summary(record)
        if self.lines:
            shown = ", ".join(f"{key} {value}" for key, value in summary.items())
            print(f"epoch {record['epoch']}/{self.epochs}: train_loss "
                  f"{record['train_loss']:.2f}, {shown} ({record.get('seconds', 0.0):.1f} s)",
                  file=sys.stderr, flush=True)
            return
        self.bar.set_postfix(summary, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar (also when training stops early or is interrupted), so that nothing
        redraws it after what is printed next."""
        self.bar.close()
