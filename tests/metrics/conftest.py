"""Fixtures of the metric tests: davis-mini annotations (downsampled for speed) and perturbed predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.label_sets import make_davis, make_results, perturb

from mast_bench.data.palette import read_label_map

DAVIS_MINI_SEQUENCES = ("bmx-trees", "car-shadow", "motocross-jump")


def davis_mini_labels(davis_mini: Path, step: int = 1) -> dict[str, list[np.ndarray]]:
    folder = davis_mini / "Annotations" / "480p"
    return {
        s: [read_label_map(p, allow_grey=True)[::step, ::step] for p in sorted((folder / s).glob("*.png"))]
        for s in DAVIS_MINI_SEQUENCES
    }


@pytest.fixture(scope="session")
def small_davis(davis_mini: Path, tmp_path_factory) -> tuple[Path, Path]:
    """davis-mini at 120x214 (every 4th pixel: real object shapes, fast) and a perturbed prediction of it."""
    labels = davis_mini_labels(davis_mini, step=4)
    base = tmp_path_factory.mktemp("small_davis")
    root = make_davis(base / "DAVIS", labels)
    rng = np.random.default_rng(2017)
    results = make_results(base / "results", {s: perturb(f, rng, drop_prob=0.15) for s, f in labels.items()})
    return root, results


@pytest.fixture(scope="session")
def davis_mini_predictions(davis_mini: Path, tmp_path_factory) -> Path:
    """Full-resolution perturbed predictions of davis-mini (scored against the shared annotations)."""
    rng = np.random.default_rng(480)
    labels = davis_mini_labels(davis_mini)
    return make_results(tmp_path_factory.mktemp("mini_pred"), {s: perturb(f, rng) for s, f in labels.items()})
