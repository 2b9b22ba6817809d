"""``python -m mast_bench.ablate``: the same as ``mast-bench ablate``."""

import sys

from .__main__ import entry

main = entry("ablate")

if __name__ == "__main__":
    sys.exit(main())
