"""``python -m mast_bench.propagate``: the same as ``mast-bench propagate``."""

import sys

from .commands.propagate import main

if __name__ == "__main__":
    sys.exit(main())
