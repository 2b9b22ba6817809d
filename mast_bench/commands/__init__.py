"""The command lines, the top floor: argument parsing and error presentation only.

Each module is one command of ``mast-bench`` (``build(parent)`` hangs its parser on the
subcommands, ``main(argv)`` runs it alone for ``python -m mast_bench.<command>``).
"""

COMMANDS = (
    "variants",
    "protocols",
    "presets",
    "data",
    "check",
    "train",
    "propagate",
    "evaluate",
    "run",
    "ablate",
    "learning_curve",
    "report",
    "kernels",
)
