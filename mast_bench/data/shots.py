"""Shot cuts and motion of a clip, from small grey thumbnails (pure numpy functions).

A training pair that straddles a cut asks the model to reconstruct one scene from another, which
teaches it nothing about correspondence; a clip where nothing moves (a talking head on a static
background) teaches little more than copying, so it is sampled less. Both decisions are ours (the
paper's data sets, YouTube-VOS and OxUvA, are cut into single shots already).

A cut at frame ``i`` means frames ``i-1`` and ``i`` belong to different shots: their colour
distributions differ (half the L1 distance of hue-saturation histograms) AND their thumbnails
differ pixel by pixel. Fast but continuous motion changes pixels, not the colour distribution (a
cockatoo turning its head: distance <= 0.18); a lighting change shifts colours but few edges. On the
registry footage every cut scores >= 0.42 and every other frame <= 0.21.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THUMBNAIL_SIZE = (64, 36)  # (W, H): enough to see a cut, cheap for 10^5 frames


@dataclass(frozen=True)
class ShotRules:
    """How cuts are found and how motion becomes a sampling weight (our choices, see module doc)."""

    cut_colour: float = 0.3  # hue-saturation histogram distance (0-1) a cut reaches at least
    cut_change: float = 20.0  # mean grey-level change (0-255) a cut reaches at least
    full_motion: float = 2.0  # median frame change (grey levels) that earns a full weight
    min_weight: float = 0.1  # the weight of a clip where nothing moves

    def __post_init__(self) -> None:
        if not 0 < self.cut_colour <= 1 or self.cut_change <= 0:
            raise ValueError("cut_colour must be in (0, 1] and cut_change > 0")
        if self.full_motion <= 0 or not 0 < self.min_weight <= 1:
            raise ValueError("full_motion must be > 0 and min_weight in (0, 1]")


HISTOGRAM_BINS = (16, 8)  # hue, saturation


@dataclass(frozen=True)
class FrameSignature:
    """What cut detection and motion need of one frame."""

    grey: np.ndarray  # (36, 64) float32 thumbnail
    colours: np.ndarray  # (16 * 8,) hue-saturation histogram summing to 1
    size: tuple[int, int]  # (H, W) of the frame itself


def signature(frame: np.ndarray) -> FrameSignature:
    """RGB uint8 (H, W, 3) -> its signature."""
    frame = np.ascontiguousarray(frame)
    small = cv2.resize(frame, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HISTOGRAM_BINS), [0, 180, 0, 256]).ravel()
    colours = (hist / max(float(hist.sum()), 1.0)).astype(np.float32)
    return FrameSignature(grey, colours, (int(frame.shape[0]), int(frame.shape[1])))


def frame_changes(signatures: list[FrameSignature]) -> tuple[np.ndarray, np.ndarray]:
    """(grey change, colour distance) from each frame to the next, two (T-1,) arrays."""
    if len(signatures) < 2:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    grey = np.stack([s.grey for s in signatures])
    colours = np.stack([s.colours for s in signatures])
    return np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2)), 0.5 * np.abs(np.diff(colours, axis=0)).sum(1)


def find_cuts(
    grey_change: np.ndarray, colour_distance: np.ndarray, rules: ShotRules = ShotRules()
) -> list[int]:
    """Frames that start a new shot (index ``i`` of the changes is the change into frame ``i+1``)."""
    is_cut = (colour_distance >= rules.cut_colour) & (grey_change >= rules.cut_change)
    return [int(i) + 1 for i in np.flatnonzero(is_cut)]


def size_cuts(signatures: list[FrameSignature]) -> list[int]:
    """Frames whose size differs from the previous one's (a stream that switches resolution part-way):
    a pair across the switch would be scaled differently, so the clip is cut there too."""
    return [i for i in range(1, len(signatures)) if signatures[i].size != signatures[i - 1].size]


def shot_ranges(num_frames: int, cuts: list[int]) -> list[tuple[int, int]]:
    """[start, stop) of each shot of a clip of ``num_frames`` frames cut at ``cuts``."""
    bounds = [0, *sorted(c for c in cuts if 0 < c < num_frames), num_frames]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def motion_level(changes: np.ndarray) -> float:
    """The median frame change of a shot (0 for a single frame)."""
    return float(np.median(changes)) if changes.size else 0.0


def sampling_weight(motion: float, rules: ShotRules = ShotRules()) -> float:
    """Fraction of a shot's pairs kept each epoch: proportional to motion up to ``full_motion``."""
    return float(min(1.0, max(rules.min_weight, motion / rules.full_motion)))
