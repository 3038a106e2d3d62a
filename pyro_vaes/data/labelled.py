"""Choosing the labelled subset for semi-supervised training."""

from __future__ import annotations

import torch

from pyro_vaes.errors import ConfigError


def _count(n: int, count: int | None, fraction: float | None) -> int:
    if (count is None) == (fraction is None):
        raise ConfigError(
            "labelled subset: give exactly one of --labels (a count) and "
            "--labelled-fraction (a fraction)"
        )
    if fraction is not None:
        if not 0.0 < fraction <= 1.0:
            raise ConfigError(
                f"--labelled-fraction {fraction}: must be in (0, 1]; give e.g. 0.1 for 10 %"
            )
        return max(1, round(fraction * n))
    assert count is not None
    if not 1 <= count <= n:
        raise ConfigError(
            f"--labels {count}: must be between 1 and the {n} training examples; "
            "give a smaller count"
        )
    return count


def _per_class(sizes: torch.Tensor, total: int, generator: torch.Generator) -> torch.Tensor:
    """Split ``total`` as evenly as possible over classes, capped at each class size."""
    alloc = torch.zeros_like(sizes)
    remaining = total
    while remaining > 0:
        active = torch.nonzero(alloc < sizes).reshape(-1)
        share, extra = divmod(remaining, len(active))
        if share == 0:
            lucky = active[torch.randperm(len(active), generator=generator)[:extra]]
            alloc[lucky] += 1
            break
        add = torch.minimum(torch.full_like(active, share), sizes[active] - alloc[active])
        alloc[active] += add
        remaining -= int(add.sum())
    return alloc


def labelled_indices(
    targets: torch.Tensor,
    *,
    count: int | None = None,
    fraction: float | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Sorted positions of a seeded labelled subset of ``targets``.

    1-D class targets: every class gets ``count // K`` (classes too small give
    all they have, the rest go to the others) and the remainder goes to
    randomly chosen classes.  2-D attributes (N, L): a plain random subset.
    Exactly one of ``count`` (in [1, N]) and ``fraction`` (in (0, 1]) is given.
    """
    n = int(targets.shape[0])
    total = _count(n, count, fraction)
    if total >= n:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(seed)
    if targets.dim() != 1:
        return torch.randperm(n, generator=generator)[:total].sort().values
    classes, inverse, sizes = torch.unique(targets, return_inverse=True, return_counts=True)
    alloc = _per_class(sizes, total, generator)
    chosen = []
    for k in range(len(classes)):
        members = torch.nonzero(inverse == k).reshape(-1)
        pick = torch.randperm(len(members), generator=generator)[: int(alloc[k])]
        chosen.append(members[pick])
    return torch.cat(chosen).sort().values
