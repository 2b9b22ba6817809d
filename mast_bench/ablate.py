"""``python -m mast_bench.ablate``: the same as ``mast-bench ablate``."""

import sys

from .commands.ablate import main

if __name__ == "__main__":
    sys.exit(main())
