"""``python -m mast_bench.propagate``: the same as ``mast-bench propagate``."""

import sys

from .__main__ import entry

main = entry("propagate")

if __name__ == "__main__":
    sys.exit(main())
