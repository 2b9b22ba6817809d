"""Where the DAVIS ground truth and a masks folder keep their files, checked up front.

Ground truth: ``<root>/ImageSets/2017/<split>.txt`` lists the sequences (read by the data floor's
reader) and
``<root>/Annotations/<resolution>/<seq>/*.png`` holds one label PNG per frame (sorted by name; the names
are the frame ids). Results: ``<results>/<seq>/<frame id>.png``. Every problem is a DataError naming the
path and what was expected, before any scoring starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data.davis import MIN_SCORED_FRAMES, read_sequence_list
from ..data.palette import label_pngs
from ..errors import DataError


@dataclass(frozen=True)
class SequenceFiles:
    """The annotation PNGs of one sequence and the folder where its predicted PNGs must be."""

    name: str
    annotations: tuple[Path, ...]
    results_dir: Path

    def result_path(self, frame_id: str) -> Path:
        return self.results_dir / f"{frame_id}.png"


def sequence_files(davis_root: Path, results_dir: Path, name: str, resolution: str = "480p") -> SequenceFiles:
    annotation_dir = davis_root / "Annotations" / resolution / name
    if not annotation_dir.is_dir():
        raise DataError(f"{annotation_dir}: annotation folder of sequence {name!r} not found")
    annotations = tuple(label_pngs(annotation_dir))
    if len(annotations) < MIN_SCORED_FRAMES:
        raise DataError(
            f"{annotation_dir}: {len(annotations)} annotation PNG(s); a sequence needs at least "
            f"{MIN_SCORED_FRAMES} (the first and the last frame are not scored)"
        )
    seq_results = results_dir / name
    if not seq_results.is_dir():
        raise DataError(
            f"{seq_results}: results folder of sequence {name!r} not found (expected <results>/<seq>/)"
            + _one_level_down(results_dir, name)
        )
    return SequenceFiles(name=name, annotations=annotations, results_dir=seq_results)


def _one_level_down(results_dir: Path, name: str) -> str:
    """A hint where the sequence's folder sits one level deeper (``<results>/val/<seq>``)."""
    if not results_dir.is_dir():
        return ""
    deeper = sorted(child for child in results_dir.iterdir() if (child / name).is_dir())
    return f"; it is in {deeper[0]}: pass that folder" if deeper else ""


def resolve_sequences(
    davis_root: str | Path,
    results_dir: str | Path,
    split: str = "val",
    sequences: list[str] | tuple[str, ...] | None = None,
    resolution: str = "480p",
) -> list[SequenceFiles]:
    """Check the DAVIS root and the results folder and list every sequence's files."""
    davis_root, results_dir = Path(davis_root), Path(results_dir)
    if not davis_root.is_dir():
        raise DataError(f"{davis_root}: DAVIS root not found (expected Annotations/ and ImageSets/ inside)")
    if not results_dir.is_dir():
        raise DataError(f"{results_dir}: results folder not found (expected <results>/<seq>/<frame>.png)")
    if sequences is None:
        names = list(read_sequence_list(davis_root, split))
    else:
        names = list(dict.fromkeys(sequences))
        if not names:
            raise DataError("the list of sequences to evaluate is empty")
    return [sequence_files(davis_root, results_dir, name, resolution) for name in names]
