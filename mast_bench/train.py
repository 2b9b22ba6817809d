"""``python -m mast_bench.train``: the same as ``mast-bench train``."""

import sys

from .__main__ import entry

main = entry("train")

if __name__ == "__main__":
    sys.exit(main())
