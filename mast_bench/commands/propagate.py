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
import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..locks import remove_stale_debris
from . import base

NAME = "propagate"
STAMP = ".mast-bench-propagate.json"
ZIP_NAME = "submission.zip"


def build(parent=None) -> argparse.ArgumentParser:
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
    from ..harness.datasets import resolve_data
    from ..harness.weights import weights_identity
    from ..model import create_model

    config = _single(base.resolve_variants(args), "variant")
    protocol = _single(base.resolve_protocols(args), "protocol")
    device = base.resolve_device(args.device)
    data = resolve_data(base.data_spec(args))
    data.check()  # every frame and annotation, before any model work and before --out is touched
    weights = weights_identity(config, args.checkpoint, args.random_init)
    stamp = _stamp(config, protocol, weights, data, args.max_side)
    model = create_model(config, args.checkpoint, device=device, seed=0 if args.random_init else None)
    with _out_lock(args.out):
        done = _resumable(args.out, stamp, data, args.force)
        args.out.mkdir(parents=True, exist_ok=True)
        _write_stamp(args.out, stamp)
        remove_stale_debris(args.out, ".", ".partial")
        stats = data.propagate(
            model, args.out, device, args.max_side, not args.quiet, skip=done, protocol=protocol
        )
    frames = max(stats.frames, 1)
    print(
        f"{len(stats.sequences)} videos propagated ({len(done)} already complete), {stats.frames} frames "
        f"in {stats.seconds:.1f} s ({stats.seconds / frames:.3f} s/frame, encoder "
        f"{stats.encoder.seconds / frames:.3f}); masks in {args.out}"
    )
    if data.kind == "youtube-vos":
        print(f"submission zip for the evaluation server: {data.zip(args.out, args.out / ZIP_NAME)}")
    if not args.no_score and data.scorable():
        _print_scores(data.score(args.out))
    return 0


def _out_lock(out: Path):
    """One propagate at a time into a folder (a second one waits, then resumes what is left)."""
    from ..locks import job_lock

    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: output path exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return job_lock(out / ".mast-bench.lock", f"propagation into {out}", on_wait=base.tell)


def _stamp(config, protocol, weights: dict[str, Any], data, max_side) -> dict[str, Any]:
    from ..config import to_dict

    return {
        "variant": to_dict(config),
        "protocol": to_dict(protocol),
        "weights": {k: weights.get(k) for k in ("kind", "sha256")},
        "data": data.identity(fingerprint=""),
        "max_side": max_side,
    }


def _resumable(out: Path, stamp: dict[str, Any], data, force: bool) -> tuple[str, ...]:
    """The videos of ``out`` that are complete results of this very configuration."""
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: output path exists and is not a folder")
    if not out.is_dir() or force:
        return ()
    present = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if not present:
        return ()
    previous = _read_stamp(out)
    if previous != json.loads(json.dumps(stamp)):
        shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
        raise DataError(
            f"{out}: output folder already holds results of another configuration ({shown}); "
            "choose another --out or --force"
        )
    return data.complete(out)


def _read_stamp(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_stamp(out: Path, stamp: dict[str, Any]) -> None:
    from ..atomic import atomic_write_json

    atomic_write_json(out / STAMP, stamp)


def _print_scores(metrics: dict[str, Any]) -> None:
    print("global:", ", ".join(f"{k} {v:.4f}" for k, v in metrics["global"].items() if isinstance(v, float)))
    for row in metrics["per_object"]:
        cells = (f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        print("  ", ", ".join(cells))


main = base.standalone(NAME, build)
