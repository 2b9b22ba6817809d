"""``mast-bench propagate``'s work: a split's masks into a folder that one run owns at a time and a
rerun resumes.

The folder keeps a stamp of the configuration whose masks it holds (variant, protocol, weights,
data, input size). A rerun of the same configuration resumes with the videos still missing (each
video is published whole); a folder of another configuration is refused unless ``force``. A second
propagation into the same folder waits for the first (a lock), then resumes what is left. The data
is checked before the model is built and before the folder is touched.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..config import to_dict
from ..data.overlap import overlapping
from ..data.splits import EvaluationSplit
from ..errors import DataError, require_folder_or_absent
from ..locks import job_lock, remove_stale_debris
from ..model import create_model
from ..progress import tell
from ..protocols import ProtocolConfig
from ..variants import VariantConfig
from .segmentation import SegmentationStats, segment_split
from .weights import weights_identity

STAMP = ".mast-bench-propagate.json"
LOCK = ".mast-bench.lock"


def segment_into(
    config: VariantConfig,
    protocol: ProtocolConfig,
    split: EvaluationSplit,
    out: Path,
    *,
    checkpoint: str | None = None,
    random_init: bool = False,
    device: str = "cpu",
    max_side: int | None = None,
    force: bool = False,
    progress: bool = True,
    on_wait: Callable[[str], None] = tell,
) -> tuple[SegmentationStats, tuple[str, ...]]:
    """(stats of the videos propagated now, videos already complete before): masks of ``split`` in ``out``."""
    split.check()  # every frame and annotation, before any model work and before `out` is touched
    _refuse_dataset_folders(out, split)
    stamp = folder_stamp(config, protocol, weights_identity(config, checkpoint, random_init), split, max_side)
    model = create_model(config, checkpoint, device=device, seed=0 if random_init else None)
    with claimed(out, stamp, split, force, on_wait) as done:
        stats = segment_split(
            model, split, out, protocol, device=device, max_side=max_side, progress=progress, skip=done
        )
    return stats, done


def _refuse_dataset_folders(out: Path, split: EvaluationSplit) -> None:
    """A video's masks folder replaces the one there (with ``force``, whatever it holds): ``out`` must
    not be, hold or lie inside a folder of the dataset's frames or annotations."""
    folders = {path.parent for video in split.files() for path in (*video.frames, *video.annotations)}
    clash = overlapping(out, sorted(folders))
    if clash is not None:
        raise DataError(
            f"{out}: the output folder overlaps the dataset's {clash} (masks written there would replace "
            "its files); choose an --out outside the dataset's frame and annotation folders"
        )


def folder_stamp(
    config, protocol, weights: dict[str, Any], split: EvaluationSplit, max_side
) -> dict[str, Any]:
    """What a masks folder's contents depend on (the data by its identity, not its fingerprint)."""
    return {
        "variant": to_dict(config),
        "protocol": to_dict(protocol),
        "weights": {k: weights.get(k) for k in ("kind", "sha256")},
        "data": split.identity(fingerprint=""),
        "max_side": max_side,
    }


@contextlib.contextmanager
def claimed(
    out: Path, stamp: dict[str, Any], split: EvaluationSplit, force: bool, on_wait: Callable[[str], None]
) -> Iterator[tuple[str, ...]]:
    """Hold ``out`` (a second run waits), stamped with this configuration; yields the complete videos."""
    require_folder_or_absent(out, "the masks' folder")
    out.mkdir(parents=True, exist_ok=True)
    with job_lock(out / LOCK, f"propagation into {out}", on_wait=on_wait):
        done = () if force else resumable(out, stamp, split)
        atomic_write_json(out / STAMP, stamp)
        remove_stale_debris(out, ".", ".partial")
        yield done


def resumable(out: Path, stamp: dict[str, Any], split: EvaluationSplit) -> tuple[str, ...]:
    """The videos of ``out`` that are complete results of this very configuration (whichever videos
    the run that wrote them chose: a video's masks do not depend on the others)."""
    present = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if not present:
        return ()
    shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
    found = _read_stamp(out)
    if not isinstance(found, dict):
        raise DataError(
            f"{out}: output folder holds other files ({shown}) and no stamp of a configuration; choose "
            "another --out or --force"
        )
    wanted = json.loads(json.dumps(stamp))
    differing = [k for k in wanted if _without_selection(k, found.get(k)) != _without_selection(k, wanted[k])]
    if differing:
        raise DataError(
            f"{out}: output folder already holds results of another configuration ({shown}; its "
            f"{' and '.join(differing)} {'differs' if len(differing) == 1 else 'differ'}); choose another "
            "--out or --force"
        )
    return split.complete(out)


def _without_selection(key: str, value: Any) -> Any:
    if key == "data" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "sequences"}
    return value


def _read_stamp(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
