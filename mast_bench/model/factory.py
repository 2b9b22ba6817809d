"""``create_model``: a MAST model from a variant name or config, with weights, in one call (as timm's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..variants import VariantConfig, derive_variant, get_variant
from .backbones import crw_startup_statistics
from .checkpoint import load_weights
from .mast import MAST


def create_model(
    variant: str | VariantConfig,
    checkpoint: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
    seed: int | None = None,
    **overrides: Any,
) -> MAST:
    """The model of ``variant`` (a registered name or a config), in eval mode on ``device``.

    ``checkpoint``: an official MAST checkpoint or one of ours (without one the weights are
    freshly initialised, from ``seed`` when given, without touching the global RNG).
    ``overrides`` change variant fields, e.g. ``create_model("mast", test_radius=9)``.
    A trunk with ``trunk_batchnorm = "crw-startup"`` gets CRW's start-up statistics after its weights.
    """
    config = get_variant(variant) if isinstance(variant, str) else variant
    if overrides:
        config = derive_variant(config, overrides, where="create_model")
    if seed is None:
        model = MAST(config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = MAST(config)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    if config.trunk_batchnorm == "crw-startup":
        crw_startup_statistics(model.feature_extraction)  # after the weights: CRW loads them first
    return model.to(device).eval()
