"""``python -m mast_bench.train``: the same as ``mast-bench train``."""

import sys

from .commands.train import main

if __name__ == "__main__":
    sys.exit(main())
