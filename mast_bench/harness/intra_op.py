"""Intra-op threads of this process: the count the user chose, and a block run with a given count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ..threads import chosen_threads


def user_threads() -> int | None:
    """The intra-op thread count the user chose (environment, else ``torch.set_num_threads``)."""
    choice = chosen_threads(torch.get_num_threads())
    return None if choice is None else choice[0]


@contextlib.contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads, then put back the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
