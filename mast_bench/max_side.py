"""The network input size: ``max_side``, the longest side frames are shrunk to, checked and applied
in one place (presets, studies, command flags and the propagation core all use these), and the
other size rules of the protocols' resize routes (protocols/config.py NetworkSize)."""

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


DINO_MULTIPLE = 64  # eval_video_segmentation.py read_frame: int((tw // 64) * 64)


def check_route_max_side(rule: str, max_side: int | None) -> None:
    """ValueError where a route's size ``rule`` cannot keep the network within ``max_side``: the
    multiple-of-64 rule never makes a side shorter than 64 (at 16 a 16:9 frame ran at 9x64)."""
    if rule == "multiple-of-64" and max_side is not None and max_side < DINO_MULTIPLE:
        raise ValueError(
            f"max_side {max_side}: this protocol's network side is a multiple of {DINO_MULTIPLE} "
            f"(DINO's rule), so it needs a max_side of at least {DINO_MULTIPLE} (or full size)"
        )


def route_network_size(size: tuple[int, int], max_side: int | None, rule: str) -> tuple[int, int]:
    """(H, W) of the network input under a route's size ``rule`` (keep-aspect, square, multiple-of-64)."""
    if rule == "square":
        return size if max_side is None else (max_side, max_side)
    height, width = network_size(size, max_side)
    if rule == "keep-aspect":
        return height, width
    if rule != "multiple-of-64":
        raise ValueError(
            f"unknown network size rule {rule!r}; expected keep-aspect, square or multiple-of-64"
        )
    # DINO keeps the short side (its 480) and floors the other, computed from the frame's own aspect;
    # a portrait frame floors its height, any other its width
    frame_height, frame_width = size
    if frame_height > frame_width:
        return max(
            DINO_MULTIPLE, int(width * frame_height / frame_width // DINO_MULTIPLE) * DINO_MULTIPLE
        ), width
    return height, max(
        DINO_MULTIPLE, int(height * frame_width / frame_height // DINO_MULTIPLE) * DINO_MULTIPLE
    )
