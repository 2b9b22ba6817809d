"""`python -m mast_bench.report [--results DIR] [--out DIR] [--study NAME] [--preset NAME]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from .build import write_all_records_report, write_study_report
from .manifest import find_manifest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mast_bench.report",
        description="Tables, uncertainty, plots and paper tables from the result records of a folder.",
    )
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default: <results>/reports/<study or 'all'>)"
    )
    parser.add_argument(
        "--study", default=None, help="report one study run (ablations/NAME.toml); default: all records"
    )
    parser.add_argument(
        "--preset", default=None, help="with --study: which preset's run (default: the latest)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.study is None:
            if args.preset is not None:
                raise UserError("--preset needs --study")
            path = write_all_records_report(args.results, args.out)
        else:
            path = write_study_report(
                args.results, find_manifest(args.results, args.study, args.preset), args.out
            )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
