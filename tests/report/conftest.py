"""A tiny synthetic study on disk: four variants' records and their manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.records import make_record, store_record

from mast_bench.results import StudyManifest, write_manifest

VARIANTS = {  # variant -> (quality, seed, GFLOPs, peak MiB, seconds per frame)
    "mast": (0.70, 1, 20.0, 900, 0.80),
    "mast-a": (0.60, 2, 12.0, 700, 0.50),
    "mast-b": (0.75, 3, 25.0, 1200, 0.95),
    "mast-c": (0.40, 4, 30.0, 500, 0.30),
}


def make_tiny_study(results: Path):
    """(results folder, manifest, {variant: record}) for a study with reference `mast`."""
    records = {}
    for variant, (quality, seed, gflops, mib, seconds) in VARIANTS.items():
        records[variant] = store_record(
            results,
            make_record(variant, quality, seed, gflops=gflops, peak_bytes=mib * 2**20, seconds=seconds),
        )
    manifest = StudyManifest(
        study="tiny",
        title="Tiny study",
        reference="mast",
        variants=tuple(VARIANTS),
        metrics=("J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay"),
        preset="smoke",
        train_preset="smoke",
        data="the embedded default",
        records={v: r.key for v, r in records.items()},
        paper="davis2017-val",
    )
    write_manifest(results, manifest)
    return results, manifest, records


@pytest.fixture
def tiny_study(tmp_path: Path):
    return make_tiny_study(tmp_path / "results")


@pytest.fixture(scope="module")
def shared_tiny_study(tmp_path_factory):
    """The same study, made once per module: tests must not modify it."""
    return make_tiny_study(tmp_path_factory.mktemp("study") / "results")
