"""Names that become one path component (a sequence, a video, a frame): never empty, never a
separator, never ``.`` or ``..``, so a name read from a list file cannot leave its folder."""

from __future__ import annotations

from ..errors import DataError


def is_plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def plain_name(name: str, what: str, where: object | None = None) -> str:
    """``name`` when it is plain, else a DataError "[where: ]bad WHAT name 'NAME'"."""
    if not is_plain_name(name):
        prefix = f"{where}: " if where is not None else ""
        raise DataError(f"{prefix}bad {what} name {name!r}")
    return name
