"""A tiny DAVIS-layout dataset made on the fly: textured background, moving coloured squares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.palette import write_label_map
from mast_bench.harness.job import DataSpec, Job
from mast_bench.harness.presets import Preset, TrainStage, get_preset
from mast_bench.variants import get_variant

SIZE = (40, 56)  # H, W


def make_tiny_davis(root: Path, sequences: dict[str, int], frames: int = 8, size=SIZE, seed: int = 0) -> Path:
    """``sequences``: name -> number of objects (0 gives a first frame without objects)."""
    rng = np.random.default_rng(seed)
    height, width = size
    for name, objects in sequences.items():
        frame_dir = root / "JPEGImages" / "480p" / name
        anno_dir = root / "Annotations" / "480p" / name
        frame_dir.mkdir(parents=True)
        anno_dir.mkdir(parents=True)
        background = (rng.random((height, width, 3)) * 120).astype(np.uint8)
        colours = rng.integers(130, 255, (max(objects, 1), 3))
        for t in range(frames):
            image = background.copy()
            labels = np.zeros(size, np.uint8)
            for k in range(objects):
                y, x = 6 + 14 * k, 4 + 2 * t + 10 * k
                image[y : y + 10, x : x + 12] = colours[k]
                labels[y : y + 10, x : x + 12] = k + 1
            Image.fromarray(image).save(frame_dir / f"{t:05d}.jpg", quality=95)
            write_label_map(anno_dir / f"{t:05d}.png", labels)
    sets = root / "ImageSets" / "2017"
    sets.mkdir(parents=True, exist_ok=True)
    (sets / "val.txt").write_text("".join(f"{n}\n" for n in sequences))
    return root


@pytest.fixture(scope="session")
def tiny_davis(tmp_path_factory) -> Path:
    return make_tiny_davis(tmp_path_factory.mktemp("davis"), {"one": 1, "two": 2})


PRESET_FIELDS = ("name", "seed", "max_side", "snapshots")


def tiny_preset(**changes) -> Preset:
    """A one-stage "pairs" preset at 32x32; preset-level keys (name, seed, max_side, snapshots) and
    stage keys may be mixed, as in a flat [preset.NAME] table."""
    stage = dict(
        name="pairs",
        iterations=4,
        batch_size=2,
        lr=1e-3,
        frame_size=(32, 32),
        checkpoint_every=2,
        gaps=(1, 2),
    )
    preset = dict(name="tiny", max_side=None)
    for key, value in changes.items():
        (preset if key in PRESET_FIELDS else stage)[key] = value
    return Preset(stages=(TrainStage(**stage),), **preset)


def make_job(variant, results, root=None, *, preset: Preset | None = None, sequences=(), **settings) -> Job:
    """A job as the commands build it: configs, not names (``variant`` may be a name or a config)."""
    config = get_variant(variant) if isinstance(variant, str) else variant
    data = DataSpec(root=None if root is None else str(root), sequences=tuple(sequences))
    settings.setdefault("progress", False)
    return Job(
        variant=config, preset=preset or get_preset("smoke"), data=data, results=str(results), **settings
    )
