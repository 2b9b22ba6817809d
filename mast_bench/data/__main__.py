"""``python -m mast_bench.data``: the same as ``mast-bench data``."""

import sys

from ..__main__ import entry

main = entry("data")

if __name__ == "__main__":
    sys.exit(main())
