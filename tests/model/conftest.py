"""Fixtures of the model tests: the official reference clip and weights, read in place from ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.model import MAST
from mast_bench.model.checkpoint import load_weights
from mast_bench.variants import get_variant

CLIP_FRAMES = 25


def read_clip(reference: Path, count: int = CLIP_FRAMES, size: tuple[int, int] | None = None):
    """RGB uint8 frames and the first label map; ``size`` (W, H) resizes (bilinear / nearest)."""
    frames, first = [], Image.open(reference / "clip" / "anno_00000.png")
    for index in range(count):
        image = Image.open(reference / "clip" / f"{index:05d}.png").convert("RGB")
        frames.append(np.asarray(image.resize(size, Image.BILINEAR) if size else image))
    if size:
        first = first.resize(size, Image.NEAREST)
    return frames, np.asarray(first)


@pytest.fixture(scope="session")
def clip(official_reference):
    return read_clip(official_reference)


@pytest.fixture(scope="session")
def small_clip(official_reference):
    return read_clip(official_reference, count=6, size=(112, 64))


@pytest.fixture
def official_model(official_reference):
    def build(weights: str, variant: str = "mast-official", **changes) -> MAST:
        model = MAST(get_variant(variant).replace(**changes))
        load_weights(model, official_reference / f"weights_{weights}.pt")
        return model.eval()

    return build
