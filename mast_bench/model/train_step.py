"""One self-supervised training step (official ``compute_lphoto``): reconstruct the target frame's
colour from the references' colours through the memory read, and score it with a Huber loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .dropout import choose_dropped_channel, drop_channel
from .mast import MAST

# the official loss compares 20x the output and target with smooth_l1 (beta 1, mean)
LOSS_SCALE = 20.0


@dataclass(frozen=True)
class StepInfo:
    dropped_channel: int | None  # None: no dropout, all 3 channels reconstructed
    output: torch.Tensor  # (B, Cv, h, w) the read before upsampling (detached)
    upsampled: torch.Tensor  # (B, Cv, H, W) (detached)
    target: torch.Tensor  # (B, Cv, H, W)


def reconstruction_loss(
    model: MAST,
    ref_frames: Sequence[torch.Tensor],
    target_frame: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    dropped_channel: int | None = None,
    ref_indices: Sequence[int] | None = None,
    target_index: int | None = None,
) -> tuple[torch.Tensor, StepInfo]:
    """Loss of predicting ``target_frame``'s colour from ``ref_frames`` (normalised (B,3,H,W), not
    dropped). With channel dropout (variant), one channel (drawn with ``generator`` unless
    ``dropped_channel`` pins it) is hidden from every input and is both value and target; without
    it the values and the target are all three channels. Each frame is encoded in its own call
    (BatchNorm statistics per frame, as the official code); the model's mode picks the radius.

    ``ref_indices`` / ``target_index`` place the frames in time (the memory stages: a reference
    farther than the variant's ``long_term_gap`` is read through the ROI step, as at test time);
    without them the references are consecutive frames before the target, all short-term.
    """
    cfg = model.config
    if not model.trainable:
        raise ConfigError(f"variant {cfg.name!r} has no trainable features ({cfg.features!r})")
    if not ref_frames:
        raise ValueError("need at least one reference frame")
    frames = [*ref_frames, target_frame]
    if cfg.channel_dropout:
        channel = dropped_channel
        if channel is None:
            channel = choose_dropped_channel(cfg.colour_space, generator)
        inputs = drop_channel(frames, channel)
        targets = [frame[:, channel : channel + 1] for frame in frames]
    else:
        channel = None
        inputs = targets = frames
    if ref_indices is None:  # consecutive: every reference is short-term (the official uses [0, 2] -> 4)
        ref_indices, target_index = list(range(len(ref_frames))), len(ref_frames)
    if len(ref_indices) != len(ref_frames) or target_index is None:
        raise ValueError(f"need one index per reference ({len(ref_frames)}) and a target index")
    output = model(inputs[:-1], targets[:-1], inputs[-1], list(ref_indices), target_index)
    target = targets[-1]
    upsampled = F.interpolate(output, target.shape[-2:], mode="bilinear", align_corners=False)
    loss = F.smooth_l1_loss(upsampled * LOSS_SCALE, target * LOSS_SCALE, reduction="mean")
    return loss, StepInfo(channel, output.detach(), upsampled.detach(), target)
