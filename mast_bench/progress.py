"""Progress that reads well in both places it ends up: a live bar on a terminal, one line per
sequence or training stage in a log file (a bar's carriage-return updates would fill it with
thousands of half-lines). Notices (waiting for a lock, a reused record) are single lines on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO


def tell(message: str) -> None:
    """A one-line notice on stderr (waiting for a lock, a record left out)."""
    print(message, file=sys.stderr, flush=True)


_told: set[str] = set()  # this process's notices said once (deliberately process-wide)


def tell_once(message: str) -> None:
    """:func:`tell`, unless this process said ``message`` already: a fact found each time a file is
    read (an unreadable record, a data quirk) is said once per command, not once per read."""
    if message not in _told:
        _told.add(message)
        tell(message)


def tell_notes(notes: Iterable[str]) -> None:
    """A data check's notes (what the readers settled on their own), each said once per process."""
    for note in notes:
        tell_once(f"note: {note}")


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int,
    desc: str,
    unit: str,
    enabled: bool = True,
    initial: int = 0,
    leave: bool = False,
    stream: TextIO | None = None,
):
    """A tqdm bar when ``stream`` (default stderr) is a terminal, else a :class:`LineProgress`;
    nothing at all when not ``enabled``. Both take ``update``, ``set_postfix`` and ``close`` and
    iterate over ``iterable`` when given."""
    stream = sys.stderr if stream is None else stream
    if not enabled:
        return LineProgress(iterable, total=total, desc=desc, unit=unit, initial=initial, stream=None)
    if stream.isatty():
        from tqdm import tqdm

        return tqdm(
            iterable, total=total, initial=initial, desc=desc, unit=unit, leave=leave, file=stream,
            dynamic_ncols=True,
        )  # fmt: skip
    return LineProgress(iterable, total=total, desc=desc, unit=unit, initial=initial, stream=stream)


class LineProgress:
    """Counts like a bar and writes one line when closed (or when its iterable is exhausted):
    ``desc: n/total unit in s s (from initial), key=value ...``; ``stream`` None writes nothing."""

    def __init__(
        self,
        iterable: Iterable[Any] | None,
        *,
        total: int,
        desc: str,
        unit: str,
        initial: int = 0,
        stream: TextIO | None,
    ) -> None:
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.initial = self.n = initial
        self.stream = stream
        self.postfix: dict[str, Any] = {}
        self._start = time.perf_counter()
        self._closed = False

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.n += 1
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values

    def line(self) -> str:
        elapsed = time.perf_counter() - self._start
        text = f"{self.desc}: {self.n}/{self.total} {self.unit} in {elapsed:.1f} s"
        if self.initial:
            text += f" (resumed at {self.initial})"
        return ", ".join([text, *(f"{k}={v}" for k, v in self.postfix.items())])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.stream is not None:
            print(self.line(), file=self.stream, flush=True)
