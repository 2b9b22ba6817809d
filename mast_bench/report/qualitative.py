"""Qualitative figures: predicted masks over their frames, variants side by side.

Masks come from each record's "masks" folder (relative to the results folder),
frames from the record's dataset root (DAVIS layout). Either may be gone (a
results folder copied without masks, a dataset on another machine): then the
figure is skipped and the reason goes into the report instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.embedded import default_root
from ..data.embedded_youtube import default_youtube_root
from ..data.images import read_rgb
from ..data.palette import DAVIS_PALETTE, label_pngs
from ..data.splits import EMBEDDED_NAMES
from .collect import Entry
from .plots import new_figure, save_figure

MAX_WIDTH = 320
# a record's embedded data set, by the name records give it -> where this machine keeps its copy
EMBEDDED_ROOTS = {EMBEDDED_NAMES["davis"]: default_root, EMBEDDED_NAMES["youtube-vos"]: default_youtube_root}


def overlay(frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend each object's palette colour over the frame where ``mask`` holds its id (0 and 255 untouched)."""
    if frame.shape[:2] != mask.shape:
        raise ValueError(f"frame {frame.shape[:2]} and mask {mask.shape} differ in size")
    out = frame.astype(np.float64).copy()
    for label in np.unique(mask):
        if label in (0, 255):
            continue
        where = mask == label
        out[where] = (1 - alpha) * out[where] + alpha * DAVIS_PALETTE[int(label) % 256].astype(np.float64)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class QualitativeResult:
    figures: list[Path]
    notes: list[str]


def _mask_dir(results: Path, entry: Entry) -> Path | None:
    """Where a record's masks are, per sequence (a YouTube-VOS submission keeps them in Annotations/)."""
    if not entry.record.masks:
        return None
    folder = results / entry.record.masks
    return folder / "Annotations" if _kind(entry) == "youtube-vos" else folder


def _kind(entry: Entry) -> str:
    return entry.record.identity.get("dataset", {}).get("kind", "davis")


def _data_root(entry: Entry) -> str | None:
    """Where the record's frames were read; for an embedded set, this machine's copy of it (the
    record may come from another machine: its contents are identified by the fingerprint)."""
    recorded = entry.record.provenance.get("data_root")
    if recorded and Path(recorded).is_dir():
        return recorded
    name = entry.record.identity.get("dataset", {}).get("name")
    local = EMBEDDED_ROOTS.get(name)
    if local is None:
        return recorded
    return str(local()) if local().is_dir() else recorded


def _frame_path(entry: Entry, sequence: str, stem: str) -> Path | None:
    root = _data_root(entry)
    if not root:
        return None
    if _kind(entry) == "youtube-vos":
        split = entry.record.identity["dataset"].get("split", "valid")
        base = Path(root) if (Path(root) / "JPEGImages").is_dir() else Path(root) / split
        folder = base / "JPEGImages" / sequence
    else:
        resolution = entry.record.identity.get("evaluation", {}).get("resolution") or "480p"
        folder = Path(root) / "JPEGImages" / resolution / sequence
    for suffix in (".jpg", ".jpeg", ".png"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def _load_frame(path: Path) -> np.ndarray:
    """The frame as the trackers saw it (upright, see read_rgb), at most MAX_WIDTH wide."""
    return _narrow(Image.fromarray(read_rgb(path)), Image.BILINEAR)


def _load_mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return _narrow(image, Image.NEAREST)


def _narrow(image: Image.Image, resample) -> np.ndarray:
    if image.width > MAX_WIDTH:
        height = round(image.height * MAX_WIDTH / image.width)
        image = image.resize((MAX_WIDTH, height), resample)
    return np.asarray(image)


def qualitative_figures(
    entries: list[Entry], results: Path, out_dir: Path, sequences: int = 3, frames: int = 3
) -> QualitativeResult:
    """Up to ``sequences`` figures (the first sequences every entry has masks of), ``frames`` evenly
    spaced frames each, one column per entry; what could not be drawn goes into the notes."""
    if not entries:
        return QualitativeResult([], ["no records"])
    mask_dirs, notes = _mask_dirs(entries, results)
    if notes:
        return QualitativeResult([], notes)
    common = set.intersection(*({p.name for p in d.iterdir() if p.is_dir()} for d in mask_dirs.values()))
    figures = []
    for sequence in sorted(common)[:sequences]:
        picks = _picked_stems(mask_dirs[entries[0].label] / sequence, frames)
        if not picks:
            continue
        frame_paths = {stem: _frame_path(entries[0], sequence, stem) for stem in picks}
        if any(path is None for path in frame_paths.values()):
            root = _data_root(entries[0])
            notes.append(f"{sequence}: frames not found under dataset root {root!r}; figure skipped")
            continue
        figures.extend(_sequence_figure(entries, mask_dirs, sequence, frame_paths, out_dir))
    if not figures and not notes:
        notes.append("no sequence has masks from every variant; qualitative figures skipped")
    return QualitativeResult(figures, notes)


def _mask_dirs(entries: list[Entry], results: Path) -> tuple[dict[str, Path], list[str]]:
    """Each entry's masks folder, by label, and a note for each entry that has none."""
    mask_dirs, notes = {}, []
    for entry in entries:
        folder = _mask_dir(results, entry)
        if folder is None:
            notes.append(f"{entry.label}: the record names no masks folder; qualitative figures skipped")
        elif not folder.is_dir():
            notes.append(f"{entry.label}: masks folder {folder} not found; qualitative figures skipped")
        else:
            mask_dirs[entry.label] = folder
    return mask_dirs, notes


def _picked_stems(folder: Path, frames: int) -> list[str]:
    """``frames`` evenly spaced mask names of ``folder`` (first and last included)."""
    stems = [p.stem for p in label_pngs(folder)]
    if not stems:
        return []
    return [stems[i] for i in sorted(set(np.linspace(0, len(stems) - 1, frames).round().astype(int)))]


def _sequence_figure(
    entries: list[Entry], mask_dirs: dict[str, Path], sequence: str, frame_paths: dict, out_dir: Path
) -> list[Path]:
    """One row per picked frame, one column per entry: its mask over the frame."""
    figure = new_figure(2.2 * len(entries), 1.5 * len(frame_paths) + 0.6)
    grid = figure.subplots(len(frame_paths), len(entries), squeeze=False)
    for r, (stem, frame_path) in enumerate(frame_paths.items()):
        frame = _load_frame(frame_path)
        for c, entry in enumerate(entries):
            _mask_panel(grid[r][c], entry.label, mask_dirs[entry.label] / sequence / f"{stem}.png", frame)
    figure.suptitle(f"{sequence}: predicted masks", fontsize=9)
    return save_figure(figure, out_dir, f"qualitative_{sequence}")


def _mask_panel(axes, label: str, mask_path: Path, frame: np.ndarray) -> None:
    axes.set_axis_off()
    if not mask_path.is_file():
        axes.set_title(f"{label}\n(no mask {mask_path.stem})", fontsize=7)
        return
    mask = _load_mask(mask_path)
    if mask.shape != frame.shape[:2]:
        mask = np.asarray(Image.fromarray(mask).resize(frame.shape[1::-1], Image.NEAREST))
    axes.imshow(overlay(frame, mask))
    axes.set_title(f"{label} · {mask_path.stem}", fontsize=7)
