"""Pure rendering of synthetic walking people: the 15 JHMDB joints and the 20 VIP part classes.

A figure is a stick skeleton (JHMDB's joints, in its order) that walks across the frame while its
arms and legs swing; its parts are capsules around the bones, each filled with a crop of a
scikit-image sample photo that moves with the part, and labelled with its VIP class. The joints are
the exact skeleton, the part map the front-most part at each pixel centre from the very masks that
were painted, so both annotations are exact. Backgrounds are the panning photos of synthetic.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .synthetic import TEXTURE_PHOTOS

# VIP class ids (data/vip.py CLASS_NAMES) of the parts a figure is made of
HAIR, UPPER_CLOTHES, PANTS, FACE = 2, 4, 8, 13
RIGHT_ARM, LEFT_ARM, RIGHT_LEG, LEFT_LEG, RIGHT_SHOE, LEFT_SHOE = 14, 15, 16, 17, 18, 19
# joint indices in JHMDB's order (data/jhmdb.py JOINT_NAMES)
NECK, BELLY, FACE_JOINT = 0, 1, 2
R_SHOULDER, L_SHOULDER, R_HIP, L_HIP, R_ELBOW, L_ELBOW = 3, 4, 5, 6, 7, 8
R_KNEE, L_KNEE, R_WRIST, L_WRIST, R_ANKLE, L_ANKLE = 9, 10, 11, 12, 13, 14
# parts back to front: (class, joints of the bones, radius as a share of the figure's height)
PARTS = (
    (HAIR, (FACE_JOINT,), 0.075),
    (PANTS, (R_HIP, R_KNEE), 0.05),
    (PANTS, (L_HIP, L_KNEE), 0.05),
    (RIGHT_LEG, (R_KNEE, R_ANKLE), 0.04),
    (LEFT_LEG, (L_KNEE, L_ANKLE), 0.04),
    (RIGHT_SHOE, (R_ANKLE,), 0.04),
    (LEFT_SHOE, (L_ANKLE,), 0.04),
    (PANTS, (R_HIP, L_HIP), 0.055),
    (UPPER_CLOTHES, (NECK, BELLY), 0.1),
    (UPPER_CLOTHES, (R_SHOULDER, L_SHOULDER), 0.05),
    (RIGHT_ARM, (R_SHOULDER, R_ELBOW, R_WRIST), 0.032),
    (LEFT_ARM, (L_SHOULDER, L_ELBOW, L_WRIST), 0.032),
    (FACE, (FACE_JOINT,), 0.06),
)


@dataclass(frozen=True)
class Figure:
    """One person over one video (progress p in [0, 1]); lengths are shares of its height."""

    start: tuple[float, float]  # belly (x, y) at p = 0
    end: tuple[float, float]
    height: tuple[float, float]  # pixels at p = 0 and p = 1
    steps: float  # walking cycles over the video
    phase: float
    swing: float  # leg swing amplitude (radians); arms swing the other way
    facing: int  # +1: its right side on the image's left, -1 the other way
    textures: tuple[str, ...]  # one photo per entry of PARTS
    offsets: tuple[tuple[int, int], ...]  # where each part's crop starts in its photo

    def pose(self, progress: float) -> np.ndarray:
        """(2, 15) joint coordinates in pixels (x, y; 0-based) at ``progress``."""
        x = self.start[0] + (self.end[0] - self.start[0]) * progress
        y = self.start[1] + (self.end[1] - self.start[1]) * progress
        size = self.height[0] * (self.height[1] / self.height[0]) ** progress
        angle = self.swing * math.sin(2 * math.pi * self.steps * progress + self.phase)
        joints = np.zeros((2, 15))

        def put(index: int, origin: int | None, dx: float, dy: float) -> None:
            base = (x, y) if origin is None else joints[:, origin]
            joints[:, index] = base[0] + dx * size, base[1] + dy * size

        def limb(index: int, origin: int, length: float, theta: float) -> None:
            put(index, origin, length * math.sin(theta), length * math.cos(theta))

        side = 0.5 * self.facing
        put(BELLY, None, 0.0, 0.0)
        put(NECK, BELLY, 0.02 * math.sin(angle), -0.3)
        put(FACE_JOINT, NECK, 0.0, -0.11)
        put(R_SHOULDER, NECK, -0.2 * side, 0.03)
        put(L_SHOULDER, NECK, 0.2 * side, 0.03)
        put(R_HIP, BELLY, -0.13 * side, 0.07)
        put(L_HIP, BELLY, 0.13 * side, 0.07)
        for shoulder, elbow, wrist, sign in (
            (R_SHOULDER, R_ELBOW, R_WRIST, -1),
            (L_SHOULDER, L_ELBOW, L_WRIST, 1),
        ):
            limb(elbow, shoulder, 0.17, sign * 0.8 * angle)
            limb(wrist, elbow, 0.15, sign * 0.8 * angle + 0.3 * self.facing)
        for hip, knee, ankle, sign in ((R_HIP, R_KNEE, R_ANKLE, 1), (L_HIP, L_KNEE, L_ANKLE, -1)):
            limb(knee, hip, 0.24, sign * angle)
            limb(ankle, knee, 0.24, sign * angle - 0.25 * abs(angle))
        return joints


def _bone_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each pixel centre to the segment a-b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    t = np.zeros_like(xs) if length == 0 else np.clip(((xs - a[0]) * dx + (ys - a[1]) * dy) / length, 0, 1)
    return np.hypot(xs - a[0] - t * dx, ys - a[1] - t * dy)


def paint_figure(
    figure: Figure, progress: float, image: np.ndarray, labels: np.ndarray, photos: dict[str, np.ndarray]
) -> np.ndarray:
    """Paint ``figure`` over ``image`` (RGB uint8, in place) and its VIP classes over ``labels`` (in
    place); returns its joints (2, 15)."""
    joints = figure.pose(progress)
    height, width = labels.shape
    size = figure.height[0] * (figure.height[1] / figure.height[0]) ** progress
    for (part, bones, share), name, (oy, ox) in zip(PARTS, figure.textures, figure.offsets, strict=True):
        points = joints[:, bones]
        radius = share * size
        x0, x1 = (
            max(0, math.floor(points[0].min() - radius)),
            min(width, math.ceil(points[0].max() + radius) + 1),
        )
        y0, y1 = (
            max(0, math.floor(points[1].min() - radius)),
            min(height, math.ceil(points[1].max() + radius) + 1),
        )
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        distance = np.full(xs.shape, np.inf)
        segments = list(zip(bones[:-1], bones[1:], strict=True)) or [(bones[0], bones[0])]
        for a, b in segments:
            distance = np.minimum(distance, _bone_distance(xs, ys, joints[:, a], joints[:, b]))
        mask = distance <= radius
        if not mask.any():
            continue
        photo = photos[name]
        anchor = np.round(joints[:, bones[0]]).astype(int)
        rows = (ys.astype(int) - anchor[1] + oy) % photo.shape[0]
        cols = (xs.astype(int) - anchor[0] + ox) % photo.shape[1]
        image[y0:y1, x0:x1][mask] = photo[rows[mask], cols[mask]]
        labels[y0:y1, x0:x1][mask] = part
    return joints


def draw_figure(
    rng: np.random.Generator, size: tuple[int, int], photos: dict[str, np.ndarray], slot: float
) -> Figure:
    """A random person whose belly starts near ``slot`` (a share of the width) and walks sideways."""
    height, width = size
    tall = float(rng.uniform(0.6, 0.75)) * height
    x = slot * width
    direction = 1 if rng.random() < 0.5 else -1
    travel = float(rng.uniform(0.08, 0.2)) * width * direction
    y = float(rng.uniform(0.42, 0.5)) * height
    textures = tuple(str(t) for t in rng.choice(TEXTURE_PHOTOS, size=len(PARTS)))
    offsets = tuple(
        (int(rng.integers(0, photos[t].shape[0])), int(rng.integers(0, photos[t].shape[1]))) for t in textures
    )
    return Figure(
        start=(x, y),
        end=(x + travel, y + float(rng.uniform(-0.03, 0.03)) * height),
        height=(tall, tall * float(rng.uniform(0.9, 1.1))),
        steps=float(rng.uniform(0.6, 1.2)),
        phase=float(rng.uniform(0, 2 * math.pi)),
        swing=float(rng.uniform(0.25, 0.45)),
        facing=direction,
        textures=textures,
        offsets=offsets,
    )
