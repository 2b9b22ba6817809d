"""mast-bench: a faithful, fast reimplementation of MAST and a benchmark suite for its design choices."""

__version__ = "0.1.0"
