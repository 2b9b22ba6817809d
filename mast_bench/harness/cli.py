"""What every command line shares: error presentation and a few argument types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import UserError


def guarded(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Bad input -> ``error: <message>`` on stderr and exit status 2, never a traceback."""

    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper


def comma_list(text: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def max_side(text: str) -> int | None:
    if text.lower() in ("full", "none"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'full', got {text!r}") from None
    if value < 16:
        raise argparse.ArgumentTypeError(f"max side must be >= 16, got {value}")
    return value


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(device: str) -> str:
    import torch

    from ..errors import ConfigError

    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"--device {device!r}: not a torch device (cpu, cuda, cuda:1 ...)") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA device on this machine")
    return device
