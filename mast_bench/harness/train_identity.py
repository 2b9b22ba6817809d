"""What decides a training stage's weights, and whether a checkpoint on disk is that stage.

A stage checkpoint stores ``stage_identity`` (the variant, the seed and every stage up to it, as
plain dicts). The variant's test-time fields (``TEST_TIME_FIELDS``: name, test radius, reference
schedule) are kept there but not compared: training never reads them; nor, where every stage up to
it samples pairs (a reference one frame before its target, never long-term), the fields only the
long-term read uses (``LONG_TERM_FIELDS``) and a memory kind other than ``full``. Fields added to
:class:`VariantConfig` or :class:`TrainStage` after a checkpoint was written are missing from it;
they count as their defaults, which is what the code that wrote it ran (a field's default keeps the
old behaviour). A field the checkpoint has and the code no longer knows, or any differing value, is
a different run.
"""

from __future__ import annotations

from typing import Any

from ..config import field_defaults, to_dict
from ..variants.config import LONG_TERM_FIELDS, TEST_TIME_FIELDS, VariantConfig
from .presets import Preset, TrainStage

PAIRS = "pairs"  # the sampling whose one reference is the frame before its target (indices 0, 1)


def stage_identity(config: VariantConfig, preset: Preset, index: int) -> dict[str, Any]:
    """What decides stage ``index``'s weights: the variant, the seed and every stage up to it."""
    return {
        "variant_config": to_dict(config),
        "seed": preset.seed,
        "stages": [to_dict(s) for s in preset.stages[: index + 1]],
    }


def _with_defaults(stored: Any, defaults: dict[str, Any]) -> Any:
    if not isinstance(stored, dict):
        return stored
    return {**{k: v for k, v in defaults.items() if k not in stored}, **stored}


def same_stage(stored: dict[str, Any] | None, current: dict[str, Any]) -> bool:
    """Whether a checkpoint's stored identity is ``current`` (missing fields read as defaults)."""
    if not isinstance(stored, dict) or set(stored) != set(current):
        return False
    stages = stored.get("stages")
    if not isinstance(stages, list):
        return False
    filled = {
        **stored,
        "variant_config": _with_defaults(stored.get("variant_config"), field_defaults(VariantConfig)),
        "stages": [_with_defaults(s, field_defaults(TrainStage)) for s in stages],
    }
    return as_trained(filled) == as_trained(current)


def leading_pairs_stages(preset: Preset) -> int:
    """How many stages open ``preset`` sampling pairs: what variants that differ only in the
    long-term read (``LONG_TERM_FIELDS``) train alike."""
    return next((i for i, stage in enumerate(preset.stages) if stage.sampling != PAIRS), len(preset.stages))


def as_trained(identity: dict[str, Any]) -> dict[str, Any]:
    """``identity`` (a stage's, or a training folder's) without the variant fields its stages never
    read: what decides the weights."""
    variant = identity.get("variant_config")
    if not isinstance(variant, dict):
        return identity
    unread = set(TEST_TIME_FIELDS)
    if not _reads_long_term(identity):
        unread |= {*LONG_TERM_FIELDS, *(("memory",) if variant.get("memory") != "full" else ())}
    return {**identity, "variant_config": {k: v for k, v in variant.items() if k not in unread}}


def _reads_long_term(identity: dict[str, Any]) -> bool:
    """Whether a stage of ``identity`` (a stage's ``stages``, a folder's ``preset.stages``) may read a
    long-term reference: any stage that samples other than pairs, or stages it does not show."""
    preset = identity.get("preset")
    stages = identity.get("stages", preset.get("stages") if isinstance(preset, dict) else None)
    if not isinstance(stages, list) or not stages:
        return True
    return any(not isinstance(s, dict) or s.get("sampling", PAIRS) != PAIRS for s in stages)
