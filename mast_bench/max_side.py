"""The network input size: ``max_side``, the longest side frames are shrunk to, checked and applied
in one place (presets, studies, command flags and the propagation core all use these)."""

from __future__ import annotations

MIN_MAX_SIDE = 16


def check_max_side(value: int | None) -> None:
    """ValueError unless ``value`` is None (full size) or an integer >= MIN_MAX_SIDE."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < MIN_MAX_SIDE):
        raise ValueError(f"max_side: got {value!r}, expected an integer >= {MIN_MAX_SIDE} (or full size)")


def network_size(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """(H, W) of the network input: the frame size, shrunk so the longer side is <= max_side."""
    height, width = size
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))
