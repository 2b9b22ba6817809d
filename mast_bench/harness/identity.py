"""A job's identity: everything that decides its numbers, hashed into the record key.

What changes the numbers is part of the key: the variant and protocol configs, the weights, the
data (with a fingerprint of its contents), the evaluation size, and the numerics-relevant
environment (device type, intra-op threads on a CPU, torch version, kernel path), because the
same job run with 1 and 2 threads does not reproduce to the bit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

from ..config import to_dict
from ..data.fingerprint import VideoFiles, dataset_fingerprint
from ..ops import expected_kernel_path
from ..results import canonical_json
from . import provenance
from .batches import open_clip_source


def numerics_environment(device: str, threads: int, kernels: str | None = None) -> dict[str, Any]:
    """``kernels``: the kernel path as it ran; None names the one expected, without compiling (a
    cached record is found without building the CPU kernels)."""
    device_type = torch.device(device).type
    return {
        "device_type": device_type,
        "threads": threads if device_type == "cpu" else None,
        "torch": torch.__version__,
        "kernels": kernels or expected_kernel_path(device),
    }


def short_hash(identity: dict[str, Any], length: int = 16) -> str:
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:length]


def training_identity(config, preset, train_fingerprint: str, environment: dict[str, Any]) -> dict[str, Any]:
    """What decides trained weights (the training frames by their contents, not their path): names
    the checkpoint folder, so a rerun resumes the same run, here or on another machine."""
    return {
        "variant_config": to_dict(config),
        "preset": to_dict(preset),
        "train_data": train_fingerprint,
        "environment": environment,
        "code_version": provenance.code_version(),
    }


def training_data_fingerprint(root, cache_dir) -> str:
    """Contents of the clips training reads (their frame files, in clip order), and for a training
    set also how it cut and weighs them (a folder of videos is made into one first)."""
    clips = open_clip_source(root, cache_dir)
    files = [VideoFiles(name, clips.frame_paths(i), ()) for i, name in enumerate(clips.clip_names)]
    frames = dataset_fingerprint(files, cache_dir)
    weights = getattr(clips, "weights", None)
    if weights is None:
        return frames
    return short_hash({"frames": frames, "weights": list(weights)}, length=64)


def record_identity(
    *,
    variant,
    protocol,
    weights: dict[str, Any],
    dataset: dict[str, Any],
    evaluation: dict[str, Any],
    environment: dict[str, Any],
) -> dict[str, Any]:
    return {
        "variant": variant.name,
        "variant_config": to_dict(variant),
        "protocol": {"name": protocol.name, "config": to_dict(protocol)},
        "checkpoint": weights,
        "dataset": dataset,
        "evaluation": evaluation,
        "environment": environment,
        "code_version": provenance.code_version(),
    }


def same_job_but_file(identity: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two record identities name the same job on weights from two checkpoint files (which
    files hold the same weights is the caller's to check: ``provenance.weights_sha256``)."""
    files = identity["checkpoint"].get("kind") == other["checkpoint"].get("kind") == "file"
    return files and _without_file(identity) == _without_file(other)


def _without_file(identity: dict[str, Any]) -> dict[str, Any]:
    checkpoint = {k: v for k, v in identity["checkpoint"].items() if k not in ("path", "sha256")}
    return {**identity, "checkpoint": checkpoint}
