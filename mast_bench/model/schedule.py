"""Which earlier frames a target frame reads from, and how far a long-term search may look.

Schedules of the official test loop (``benchmark.py --ref 0/1/2``), with target t = i + 1:
- official:    {0, 5 if < t} + {t-1, t-3, t-5 if > 0}, sorted (at most 5 references)
- first-short: [0] + [t-5, t-3, t-1 if > 0]
- previous:    [t-1]
"""

from __future__ import annotations

from ..errors import ConfigError
from ..variants.config import VariantConfig

SHORT_TERM_OFFSETS = {"official": (1, 3, 5), "first-short": (1, 3, 5), "previous": (1,)}
PERMANENT_REFERENCES = {"official": (0, 5), "first-short": (0,), "previous": ()}


def _check_schedule(schedule: str) -> None:
    if schedule not in SHORT_TERM_OFFSETS:
        known = ", ".join(SHORT_TERM_OFFSETS)
        raise ConfigError(f"unknown reference schedule {schedule!r}; known schedules: {known}")


def reference_indices(target: int, schedule: str) -> list[int]:
    """Sorted reference frame indices for ``target`` (>= 1) under ``schedule``."""
    _check_schedule(schedule)
    if target < 1:
        raise ValueError(f"target frame must be >= 1 (frame 0 is the annotation), got {target}")
    if schedule == "previous":
        return [target - 1]
    permanent = {r for r in PERMANENT_REFERENCES[schedule] if r < target}
    short = {target - o for o in SHORT_TERM_OFFSETS[schedule] if target - o > 0}
    return sorted(permanent | short)


def still_needed(frame: int, next_target: int, schedule: str) -> bool:
    """Can ``frame`` be a reference of ``next_target`` or of any later target?"""
    _check_schedule(schedule)
    if frame in PERMANENT_REFERENCES[schedule]:
        return True
    return frame >= next_target - max(SHORT_TERM_OFFSETS[schedule])


def is_long_term(target: int, reference: int, config: VariantConfig) -> bool:
    return target - reference > config.long_term_gap


def dilation_for_gap(gap: int, config: VariantConfig) -> int:
    """Coarse-search dilation: min(max_dilation, gap // long_term_gap + 1), snapped into dilation_set
    (the largest allowed value <= the rule's, else the smallest allowed)."""
    rule = min(config.max_dilation, gap // config.long_term_gap + 1)
    allowed = [d for d in config.dilation_set if d <= rule]
    return max(allowed) if allowed else min(config.dilation_set)
