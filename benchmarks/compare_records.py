"""Paired differences of J&F between rows of a results folder and one reference row.

    python benchmarks/compare_records.py --results reports/training-memory-control/results \
        --reference "mast-scaled (train-cpu-mast-scaled/3-schedule)" \
        --out reports/training-memory-control/comparisons-vs-stage-1.json

`--pair ROW REFERENCE` (repeated) pairs each named row with its own reference instead (the same
weights before and after a change, say). Rows are named as `mast-bench report --results DIR` labels
them (the variant, then the weights or the evaluation size where one variant has several). Each
row minus the reference, over the objects both scored (percentile bootstrap, Wilcoxon) and over
their object-frames resampled in blocks of 10 consecutive frames (the training report's intervals):
with a handful of objects the object interval is wide, the frame-block one says whether the
difference holds frame by frame.
`same_weights` says whether both records scored the same weights (null where a record predates
`provenance.weights_sha256`).
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def comparison_row(label: str, record, reference) -> dict:
    from mast_bench.report.training import compare, interval_verdict

    result = compare("", label, record, reference)
    objects, frames = result.objects, result.frames
    return {
        "row": label,
        "record": record.key,
        "J&F": round(100 * record.metrics["global"]["J&F-Mean"], 2),
        "mean_difference": round(objects.mean_difference, 2),
        "objects": objects.n_pairs,
        "objects_ci95": [round(objects.low, 2), round(objects.high, 2)],
        "wilcoxon_p": None if math.isnan(objects.wilcoxon_p) else round(objects.wilcoxon_p, 4),
        "object_frames": frames.n,
        "frame_blocks_ci95": [round(frames.low, 2), round(frames.high, 2)],
        "verdict": interval_verdict(frames.low, frames.high),
        "same_weights": same_weights(record, reference),
    }


def same_weights(record, reference) -> bool | None:
    """Whether the two records scored the same weights (``provenance.weights_sha256``, the weights'
    own hash: two files of the same weights agree); None where either record predates it."""
    hashes = [r.provenance.get("weights_sha256") for r in (record, reference)]
    return None if None in hashes else hashes[0] == hashes[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="a results folder (records/)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--reference", help="the row every other is paired against")
    which.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("ROW", "REFERENCE"),
        help="one row against its own reference (repeat for more pairs)",
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    from mast_bench.atomic import atomic_write_text
    from mast_bench.errors import UserError
    from mast_bench.report.collect import all_entries, load_records

    try:
        entries = {e.label: e.record for e in all_entries(load_records(args.results))}
        pairs = args.pair or [(label, args.reference) for label in entries if label != args.reference]
        named = {name for pair in pairs for name in pair} | {args.reference}
        unknown = sorted(named - {None} - set(entries))
        if unknown:
            raise UserError(f"{args.results}: no row {unknown[0]!r}; rows: {', '.join(entries)}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [comparison_row(row, entries[row], entries[ref]) for row, ref in pairs]
    if args.pair:  # each row names its own reference
        rows = [{**row, "reference": ref} for row, (_, ref) in zip(rows, pairs, strict=True)]
    report = {"command": shlex.join(["python", "benchmarks/compare_records.py", *(argv or sys.argv[1:])])}
    if args.reference:
        report["reference"] = {"row": args.reference, "record": entries[args.reference].key}
    atomic_write_text(args.out, json.dumps({**report, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    for row in rows:
        print(
            f"{row['row']}: {row['J&F']:.2f} J&F, {row['mean_difference']:+.2f} vs "
            f"{row.get('reference', 'reference')}, frame blocks {row['frame_blocks_ci95']}: {row['verdict']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
