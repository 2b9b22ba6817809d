"""``python -m mast_bench.data``: the same as ``mast-bench data`` (one entry, so a Ctrl-C while the
command's modules load ends with one line here too)."""

import sys

from ..__main__ import main as mast_bench_main


def main(argv: list[str] | None = None) -> int:
    return mast_bench_main(["data", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
