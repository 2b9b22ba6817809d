"""``mast-bench propagate``'s work: a split's masks into a folder that one run owns at a time and a
rerun resumes.

The folder keeps a stamp of the configuration whose masks it holds (variant, protocol, weights,
data, input size) and of the videos published under it (each video is published whole, then listed
with the fingerprint of its frames and annotations). A rerun of the same configuration resumes with
the videos not listed and those whose files changed since (a sequence downloaded again); a folder of
another configuration is refused unless ``force``, which lists none of its videos: a forced run that is
interrupted, or that chose fewer sequences, never leaves the old configuration's masks looking like
the new one's. A second propagation into the same folder waits for the first (a lock), then resumes
what is left. The data is checked before the model is built and before the folder is touched. A run
that changed masks removes the score CSVs an earlier ``evaluate`` left there (they scored others).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..config import to_dict
from ..data.fingerprint import video_fingerprints
from ..data.overlap import overlapping
from ..data.splits import EvaluationSplit
from ..errors import DataError, require_folder_or_absent
from ..locks import job_lock, remove_stale_debris
from ..metrics.benchmark_csv import score_csv_patterns
from ..model import create_model
from ..progress import tell, tell_notes
from ..protocols import ProtocolConfig
from ..variants import VariantConfig
from .job import check_protocol_size
from .segmentation import SegmentationStats, segment_split
from .weights import weights_identity

STAMP = ".mast-bench-propagate.json"
LOCK = ".mast-bench.lock"
COMPLETE = "complete"  # the stamp's list of the videos published under its configuration
INPUTS = "inputs"  # {video: fingerprint of the frames and annotations its masks were made from}
HASHES = ".mast-bench-hashes"  # the frames' content hashes by stat, so a rerun only stats them


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
    check_protocol_size(protocol, max_side)
    tell_notes(split.check())  # every frame and annotation, before any model work and before `out` is touched
    _refuse_dataset_folders(out, split)
    stamp = folder_stamp(config, protocol, weights_identity(config, checkpoint, random_init), split, max_side)
    model = create_model(config, checkpoint, device=device, seed=0 if random_init else None)
    with claimed(out, stamp, split, force, on_wait) as ledger:
        stats = segment_split(
            model,
            split,
            out,
            protocol,
            device=device,
            max_side=max_side,
            progress=progress,
            skip=ledger.done,
            published=ledger.add,
        )
        if stats.sequences:
            remove_earlier_scores(out, split.kind)
    return stats, ledger.done


def remove_earlier_scores(out: Path, kind: str) -> None:
    """CSVs an earlier ``evaluate`` wrote beside masks this run has changed score other masks, and
    the DAVIS toolkit reuses CSVs it finds ("Using precomputed results") instead of scoring: removed."""
    earlier = sorted({path for pattern in score_csv_patterns(kind) for path in out.glob(pattern)})
    for path in earlier:
        path.unlink()
    if earlier:
        names = ", ".join(path.name for path in earlier)
        tell(f"removed {names} from {out}: an earlier evaluation's, and this run changed masks they score")


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


class Ledger:
    """The folder's stamp: this configuration and the videos published under it with their inputs'
    fingerprints, rewritten (atomically) as each video is published."""

    def __init__(
        self,
        out: Path,
        stamp: dict[str, Any],
        published: dict[str, str | None],
        now: dict[str, str],
        done: tuple[str, ...],
    ) -> None:
        self.out, self.stamp, self.published, self.now, self.done = out, stamp, published, now, done
        self._write()

    def add(self, video: str) -> None:
        self.published[video] = self.now.get(video)
        self._write()

    def _write(self) -> None:
        inputs = {name: fp for name, fp in sorted(self.published.items()) if fp is not None}
        atomic_write_json(self.out / STAMP, {**self.stamp, COMPLETE: sorted(self.published), INPUTS: inputs})


@contextlib.contextmanager
def claimed(
    out: Path, stamp: dict[str, Any], split: EvaluationSplit, force: bool, on_wait: Callable[[str], None]
) -> Iterator[Ledger]:
    """Hold ``out`` (a second run waits), stamped with this configuration; yields its ledger, whose
    ``done`` are the split's videos already complete from the same frames and annotations."""
    require_folder_or_absent(out, "the masks' folder")
    if out.is_dir():
        published_videos(out, stamp, split, force)  # a folder to refuse gets no lock file left in it
    out.mkdir(parents=True, exist_ok=True)
    with job_lock(out / LOCK, f"propagation into {out}", on_wait=on_wait):
        listed = published_videos(out, stamp, split, force)  # a folder to refuse is refused first
        # the frames are read whole the first time (about a second for DAVIS val), then only stat'ed
        inputs = video_fingerprints(split.files(), out / HASHES)
        published = _still_valid(listed, inputs)
        done = () if force else tuple(name for name in split.complete(out) if name in published)
        ledger = Ledger(out, stamp, published, inputs, done)
        remove_stale_debris(out, ".", ".partial")
        yield ledger


def _still_valid(published: dict[str, str | None], inputs: dict[str, str]) -> dict[str, str | None]:
    """``published`` less the videos whose files changed since their masks were made (said, then
    propagated again); a video listed without a fingerprint (an older stamp) is kept."""
    changed = sorted(name for name, fp in published.items() if fp is not None and fp != inputs.get(name, fp))
    for name in changed:
        tell(f"{name}: its frames or annotations changed since its masks were made; propagating it again")
    return {name: fp for name, fp in published.items() if name not in changed}


def published_videos(
    out: Path, stamp: dict[str, Any], split: EvaluationSplit, force: bool
) -> dict[str, str | None]:
    """The videos of ``out`` published under this very configuration (whichever videos the run that
    wrote them chose: a video's masks do not depend on the others), each with its inputs' fingerprint
    where the stamp has one; ``force``: none of the split's."""
    present = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if not present:
        return {}
    shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
    found = _read_stamp(out)
    if not isinstance(found, dict):
        if force:
            return {}
        raise DataError(
            f"{out}: output folder holds other files ({shown}) and no stamp of a configuration; choose "
            "another --out or --force"
        )
    wanted = json.loads(json.dumps(stamp))
    differing = [k for k in wanted if _without_selection(k, found.get(k)) != _without_selection(k, wanted[k])]
    if differing and force:
        return {}
    if differing:
        raise DataError(
            f"{out}: output folder already holds results of another configuration ({shown}; its "
            f"{' and '.join(differing)} {'differs' if len(differing) == 1 else 'differ'}); choose another "
            "--out or --force"
        )
    listed = found.get(COMPLETE)
    if listed is None:  # a stamp written before the list: its complete videos are this split's
        listed = list(split.complete(out))
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        return {}  # a list we cannot read: nothing counts as done, everything is recomputed
    recorded = found.get(INPUTS)
    recorded = recorded if isinstance(recorded, dict) else {}
    return {
        name: recorded[name] if isinstance(recorded.get(name), str) else None
        for name in listed
        if not (force and name in split.sequences)
    }


def _without_selection(key: str, value: Any) -> Any:
    if key == "data" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "sequences"}
    return value


def _read_stamp(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
