"""``python -m mast_bench.report``: the same as ``mast-bench report``."""

import sys

from ..commands.report import main

if __name__ == "__main__":
    sys.exit(main())
