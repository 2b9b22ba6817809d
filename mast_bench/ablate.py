"""`python -m mast_bench.ablate NAME [--preset smoke|paper] [--data PATH] [--jobs N] [--results DIR]`.

Runs every variant of ablations/NAME.toml through the harness (cached records
are reused) and writes the study's report to <results>/reports/NAME/.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .errors import UserError
from .harness.study import available_studies, load_study, run_study


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mast_bench.ablate", description=__doc__.splitlines()[2])
    parser.add_argument(
        "study", metavar="NAME", help=f"a study of ablations/: {', '.join(available_studies())}"
    )
    parser.add_argument(
        "--preset", default="smoke", help="budget preset of the study: smoke (default) or paper"
    )
    parser.add_argument("--data", type=Path, default=None, help="DAVIS root (default: the embedded default)")
    parser.add_argument("--jobs", type=int, default=1, help="variants run in parallel (joblib; default 1)")
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "mast_bench.ablate", *(sys.argv[1:] if argv is None else argv)])
    try:
        if args.jobs < 1:
            raise UserError(f"--jobs must be >= 1, got {args.jobs}")
        study = load_study(args.study)
        manifest, report = run_study(
            study, args.preset, args.results, args.data, n_jobs=args.jobs, command=command
        )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"study {manifest.study} ({manifest.preset} preset): {len(manifest.records)} records")
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
