"""Fixtures of the data tests: a tiny embedded dataset and a builder of small DAVIS trees to break."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.embedded import make_default
from mast_bench.data.palette import write_label_map

TINY = dict(size=(48, 80), val_sequences=2, train_sequences=1, frames=(6, 8), train_clips=2, clip_frames=12)


@pytest.fixture(scope="session")
def tiny_params() -> dict:
    """Parameters of the tiny embedded dataset (tests re-derive its recipe from them)."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_embedded(tmp_path_factory) -> Path:
    return make_default(tmp_path_factory.mktemp("embedded") / "data", seed=3, **TINY)


def build_davis(root: Path, sequences: dict[str, int], size=(24, 32), split: str = "val") -> Path:
    """DAVIS layout with ``frames`` random frames per sequence and one square object (id 1) each."""
    rng = np.random.default_rng(0)
    height, width = size
    for name, frames in sequences.items():
        frame_dir = root / "JPEGImages" / "480p" / name
        frame_dir.mkdir(parents=True)
        for i in range(frames):
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(frame_dir / f"{i:05d}.jpg", quality=95)
            labels = np.zeros(size, np.uint8)
            labels[2 + i : 10 + i, 3:12] = 1
            write_label_map(root / "Annotations" / "480p" / name / f"{i:05d}.png", labels)
    imagesets = root / "ImageSets" / "2017"
    imagesets.mkdir(parents=True)
    (imagesets / f"{split}.txt").write_text("".join(f"{n}\n" for n in sequences))
    return root


@pytest.fixture
def make_davis():
    """``make_davis(root, {"seq": frames}, size=(H, W), split="val")`` builds a small DAVIS tree."""
    return build_davis
