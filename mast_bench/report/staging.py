"""Publish a report folder whole: made beside its folder, its parts moved in when complete.

A report cut short (an error, Ctrl-C, a kill) leaves the previous one as it was, never its report.md
beside newer tables and figures; a killed report's staging folder is removed by the next one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import ConfigError, require_folder_or_absent
from ..locks import debris_name, remove_stale_debris, replace_folder
from ..results.layout import ResultsLayout

Made = TypeVar("Made")


def write_staged(
    out_dir: Path, parts: tuple[str, ...], write: Callable[[Path], Made], results: Path | None = None
) -> Made:
    """Run ``write(staging)`` in a fresh folder beside ``out_dir``, then move ``parts`` (names in it,
    the one every other links to last) onto ``out_dir``'s; returns what ``write`` returned.
    ``results``: the store the report is made from (see :func:`check_report_folder`)."""
    require_folder_or_absent(out_dir, "the report's folder")
    if results is not None:
        check_report_folder(out_dir, parts, results)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_debris(out_dir.parent, f".{out_dir.name}-building")
    for part in parts:  # a part moved aside by a killed publish
        remove_stale_debris(out_dir, f".{part}-building")
    staging = out_dir.parent / debris_name(f".{out_dir.name}-building")
    try:
        made = write(staging)
        _publish(staging, out_dir, parts)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return made


def check_report_folder(out_dir: str | Path, parts: tuple[str, ...], results: str | Path) -> None:
    """Refuse a report folder whose parts would replace the results store (a training report's
    ``results/`` beside a store named results: ``--out .``), or that lies in one of the store's own
    folders (records/, masks/, ...): a report replaces its parts whole."""
    layout = ResultsLayout(Path(results).resolve())
    out = Path(out_dir).resolve()
    for name in parts:
        if (out / name) == layout.root or (out / name) in layout.root.parents:
            raise ConfigError(
                f"{out_dir}: the report's {name}/ there would replace the results store {results}; "
                "choose another report folder"
            )
    for own in layout.own_paths():
        if own == out or own in out.parents:
            raise ConfigError(
                f"{out_dir}: inside the results store's {own.name}/ ({results}); choose a report folder "
                f"outside it or under {layout.reports_root.name}/"
            )


def _publish(staging: Path, out_dir: Path, parts: tuple[str, ...]) -> None:
    """Move the finished parts onto ``out_dir``'s, leaving its other files (a README, a study's notes)
    alone; a part the new report lacks is removed."""
    out_dir.mkdir(exist_ok=True)
    for name in parts:
        new, old = staging / name, out_dir / name
        if new.is_dir():
            replace_folder(old, new)
        elif new.exists():
            os.replace(new, old)
        elif old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()


__all__ = ["check_report_folder", "write_staged"]
