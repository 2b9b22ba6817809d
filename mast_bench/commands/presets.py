"""``mast-bench presets [PATTERN]``: the training presets, each stage as the trainer will run it.

One plain line for the preset (seed, evaluation size, snapshots, iterations) and one per stage
(tab-separated, never truncated, so it can be grepped); a preset written with ``base = "..."`` is
shown resolved. ``--presets FILE`` shows that file's tables too; ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from . import base

NAME = "presets"
# what each sampling reads, beside the fields every stage has
SAMPLING_FIELDS = {
    "pairs": ("gaps",),
    "memory": ("short_term", "long_term", "long_term_range"),
    "schedule": ("short_term", "anchors", "target_range"),
}
SWITCHES = ("mixed_precision", "channels_last", "cache_frames")


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern (e.g. 'cpu*')")
    parser.add_argument(
        "--presets", type=Path, metavar="FILE.toml", help="show the [preset.NAME] tables of this file too"
    )
    parser.add_argument("--json", action="store_true", help="every field of every preset, as JSON")
    parser.set_defaults(run=run)
    return parser


def _text(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return "full" if value is None else str(value)


def preset_line(preset) -> str:
    settings = {
        "seed": preset.seed,
        "max_side": preset.max_side,
        "snapshots": preset.snapshots,
        "iterations": preset.iterations,
    }
    return f"{preset.name}\t\t" + " ".join(f"{k}={_text(v)}" for k, v in settings.items())


def stage_line(preset, index: int) -> str:
    stage = preset.stages[index]
    settings = {
        "sampling": stage.sampling,
        "iterations": stage.iterations,
        "batch_size": stage.batch_size,
        "lr": stage.lr,
        "lr_milestones": stage.lr_milestones,
        "frame_size": "x".join(str(s) for s in stage.frame_size),
    }
    settings |= {name: getattr(stage, name) for name in SAMPLING_FIELDS[stage.sampling]}
    settings |= {name: True for name in SWITCHES if getattr(stage, name)}
    if stage.seed is not None:
        settings["seed"] = stage.seed
    if stage.precise_bn:
        settings["precise_bn"] = stage.precise_bn
    shown = " ".join(f"{k}={_text(v) or '-'}" for k, v in settings.items())
    return f"{preset.name}\t{index + 1}-{stage.name}\t{shown}"


def run(args: argparse.Namespace) -> int:
    import json

    from ..config import to_dict
    from ..harness.presets import PRESETS

    registry = PRESETS.with_files([args.presets] if args.presets else [])
    names = registry.names(args.pattern)
    if not names:
        raise UserError(f"no preset matches {args.pattern!r}; known presets: {', '.join(registry.names())}")
    presets = [registry.get(name) for name in names]
    if args.json:
        print(json.dumps([to_dict(p) for p in presets], indent=1))
        return 0
    for preset in presets:
        print(preset_line(preset))
        for index in range(len(preset.stages)):
            print(stage_line(preset, index))
    return 0
