"""Datasets the project generates itself: built out of sight, published whole, reused when current.

Shared by the embedded DAVIS-layout default, YouTube-style, JHMDB- and VIP-style sets: a dataset is built
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import folder_mode
from ..errors import DataError


@dataclass(frozen=True)
class GeneratedKind:
    """One generated dataset's names: its version (also its default folder's name), the environment
    variable that moves it, and the stamp file that marks a complete copy."""

    version: str
    env_var: str
    stamp_name: str
    what: str  # as messages name it, e.g. "embedded YouTube-style"

    def default_root(self) -> Path:
        """$<env_var> if set, else ~/.cache/mast-bench/<version>."""
        env = os.environ.get(self.env_var)
        return Path(env).expanduser() if env else Path.home() / ".cache" / "mast-bench" / self.version

    def read_stamp(self, root: str | Path) -> dict | None:
        """The stamp of a complete dataset of this version at ``root``, or None."""
        try:
            stamp = json.loads((Path(root) / self.stamp_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return stamp if isinstance(stamp, dict) and stamp.get("version") == self.version else None

    def check_params(self, params: dict, spec_type: type) -> None:
        """Refuse keyword parameters that are not fields of ``spec_type`` (a typo would be ignored)."""
        unknown = sorted(set(params) - set(spec_type.__dataclass_fields__) - {"seed"})
        if unknown:
            raise DataError(f"{self.what} dataset: unknown parameter(s) {unknown}")


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
    root: Path, wanted: dict[str, Any], kind: GeneratedKind, make: Callable[[], Path]
) -> Path:
    """``root`` holding the dataset of spec ``wanted`` (``make()`` builds it when the folder is absent)."""
    wanted = json.loads(json.dumps(wanted))
    stamp = kind.read_stamp(root)
    if stamp is None and not (root.exists() and any(root.iterdir())):
        try:
            make()
        except (OSError, DataError):
            # another process may have renamed its own copy into place first: use it if complete
            if kind.read_stamp(root) is None:
                raise
        stamp = kind.read_stamp(root)
    if stamp is None:
        raise DataError(
            f"{root}: exists but is not a complete {kind.version} dataset (no valid {kind.stamp_name})"
        )
    if stamp.get("spec") != wanted:
        raise DataError(
            f"{root / kind.stamp_name}: {kind.version} dataset made with {stamp.get('spec')}, {wanted} "
            f"requested (remove the folder or point ${kind.env_var} elsewhere)"
        )
    return root
