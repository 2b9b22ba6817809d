"""``python -m mast_bench.data``: the same as ``mast-bench data``."""

import sys

from ..commands.data import main

if __name__ == "__main__":
    sys.exit(main())
