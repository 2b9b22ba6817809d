"""Training-time channel dropout (official ``dropout2d_lab``): the model must predict a colour
channel it cannot see, so one channel is zeroed in every input and the rest rescaled by 3/2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import ConfigError

# Lab drops a or b (never L, which carries the structure); RGB may drop any of R, G, B.
DROPPABLE_CHANNELS = {"lab": (1, 2), "rgb": (0, 1, 2)}


def choose_dropped_channel(colour_space: str, generator: torch.Generator | None = None) -> int:
    try:
        choices = DROPPABLE_CHANNELS[colour_space]
    except KeyError:
        raise ConfigError(f"unknown colour space {colour_space!r}; expected one of lab, rgb") from None
    device = generator.device if generator is not None else None  # a CUDA generator draws on CUDA
    pick = int(torch.randint(len(choices), (1,), generator=generator, device=device).item())
    return choices[pick]


def drop_channel(frames: Sequence[torch.Tensor], channel: int) -> list[torch.Tensor]:
    """Zero ``channel`` of every (B,3,H,W) frame and scale all channels by 3/2 (out of place)."""
    dropped = []
    for frame in frames:
        out = frame.clone()
        out[:, channel] = 0
        dropped.append(out * (3.0 / 2.0))
    return dropped
