"""``python -m mast_bench.evaluate``: the same as ``mast-bench evaluate``."""

import sys

from .__main__ import entry

main = entry("evaluate")

if __name__ == "__main__":
    sys.exit(main())
