"""``python -m mast_bench.evaluate``: the same as ``mast-bench evaluate``."""

import sys

from .commands.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
