"""``mast-bench kernels build | where``: build the CPU kernels of the memory operators ahead of time.

``build`` compiles the kernel sources (csrc/ in a checkout, mast_bench/ops/csrc in a wheel) once
(about a minute on 2 cores) into a folder keyed by the sources, flags, compiler, torch and Python
($MAST_BENCH_KERNELS_DIR, default ~/.cache/mast-bench/kernels); runs then only load it.
scripts/setup runs it. Another build of the same folder in progress is waited for (saying whose);
one killed half-way is cleaned up. After a failed build runs take the reference path; ``build``
tries again. ``where`` names the folder and its state without building.
"""

from __future__ import annotations

import argparse
import time

from ..errors import UserError
from . import base

NAME = "kernels"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("build", help="compile the CPU kernels now (once; later calls load them)")
    make.add_argument("--verbose", action="store_true", help="show the compiler's output")
    make.set_defaults(run=build_kernels)
    where = actions.add_parser("where", help="the build folder and its state (built, failed, absent)")
    where.set_defaults(run=show_location)
    return parser


def build_kernels(args: argparse.Namespace) -> int:
    from ..ops import cpu_build

    folder = cpu_build.location()
    if cpu_build.state() == "built":
        print(f"CPU kernels: already built in {folder}")
        return 0
    started = time.monotonic()
    try:
        cpu_build.build(args.verbose, retry=True, tell=base.tell)
    except cpu_build.BuildFailed as exc:
        raise UserError(
            f"{exc}; the memory operators will run the pure-PyTorch reference path (exact, slower). "
            f"They need a C++ compiler with OpenMP and ninja; the compiler's output: {folder / cpu_build.LOG}"
        ) from None
    print(f"CPU kernels: built in {folder} ({time.monotonic() - started:.0f} s)")
    return 0


def show_location(args: argparse.Namespace) -> int:
    from ..ops import cpu_build

    state = cpu_build.state()
    print(f"{cpu_build.location()}\t{state}")
    if state == "failed":
        print(cpu_build.failure())
    return 0
