"""Each source's share of what training samples from a training set, and a cap on it.

The pair and memory samplers draw a clip about in proportion to its weight times its frames (the
official pair epochs cut a clip into frames / (2 * gap) pairs; the memory stages draw a target among
its frames; the schedule stage draws by weight alone), so a long source takes that share of the
training whatever its weights say shot by shot. On the registry footage one 4,800-frame webcam clip
(``franck``) is a third of all pairs even at its motion weight of 0.18. A cap scales down the clips
of every source above it, by one factor per source, so that none takes more than the cap
(water-filling: capping one source raises the others' shares, which may bring them over the cap in
turn). The memory stages favour long clips more than this measure (a target needs its references
inside the clip)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Protocol


class WeightedClip(Protocol):
    source: str
    weight: float

    @property
    def frames(self) -> int: ...


def source_masses(clips: Iterable[WeightedClip]) -> dict[str, float]:
    """Weight x frames, summed over each source's clips, in the clips' order."""
    masses: dict[str, float] = {}
    for clip in clips:
        masses[clip.source] = masses.get(clip.source, 0.0) + clip.weight * clip.frames
    return masses


def shares(masses: Mapping[str, float]) -> dict[str, float]:
    total = sum(masses.values())
    return {name: (mass / total if total > 0 else 0.0) for name, mass in masses.items()}


def cap_shortfall(max_share: float, sources: int, what: str = "sources") -> str | None:
    """Why ``max_share`` cannot hold for ``sources`` sources (below equal shares, 1/N), or None."""
    least = 1.0 / max(sources, 1)
    if max_share >= least:
        return None
    return (
        f"max_source_share {max_share:g} cannot hold for {sources} {what}: it needs at least "
        f"1/{sources} = {least:.4g} (equal shares)"
    )


def cap_factors(masses: Mapping[str, float], max_share: float) -> dict[str, float]:
    """Per source, the factor (<= 1) that keeps its share at most ``max_share``; 1 where under it.

    The capped sources end with equal masses, the level at which the uncapped ones' shares and the
    cap agree: level = max_share * free / (1 - max_share * capped), ``free`` the uncapped mass.
    """
    shortfall = cap_shortfall(max_share, len(masses))
    if shortfall is not None:
        raise ValueError(shortfall)
    capped: set[str] = set()
    while True:
        free = sum(mass for name, mass in masses.items() if name not in capped)
        room = 1.0 - max_share * len(capped)
        if free <= 0 or room <= 1e-12:  # every source capped: equal shares
            level = min(masses.values())
            break
        level = max_share * free / room
        over = {name for name, mass in masses.items() if name not in capped and mass > level * (1 + 1e-12)}
        if not over:
            break
        capped |= over
    return {name: (level / mass if name in capped and mass > 0 else 1.0) for name, mass in masses.items()}


def cap_source_shares(clips: Iterable, max_share: float) -> list:
    """``clips`` with each over-cap source's weights scaled down (rounded as the manifest keeps them)."""
    clips = list(clips)
    if max_share >= 1.0:
        return clips
    factors = cap_factors(source_masses(clips), max_share)
    return [
        dataclasses.replace(clip, weight=max(round(clip.weight * factors[clip.source], 4), 1e-4))
        if factors[clip.source] < 1.0
        else clip
        for clip in clips
    ]
