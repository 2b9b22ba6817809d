"""Small synthetic DAVIS-layout datasets and predictions, written as palette PNGs for the metric tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [200] * (256 * 3 - 12)


def write_labels(path: Path, labels: np.ndarray, mode: str = "P") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(np.asarray(labels, dtype=np.uint8), mode="L")
    if mode == "P":
        img = img.convert("P")
        img.putpalette(PALETTE)
    img.save(path)
    return path


def write_sequence(folder: Path, frames: list[np.ndarray]) -> None:
    for t, labels in enumerate(frames):
        write_labels(folder / f"{t:05d}.png", labels)


def make_davis(root: Path, sequences: dict[str, list[np.ndarray]], split: str = "val") -> Path:
    """DAVIS root with Annotations/480p/<seq>/ and ImageSets/2017/<split>.txt (no JPEGs: not needed)."""
    for name, frames in sequences.items():
        write_sequence(root / "Annotations" / "480p" / name, frames)
    (root / "ImageSets" / "2017").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "2017" / f"{split}.txt").write_text("".join(f"{n}\n" for n in sequences))
    return root


def make_results(root: Path, sequences: dict[str, list[np.ndarray]]) -> Path:
    for name, frames in sequences.items():
        write_sequence(root / name, frames)
    return root


def ellipse(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0


def moving_objects(shape, n_frames: int, n_objects: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Label frames with ``n_objects`` ellipses drifting across the frame (later ids drawn on top)."""
    h, w = shape
    starts = rng.uniform([0.2 * h, 0.2 * w], [0.8 * h, 0.8 * w], size=(n_objects, 2))
    velocity = rng.uniform(-1.5, 1.5, size=(n_objects, 2))
    radii = rng.uniform([0.08 * h, 0.08 * w], [0.25 * h, 0.2 * w], size=(n_objects, 2))
    frames = []
    for t in range(n_frames):
        labels = np.zeros(shape, np.uint8)
        for k in range(n_objects):
            cy, cx = starts[k] + t * velocity[k]
            labels[ellipse(shape, cy, cx, *radii[k])] = k + 1
        frames.append(labels)
    return frames


def perturb(frames: list[np.ndarray], rng: np.random.Generator, drop_prob: float = 0.1) -> list[np.ndarray]:
    """A plausible prediction: each frame shifted by a few pixels, some objects dropped or grown."""
    out = []
    for labels in frames:
        dy, dx = rng.integers(-3, 4, size=2)
        pred = np.roll(labels, (dy, dx), axis=(0, 1))
        pred[pred == 255] = 0
        for k in np.unique(pred[pred > 0]):
            r = rng.random()
            if r < drop_prob:
                pred[pred == k] = 0
            elif r < 2 * drop_prob:  # grow: dilate this object by one pixel to the right and down
                grown = (pred == k) | np.roll(pred == k, 1, axis=0) | np.roll(pred == k, 1, axis=1)
                pred[grown] = k
        out.append(pred)
    return out
