"""The class-related VAE's reproduction program: its quick mode writes a table of claims
with verdicts and its figures; the slope it reports follows the model's schedule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runners.reproduce.parted import slope_at

ROOT = Path(__file__).resolve().parents[1]


def test_slope_at_follows_the_linear_schedule_by_hand() -> None:
    assert slope_at(1, 30) == 1.0
    assert slope_at(30, 30) == 8.0
    assert slope_at(11, 30) == pytest.approx(1.0 + 7.0 * 10 / 29)
    assert slope_at(1, 1) == 8.0
    assert slope_at(25, 10) == 8.0


@pytest.mark.slow
@pytest.mark.reproduce
def test_parted_quick(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    done = subprocess.run(
        [sys.executable, "-m", "runners.reproduce.parted", "--quick", "--work",
         str(tmp_path / "work"), "--page", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "[parted" in done.stdout and "written" in done.stdout
    text = page.read_text()
    assert "<!-- parted:start -->" in text and "<!-- parted:end -->" in text
    rows = [line for line in text.splitlines()
            if line.startswith("| ") and ("**met**" in line or "**not met**" in line)]
    assert len(rows) >= 5
    for row in rows:
        cells = [c for c in row.replace("\\|", "/").split("|")[1:-1]]
        assert len(cells) == 5, row
        assert cells[-1].strip().startswith(("**met**", "**not met**"))
    # every figure the page embeds was published beside it
    links = [line for line in text.splitlines() if line.startswith("![")]
    assert links
    for link in links:
        target = link.split("](", 1)[1].rstrip(")")
        assert (page.parent / target).is_file(), target
