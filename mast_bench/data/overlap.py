"""Output folders kept clear of the inputs: a folder is published whole (the one there replaced), so
an output that is, holds or lies inside an input would delete that input."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def overlapping(out: Path, inputs: Iterable[Path]) -> Path | None:
    """The first of ``inputs`` that ``out`` is, holds or lies inside (None: ``out`` is clear of them)."""
    target = Path(out).expanduser().resolve()
    for path in inputs:
        resolved = Path(path).resolve()
        if resolved == target or resolved.is_relative_to(target) or target.is_relative_to(resolved):
            return Path(path)
    return None
