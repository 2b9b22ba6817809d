"""Trained weights shared by variants that differ only in fields their training never reads.

A training folder is named by everything that decides its weights, the whole variant included, so
the arms of a test-time study (``ablate radius``: test windows 6, 9 and 12) trained three identical
models. Each folder the harness has trained (or found complete) records that identity
(``identity.json``). Before a job trains, it looks for a complete folder (train.json and the final
checkpoint) whose identity is its own but for the variant fields its stages never read
(``train_identity.as_trained``: the test-time fields; under stages that all sample pairs, also the
long-term read's) and takes that run's files (hard links where the file system
allows, else copies) instead of training again; a take cut short is finished by the next. Its
``train.json`` names the folder it took (``WEIGHTS_TAKEN_FROM``), so no one counts its seconds twice.
Twins run at once (``--jobs``, Dask, Slurm, two commands) wait for each other's training: one lock per
identity-but-for-those-fields (:func:`one_twin_at_a_time`), so the first trains and the others take;
after a kill, the first to come back resumes the stopped run where it was started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..atomic import atomic_write, atomic_write_json
from ..config import from_dict
from ..locks import job_lock
from ..results import WEIGHTS_TAKEN_FROM, canonical_json
from ..variants.config import VariantConfig
from ..variants.registry import differing_fields
from .branch import copy_shared_stages, describe_stages, shared_stages
from .identity import short_hash
from .presets import Preset
from .train_identity import as_trained, leading_pairs_stages, stage_identity
from .train_log import TENSORBOARD_DIR
from .training import CHECKPOINT_NAME, LOCK_NAME, STAGES_DIR, SUMMARY_NAME, snapshot_iterations

IDENTITY_NAME = "identity.json"
TWINS_LOCK = "twins-{}.lock"  # in the results' locks folder, one per identity but for test-time fields
TWINS_NOTE = "twins-{}.json"  # beside it: the folder the twins' run was last started in, and its identity
FIRST_STAGES_LOCK = "first-stages-{}.lock"  # one per leading pairs stages (with data, machine, code)
FIRST_STAGES_NOTE = "first-stages-{}.json"  # beside it: the folder they were started in
Stopped = tuple[Path, dict[str, Any]]  # a twin's folder whose run a kill stopped part-way, its identity


@contextlib.contextmanager
def one_twin_at_a_time(
    train_dir: Path, identity: dict[str, Any], locks_dir: Path, tell: Callable[[str], None]
) -> Iterator[Stopped | None]:
    """Held while a job takes or trains its run, so that twins started together train once: a twin
    waits here until the first has trained and recorded its identity, then takes its run. A folder
    already complete waits for no one (a twin's hour of training is not its business).

    Yields the twin's run to resume first, where a kill stopped it part-way in another twin's folder
    and this one holds none of its own (whichever twin gets here first after a kill, the run goes on
    where it stopped); else None, and this folder is noted as the one the run is started in."""
    if _complete(train_dir):
        yield None
        return
    digest = _twins_digest(identity)
    what = (
        f"the training of {train_dir.name} and of the variants that differ from it only in fields it "
        "never reads"
    )
    with job_lock(locks_dir / TWINS_LOCK.format(digest), what, on_wait=tell):
        note = locks_dir / TWINS_NOTE.format(digest)
        stopped = None if _has_progress(train_dir) else _stopped_twin(_json_object(note), train_dir)
        if stopped is None:
            atomic_write_json(note, {"folder": train_dir.name, "identity": identity})
        else:
            tell(f"training {train_dir.name}: resuming the run a kill stopped in its twin {stopped[0].name}")
        yield stopped


def _stopped_twin(note: dict[str, Any] | None, train_dir: Path) -> Stopped | None:
    """The noted twin's folder and identity, where it holds a run stopped part-way."""
    folder = _noted_folder(note, train_dir)
    if folder is None or not isinstance(note.get("identity"), dict) or _complete(folder):
        return None
    return folder, note["identity"]


def _has_progress(folder: Path) -> bool:
    return any((folder / STAGES_DIR).rglob(CHECKPOINT_NAME))


def first_stages_once(
    train_dir: Path,
    identity: dict[str, Any],
    preset: Preset,
    locks_dir: Path,
    train_until: Callable[[Path, int], Any],
    tell: Callable[[str], None],
) -> None:
    """Before a run that opens with pairs stages and goes on to the memory stages: those first
    stages, which variants differing only in the long-term read train alike, trained once for all of
    them. The first job trains them in its folder (``train_until(folder, iteration)``), holding a lock
    named by them, the snapshots kept inside them, the data, the machine and the code (their
    digest: :func:`_first_stages_digest`); the others wait, then copy them (as
    ``train --branch-from`` does, the copies noted); after a kill part-way, whoever comes first
    resumes them where they were started."""
    config = from_dict(VariantConfig, identity["variant_config"])
    count = _shared_first_stages(preset)
    if not count or _complete(train_dir) or shared_stages(config, preset, train_dir) >= count:
        return  # a run of pairs alone is shared whole (twins); these stages are here already
    end = preset.iterations_of_first(count)
    digest = _first_stages_digest(config, preset, count, identity)
    what = f"the first stages of {train_dir.name}, shared by the variants that differ in the long-term read"
    with job_lock(locks_dir / FIRST_STAGES_LOCK.format(digest), what, on_wait=tell):
        note = locks_dir / FIRST_STAGES_NOTE.format(digest)
        source = _noted_folder(_json_object(note), train_dir)
        if source is None:
            atomic_write_json(note, {"folder": train_dir.name})
            train_until(train_dir, end)
            return
        if shared_stages(config, preset, source) < count:  # a kill stopped them part-way there
            tell(f"training {train_dir.name}: resuming the first stages a kill stopped in {source.name}")
            train_until(source, end)
        if copy_shared_stages(config, preset, source, train_dir, count, tell):
            tell(
                f"training {train_dir.name}: {describe_stages(preset, count)} copied from {source.name}, "
                "which trained them: the variants differ only in the long-term read, which those stages "
                "never read"
            )


def shared_trainings(identity: dict[str, Any], preset: Preset) -> tuple[str, ...]:
    """The trainings a run of ``identity`` may wait for another job to do (the digests of their
    locks): its twins' run, and its first stages where they are shared."""
    count = _shared_first_stages(preset)
    if not count:
        return (_twins_digest(identity),)
    config = from_dict(VariantConfig, identity["variant_config"])
    return _twins_digest(identity), _first_stages_digest(config, preset, count, identity)


def _twins_digest(identity: dict[str, Any]) -> str:
    return short_hash(as_trained(identity))


def _shared_first_stages(preset: Preset) -> int:
    """How many pairs stages open ``preset`` where it goes on to others (see first_stages_once); 0
    where none do, or where all do (a run of pairs alone is shared whole: twins)."""
    count = leading_pairs_stages(preset)
    return count if count < len(preset.stages) else 0


def _first_stages_digest(config: VariantConfig, preset: Preset, count: int, identity: dict[str, Any]) -> str:
    """What decides the first ``count`` stages' files: their stage identity as trained, the
    snapshots kept inside them (a copy takes the source's), the data, the machine and the code."""
    end = preset.iterations_of_first(count)
    first = {
        "stages": as_trained(stage_identity(config, preset, count - 1)),
        **{key: identity.get(key) for key in ("train_data", "environment", "code_version")},
        "snapshots": sorted(i for i in snapshot_iterations(preset) if i <= end),
    }
    return short_hash(first)


def _noted_folder(note: dict[str, Any] | None, train_dir: Path) -> Path | None:
    """The folder a lock's note says a run was started in, beside ``train_dir`` and other than it,
    where it holds any progress (a stage checkpoint)."""
    if note is None or not isinstance(note.get("folder"), str):
        return None
    folder = train_dir.parent / Path(note["folder"]).name
    return folder if folder != train_dir and _has_progress(folder) else None


def take_twin_run(train_dir: Path, identity: dict[str, Any], tell: Callable[[str], None]) -> None:
    """Where ``train_dir`` holds no complete run, take a complete twin's (see the module docstring)."""
    if _complete(train_dir):
        return
    twin = training_twin(train_dir, identity)
    if twin is None:
        return
    train_dir.mkdir(parents=True, exist_ok=True)
    with job_lock(train_dir / LOCK_NAME, f"taking the run of {twin} into {train_dir}", on_wait=tell):
        if _complete(train_dir):
            return  # another process trained or took it meanwhile
        _take_run(twin, train_dir)
    fields = ", ".join(_differing(read_identity(twin), identity)) or "their names"
    tell(
        f"training {train_dir.name}: the run of {twin.name} taken, not trained again (the variants differ "
        f"in {fields} only, which this training never reads)"
    )


def record_identity(train_dir: Path, identity: dict[str, Any]) -> None:
    """Once ``train_dir`` holds a complete run: its identity, for later jobs to find it by (written
    after training, so a refused run leaves no folder; rewritten where it cannot be read)."""
    if _complete(train_dir) and read_identity(train_dir) is None:
        atomic_write_json(train_dir / IDENTITY_NAME, identity)


def training_twin(train_dir: Path, identity: dict[str, Any]) -> Path | None:
    """A complete training folder beside ``train_dir`` whose identity is ``identity`` but for the
    variant's test-time fields."""
    wanted = canonical_json(as_trained(identity))
    siblings = train_dir.parent.iterdir() if train_dir.parent.is_dir() else ()
    for folder in sorted(p for p in siblings if p.is_dir() and p != train_dir):
        stored = read_identity(folder)
        if stored is not None and canonical_json(as_trained(stored)) == wanted and _complete(folder):
            return folder
    return None


def read_identity(folder: Path) -> dict[str, Any] | None:
    """A training folder's recorded identity; None where there is none or it cannot be read (that
    folder is then no twin, never an error: it is another job's)."""
    return _json_object(folder / IDENTITY_NAME)


def _summary(folder: Path) -> dict[str, Any] | None:
    return _json_object(folder / SUMMARY_NAME)


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _complete(folder: Path) -> bool:
    return _summary(folder) is not None and (folder / CHECKPOINT_NAME).is_file()


def _run_files(twin: Path) -> Iterator[Path]:
    """The twin's weights and data record (paths relative to it): snapshots and the data record
    first, then the stage checkpoints, the final checkpoint; never its lock, identity or logs."""
    relative = [p.relative_to(twin) for p in twin.rglob("*") if p.is_file()]
    kept = [
        p
        for p in relative
        if not any(part.startswith(".") for part in p.parts)
        and str(p) not in (IDENTITY_NAME, SUMMARY_NAME)
        and p.parts[0] != TENSORBOARD_DIR
    ]
    yield from sorted(kept, key=lambda p: (p.parts[0] == CHECKPOINT_NAME, p.parts[0] == STAGES_DIR, p))


def _take_run(twin: Path, train_dir: Path) -> None:
    """Link (or copy) the twin's files into ``train_dir``, its summary last (the commit point), in
    place of what ``train_dir`` holds of its own: a killed run's stage checkpoints, or a take cut short."""
    for relative in _run_files(train_dir):
        (train_dir / relative).unlink()
    shutil.rmtree(train_dir / TENSORBOARD_DIR, ignore_errors=True)  # its curves are not the taken run's
    for relative in _run_files(twin):
        _link_or_copy(twin / relative, train_dir / relative)
    summary = _summary(twin) or {}
    source = summary.get(WEIGHTS_TAKEN_FROM, twin.name)  # the folder that trained, where the twin took too
    atomic_write_json(train_dir / SUMMARY_NAME, {**summary, WEIGHTS_TAKEN_FROM: source})


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` appears whole or not at all: a hard link is made in one step, a copy by rename."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


def _differing(twin: dict[str, Any] | None, identity: dict[str, Any]) -> list[str]:
    """``field: theirs, ours here`` for each field (names left out) in which the variants differ."""
    theirs, ours = ((i or {}).get("variant_config") or {} for i in (twin, identity))
    return [f"{f}: {theirs.get(f)!r} there, {ours.get(f)!r} here" for f in differing_fields([theirs, ours])]
