"""Build a variant's model and give it weights: a checkpoint file, explicit random weights, or none.

A random-initialised model is only ever built when asked for (``random_init``);
otherwise a trainable variant without a checkpoint is a user error, so a
benchmark never scores random weights by accident.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..variants.config import VariantConfig


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def needs_weights(config: VariantConfig) -> bool:
    return config.features == "encoder"


def checkpoint_identity(
    config: VariantConfig, checkpoint: str | Path | None, random_init: bool, seed: int = 0
) -> dict[str, Any]:
    """The record's ``checkpoint`` block for a file, random weights or a weight-free variant."""
    if not needs_weights(config):
        if checkpoint is not None or random_init:
            raise CheckpointError(
                f"variant {config.name!r} has no weights (features={config.features}); "
                "drop --checkpoint/--random-init"
            )
        return {"kind": "none", "sha256": None, "path": None, "train_preset": None}
    if checkpoint is not None:
        path = Path(checkpoint)
        if not path.is_file():
            raise CheckpointError(f"{path}: no such checkpoint file")
        return {
            "kind": "file",
            "sha256": file_sha256(path),
            "path": str(path.resolve()),
            "train_preset": None,
        }
    if random_init:
        return {"kind": "random", "sha256": None, "path": None, "train_preset": None, "seed": seed}
    raise CheckpointError(
        f"variant {config.name!r} needs weights: pass --checkpoint PATH, train them (a preset), "
        "or ask for random weights explicitly with --random-init"
    )


def build_model(
    config: VariantConfig,
    checkpoint: str | Path | None = None,
    random_init: bool = False,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> torch.nn.Module:
    """The model in eval mode on ``device`` with the weights described by the arguments."""
    from ..model import MAST
    from ..model.checkpoint import load_weights

    checkpoint_identity(config, checkpoint, random_init, seed)  # validates the combination
    torch.manual_seed(seed)
    model = MAST(config)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    return model.to(device).eval()
