"""``python -m mast_bench.report``: the same as ``mast-bench report``."""

import sys

from ..__main__ import entry

main = entry("report")

if __name__ == "__main__":
    sys.exit(main())
