"""``mast-bench report [--results DIR] [--study NAME [--preset NAME]] [--reference ROW] [--arms TOML]
[--out DIR]``

Tables (Markdown, LaTeX, CSV), uncertainty, plots and paper tables from the result records of a
results folder: one study run's, or every record's (each row then paired against --reference, by
default `mast` where there is such a row; --arms groups rows into the seeds of one recipe each).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError, require_folder_or_absent
from ..results import find_manifest
from ..results.layout import ResultsLayout
from . import base

NAME = "report"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_results(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report folder (default: <results>/reports/<study>, or <results>/reports/all)",
    )
    parser.add_argument(
        "--study",
        default=None,
        help="report one study run (its name, or its TOML file as ablate took it); default: all records",
    )
    parser.add_argument(
        "--preset", default=None, help="with --study: which preset's run (default: the latest)"
    )
    parser.add_argument(
        "--reference",
        metavar="ROW",
        default=None,
        help="without --study: the row every other is paired against, as the report labels it "
        "(default: mast, or mast@mast where protocols differ, where present)",
    )
    parser.add_argument(
        "--arms",
        type=Path,
        metavar="TOML",
        default=None,
        help="without --study: rows grouped into arms of training runs ([arm.NAME] rows = [...], "
        "[[comparison]] reference = ARM), compared run by run",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="leave out record files that cannot be read (each named on stderr) instead of stopping",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..report.build import write_all_records_report, write_study_report  # scipy, matplotlib: here

    if args.out is not None:
        require_folder_or_absent(args.out, "the report's folder")
    if args.study is None:
        if args.preset is not None:
            raise UserError("--preset needs --study")
        path = write_all_records_report(args.results, args.out, args.force, args.reference, args.arms)
    else:
        if args.reference is not None or args.arms is not None:
            raise UserError("--reference and --arms are for a report of all records (a study names its own)")
        study = _known_study(args.results, args.study)
        manifest = find_manifest(args.results, study, args.preset)
        path = write_study_report(args.results, manifest, args.out, args.force)
    print(f"report written to {path}")
    return 0


def _known_study(results: str | Path, study: str) -> str:
    """The study's name: as given, or a study file's (``ablate`` takes the file, and names the study by
    it); one that is neither a study nor in the results says so (not 'run `ablate NAME` first')."""
    from ..config import did_you_mean
    from ..harness.study import available_studies
    from ..results.curves import CURVE_PREFIX

    name = Path(study).stem if study.lower().endswith(".toml") else study
    folder = ResultsLayout(Path(results)).studies_dir
    found = {p.name.rsplit(".", 2)[0] for p in folder.glob("*.json")} if folder.is_dir() else set()
    known = sorted(set(available_studies()) | {n for n in found if not n.startswith(f"{CURVE_PREFIX}-")})
    if name in known:
        return name
    raise UserError(f"unknown study {study!r}{did_you_mean(name, known)}; known studies: {', '.join(known)}")
