"""The epoch-level progress bar of training."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


class EpochProgress:
    """An epoch-level progress bar (stderr, only when asked) whose postfix shows the last
    epoch's validation ELBO and, where logged, validation accuracy."""

    def __init__(self, epochs: int, done: int, *, enabled: bool) -> None:
        self.bar = tqdm(total=epochs, initial=done, desc="epochs", unit="epoch",
                        disable=not enabled)

    def show(self, record: dict[str, Any]) -> None:
        """Advance one epoch and show its validation measures."""
        postfix = {"val_elbo": f"{record['val_elbo']:.2f}"}
        if "val_accuracy" in record:
            postfix["val_accuracy"] = f"{record['val_accuracy']:.4f}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
