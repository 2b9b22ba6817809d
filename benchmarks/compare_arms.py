"""Arms of training replicates (one recipe, several seeds) of a results folder, compared run by run.

    python benchmarks/compare_arms.py --results reports/training-memory-control/results \
        --arms reports/training-memory-control/arms.toml \
        --out reports/training-memory-control/comparisons-arms.json

The arms file names each arm's rows (as `mast-bench report --results DIR` labels them) and the
arms every other is compared with (``mast_bench.report.replicates``): each arm's mean J&F over its
runs, their standard deviation and t interval, and Welch's t interval of each difference of means.
Unlike `compare_records.py` (one run against one run, evaluation noise only), these intervals
count the seed noise between training runs, and with two or three runs per arm they are wide.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="a results folder (records/)")
    parser.add_argument("--arms", type=Path, required=True, help="TOML: [arm.NAME] rows, [[comparison]]")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    from mast_bench.atomic import atomic_write_text
    from mast_bench.errors import UserError
    from mast_bench.report.collect import all_entries, load_records
    from mast_bench.report.replicates import compare_arms, load_arms

    try:
        config = load_arms(args.arms)
        scores = {
            e.label: 100 * e.record.metrics["global"]["J&F-Mean"]
            for e in all_entries(load_records(args.results))
        }
        comparison = compare_arms(config, scores, str(args.arms))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = {"command": shlex.join(["python", "benchmarks/compare_arms.py", *(argv or sys.argv[1:])])}
    atomic_write_text(args.out, json.dumps({**report, **comparison}, indent=1, ensure_ascii=False) + "\n")
    for name, arm in comparison["arms"].items():
        print(
            f"{name}: {arm['mean']:.2f} J&F over {arm['n']} run(s), sd {arm['sd']}, "
            f"interval [{arm['low']}, {arm['high']}]"
        )
    for row in comparison["differences"]:
        print(
            f"{row['arm']} - {row['reference']}: {row['difference']:+.2f} [{row['low']}, {row['high']}] "
            f"({row['method']}): {row['verdict']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
