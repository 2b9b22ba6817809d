"""A checkpoint and the training stage it ended, as the BatchNorm scripts take them
(benchmarks/precise_bn.py, benchmarks/replay_batchnorm.py): the same flags, checked the same way."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from ..data.clips import ClipSource
    from ..harness.presets import Preset, TrainStage
    from ..model import MAST


def add_stage_checkpoint_arguments(parser: argparse.ArgumentParser, stage_help: str) -> None:
    from .base import add_variants_file

    parser.add_argument("--variant", required=True)
    add_variants_file(parser)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--presets", type=Path, default=None, help="TOML presets (default: built-in)")
    parser.add_argument("--preset", required=True)
    parser.add_argument("--stage", type=int, required=True, help=stage_help)
    parser.add_argument("--data", type=Path, required=True, help="the training frames (as mast-bench train)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")


@dataclass(frozen=True)
class StageCheckpoint:
    preset: Preset
    stage: TrainStage
    device: torch.device
    model: MAST  # with the checkpoint's weights, on the CPU
    clips: ClipSource  # the training frames


def open_stage_checkpoint(args: argparse.Namespace, cache_dir: Path) -> StageCheckpoint:
    """The preset's stage ``--stage``, the device, the variant with the checkpoint's weights and the
    training frames; a UserError naming the flag or file at fault before any work."""
    import torch

    from ..errors import ConfigError
    from ..harness.batches import open_clip_source
    from ..harness.presets import get_preset
    from ..model import MAST
    from ..model.checkpoint import load_weights
    from .base import resolve_device, variant_registry

    preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
    if not 1 <= args.stage <= len(preset.stages):
        raise ConfigError(f"--stage {args.stage}: preset {preset.name} has {len(preset.stages)} stage(s)")
    device = torch.device(resolve_device(args.device))
    model = MAST(variant_registry(args.variants_file).get(args.variant))
    load_weights(model, args.checkpoint)
    return StageCheckpoint(
        preset, preset.stages[args.stage - 1], device, model, open_clip_source(args.data, cache_dir)
    )
