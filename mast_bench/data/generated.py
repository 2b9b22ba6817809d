"""Datasets the project generates itself: built out of sight, published whole, reused when current.

Shared by the embedded DAVIS-layout default and the embedded YouTube-style set: a dataset is built
in a hidden temp folder beside its destination and renamed into place, so a reader (or a concurrent
builder) sees a complete dataset or none; a folder is reused only when its stamp records the spec
asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..atomic import folder_mode
from ..errors import DataError


def build_into(out_dir: str | Path, generate: Callable[[Path], None], overwrite: bool = False) -> Path:
    """``generate(tmp)`` into a hidden folder next to ``out_dir``, then rename it into place."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise DataError(f"{out}: already exists and is not empty (choose another --out or remove it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    os.chmod(tmp, folder_mode())  # as a plain mkdir would make it: shared by whom the umask says
    try:
        generate(tmp)
        old = None
        if out.exists() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "data")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def ensure_generated(
    root: Path,
    wanted: dict[str, Any],
    read_stamp: Callable[[Path], dict | None],
    make: Callable[[], Path],
    what: str,
    env_var: str,
    stamp_name: str,
) -> Path:
    """``root`` holding the dataset of spec ``wanted`` (``make()`` builds it when the folder is absent)."""
    wanted = json.loads(json.dumps(wanted))
    stamp = read_stamp(root)
    if stamp is None and not (root.exists() and any(root.iterdir())):
        try:
            make()
        except (OSError, DataError):
            # another process may have renamed its own copy into place first: use it if complete
            if read_stamp(root) is None:
                raise
        stamp = read_stamp(root)
    if stamp is None:
        raise DataError(f"{root}: exists but is not a complete {what} dataset (no valid {stamp_name})")
    if stamp.get("spec") != wanted:
        raise DataError(
            f"{root / stamp_name}: {what} dataset made with {stamp.get('spec')}, {wanted} requested "
            f"(remove the folder or point ${env_var} elsewhere)"
        )
    return root
