"""``mast-bench propagate --variant NAME (--checkpoint PATH | --random-init) --data ROOT --out DIR``

Semi-supervised propagation with the variant's reference schedule (or another test-time
protocol); writes palette PNGs at the frames' size -- DAVIS: <out>/<seq>/<frame>.png; YouTube-VOS
(--dataset youtube-vos): the submission layout <out>/Annotations/<video>/<frame>.png for every
required frame and <out>/submission.zip for the evaluation server -- then scores them when the
dataset has every annotation. Each sequence is published when complete, so an interrupted run
resumes with the sequences still missing; a folder holding another configuration's masks is
refused unless --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..data.splits import open_split
from ..errors import ConfigError
from ..harness.scoring import score_split
from . import base

NAME = "propagate"
ZIP_NAME = "submission.zip"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_variants(parser, several=False)
    base.add_protocol(parser, several=False)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="weights file (official MAST checkpoint or one of ours)")
    weights.add_argument("--random-init", action="store_true", help="explicitly use random weights")
    base.add_data(parser)
    parser.add_argument("--out", type=Path, required=True, help="masks folder (resumed if it holds this run)")
    parser.add_argument(
        "--max-side", type=base.max_side, default=None, help="network input side (default full)"
    )
    base.add_device(parser)
    parser.add_argument("--force", action="store_true", help="recompute the chosen sequences in --out")
    parser.add_argument("--no-score", action="store_true", help="only write the masks")
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def _single(items: list, what: str):
    if len(items) != 1:
        raise ConfigError(f"propagate takes one {what}, got {', '.join(i.name for i in items)}")
    return items[0]


def run(args: argparse.Namespace) -> int:
    from ..harness.resumable import segment_into  # the model stack: torch loads here, not at start-up

    split = open_split(base.data_spec(args))
    stats, done = segment_into(
        _single(base.resolve_variants(args), "variant"),
        _single(base.resolve_protocols(args), "protocol"),
        split,
        args.out,
        checkpoint=args.checkpoint,
        random_init=args.random_init,
        device=base.resolve_device(args.device),
        max_side=args.max_side,
        force=args.force,
        progress=not args.quiet,
    )
    frames = max(stats.frames, 1)
    print(
        f"{len(stats.sequences)} videos propagated ({len(done)} already complete), {stats.frames} frames "
        f"in {stats.seconds:.1f} s ({stats.seconds / frames:.3f} s/frame, encoder "
        f"{stats.encoder.seconds / frames:.3f}); masks in {args.out}"
    )
    if split.kind == "youtube-vos":
        _write_submission(split, args.out, changed=bool(stats.sequences))
    if args.no_score:
        return 0
    reason = split.unscorable_reason()
    if reason is None:
        _print_scores(score_split(split, args.out))
    else:
        print(f"not scored: {reason}")
    return 0


def _write_submission(split, out: Path, changed: bool) -> None:
    """The server's zip, when the run covered the whole split (it refuses one missing a video). A zip
    of an earlier run no longer matches the folder once this run has changed its masks: removed."""
    every = split.dataset().video_names()
    if set(split.sequences) != set(every):
        print(
            f"submission zip: not written ({len(split.sequences)} of the split's {len(every)} videos; "
            "the evaluation server needs every one)"
        )
        earlier = Path(out) / ZIP_NAME
        if changed and earlier.is_file():
            earlier.unlink()
            print(f"removed {earlier}: an earlier run's, and this run changed masks it holds")
        return
    print(f"submission zip for the evaluation server: {split.zip(out, out / ZIP_NAME)}")


def _print_scores(metrics: dict[str, Any]) -> None:
    print("global:", ", ".join(f"{k} {v:.4f}" for k, v in metrics["global"].items() if isinstance(v, float)))
    for row in metrics["per_object"]:
        cells = (f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        print("  ", ", ".join(cells))
