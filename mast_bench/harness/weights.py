"""Where a job's weights come from: a checkpoint file, training, explicit random weights, or none.

A random-initialised model is only ever scored when asked for (``random_init``); otherwise a
trainable variant without a checkpoint is trained (a preset) or refused, so a benchmark never
scores random weights by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.fingerprint import content_hash
from ..errors import CheckpointError, ConfigError
from ..model.checkpoint import require_checkpoint_file
from ..variants.config import VariantConfig


def weights_sha256(path: str | Path | None) -> str | None:
    """The sha256 of a checkpoint's weights alone (``model.checkpoint.state_dict_sha256``): equal
    for the same weights in files that differ in anything else; None without a file."""
    from ..model.checkpoint import read_state_dict, state_dict_sha256

    return None if path is None else state_dict_sha256(read_state_dict(path))


def needs_weights(config: VariantConfig) -> bool:
    return config.features != "lab-pixels"


def check_trainable(config: VariantConfig) -> None:
    """MAST's self-supervised training trains its own encoder only."""
    if config.features != "encoder":
        raise ConfigError(
            f"variant {config.name!r} has no trainable encoder (features={config.features}): "
            "it needs no training (lab-pixels) or its weights come from --checkpoint (an ImageNet trunk)"
        )


def weights_identity(
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
        path = require_checkpoint_file(checkpoint)
        return {
            "kind": "file",
            "sha256": content_hash(path),
            "path": str(path.resolve()),
            "train_preset": None,
        }
    if random_init:
        return {"kind": "random", "sha256": None, "path": None, "train_preset": None, "seed": seed}
    raise CheckpointError(
        f"variant {config.name!r} needs weights: pass --checkpoint PATH, train them (a preset), "
        "or ask for random weights explicitly with --random-init"
    )


def trained_identity(preset_name: str, checkpoint_path: str) -> dict[str, Any]:
    """The ``checkpoint`` block of weights the harness trains (their content is known only after)."""
    return {"kind": "trained", "sha256": None, "train_preset": preset_name, "path": checkpoint_path}
