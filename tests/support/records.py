"""Synthetic but schema-correct result records for report and study tests.

Per-frame J and F are drawn from a seeded generator; the per-object and global
metrics are then derived from them the way the toolkit does (means over
frames, recall = fraction > 0.5, decay = first quartile minus last quartile,
global = mean over objects), so every table value has a known source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mast_bench.atomic import atomic_write_json
from mast_bench.results import ResultRecord

OBJECTS = (("bike", "1"), ("bike", "2"), ("car", "1"), ("dog", "1"), ("dog", "2"), ("dog", "3"))


def _decay(values: np.ndarray) -> float:
    quarters = np.array_split(values, 4)
    return float(quarters[0].mean() - quarters[-1].mean())


def make_record(
    variant: str,
    quality: float,
    seed: int,
    objects=OBJECTS,
    frames: int = 12,
    gflops: float = 10.0,
    peak_bytes: int = 2**30,
    seconds: float = 0.5,
    dataset_name: str = "embedded-default",
    dataset_root: str = "/nonexistent/embedded",
    split: str = "val",
    sequences: list[str] | None = None,
    train_preset: str = "smoke",
    protocol: str = "mast",
    threads: int = 2,
) -> ResultRecord:
    """A record whose per-frame J/F scatter around ``quality`` and drift down over the video."""
    rng = np.random.default_rng(seed)
    per_frame, per_object = [], []
    for sequence, obj in objects:
        drift = np.linspace(0.0, 0.1, frames)
        j = np.clip(quality + rng.normal(0, 0.08) + rng.normal(0, 0.03, frames) - drift, 0, 1)
        f = np.clip(quality + 0.03 + rng.normal(0, 0.08) + rng.normal(0, 0.03, frames) - drift, 0, 1)
        per_frame += [
            {"sequence": sequence, "object": obj, "frame": t, "J": float(j[t]), "F": float(f[t])}
            for t in range(frames)
        ]
        per_object.append(
            {
                "sequence": sequence,
                "object": obj,
                "J-Mean": float(j.mean()),
                "J-Recall": float((j > 0.5).mean()),
                "J-Decay": _decay(j),
                "F-Mean": float(f.mean()),
                "F-Recall": float((f > 0.5).mean()),
                "F-Decay": _decay(f),
            }
        )
    glob = {name: float(np.mean([o[name] for o in per_object])) for name in per_object[0] if "-" in name}
    glob["J&F-Mean"] = (glob["J-Mean"] + glob["F-Mean"]) / 2
    identity = {
        "variant": variant,
        "variant_config": {"name": variant},
        "checkpoint": {"kind": "trained", "sha256": None, "path": None, "train_preset": train_preset},
        "dataset": {
            "kind": "davis",
            "name": dataset_name,
            "split": split,
            "sequences": sequences if sequences is not None else sorted({s for s, _ in objects}),
            "fingerprint": "f" * 64,
        },
        "protocol": {"name": protocol, "config": {"name": protocol}},
        "evaluation": {"task": "semi-supervised", "resolution": "480p", "max_side": 216},
        "environment": {"device_type": "cpu", "threads": threads, "torch": "2.13.0", "kernels": "cpu-csrc"},
        "code_version": "0.1.0",
    }
    return ResultRecord(
        identity=identity,
        provenance={
            "git_revision": "abc123",
            "git_dirty": False,
            "packages": {"torch": "2.13.0"},
            "device": "cpu",
            "hostname": "test",
            "seed": 0,
            "created": "2026-01-01T00:00:00+00:00",
            "command": "test",
            "data_root": dataset_root,
        },
        metrics={"kind": "davis", "global": glob, "per_object": per_object, "per_frame": per_frame},
        profile={
            "parameters": 5291648,
            "gflops_per_frame": {"encoder": gflops * 0.9, "memory_read": gflops * 0.1, "total": gflops},
            "flops_unit": "GFLOPs (2 FLOPs per multiply-add)",
            "seconds_per_frame": seconds,
            "encoder_seconds_per_frame": seconds / 2,
            "frames_per_second": 1 / seconds,
            "peak_memory_bytes": peak_bytes,
            "peak_memory_kind": "cpu-rss-isolated",
            "cuda_max_reserved_bytes": None,
            "matmul_fraction": 0.3,
            "frames": frames * len(objects),
            "frame_size": [120, 216],
        },
        train={
            "preset": train_preset,
            "iterations": 60,
            "final_loss": 0.1,
            "seconds": 30.0,
            "loss_curve": [[1, 1.0], [60, 0.1]],
            "stages": [
                {
                    "name": "pairs",
                    "iterations": 40,
                    "final_loss": 0.2,
                    "seconds": 20.0,
                    "samples_per_s": 4.0,
                    "batch_size": 2,
                    "frame_size": [64, 64],
                    "references": 1,
                    "loss_curve": [[1, 1.0], [40, 0.2]],
                },
                {
                    "name": "memory",
                    "iterations": 20,
                    "final_loss": 0.1,
                    "seconds": 10.0,
                    "samples_per_s": 4.0,
                    "batch_size": 2,
                    "frame_size": [64, 64],
                    "references": 5,
                    "loss_curve": [[41, 0.2], [60, 0.1]],
                },
            ],
        },  # fmt: skip
    )


def store_record(results: Path, record: ResultRecord, masks: dict[str, dict[str, np.ndarray]] | None = None):
    """Write the record JSON (and palette masks <results>/masks/<key>/<seq>/<frame>.png) as the store does."""
    if masks is not None:
        record.masks = f"masks/{record.key}"
        for sequence, frames in masks.items():
            folder = results / record.masks / sequence
            folder.mkdir(parents=True, exist_ok=True)
            for stem, labels in frames.items():
                image = Image.fromarray(labels.astype(np.uint8), mode="P")
                image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9))
                image.save(folder / f"{stem}.png")
    atomic_write_json(results / "records" / f"{record.key}.json", record.to_dict())
    return record
