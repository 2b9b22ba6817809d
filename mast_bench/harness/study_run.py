"""Running a study: one harness job per row and benchmark, cached records reused, then the manifest.

A study runs every row on its own data (``data``: the study's first benchmark, or the kind the user
chose) and, when it lists several benchmarks, on each other benchmark's data too (``benchmarks``:
kind -> DataSpec, the embedded set of that kind unless a root is given). The preset's split and
sequences apply to its own data only. More than ``preview.MAX_JOBS`` jobs are refused unless
confirmed; the plan (jobs, cached, to compute, a rough time) is said before any work.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..data.splits import DataSpec, open_split
from ..errors import DataError, UserError
from ..results import StudyManifest, write_manifest
from . import preview
from .job import Job
from .presets import get_preset
from .runner import prepare_jobs, run_jobs
from .study import Study


def build_jobs(
    study: Study,
    preset_name: str,
    results: str | Path,
    data: DataSpec,
    command: str | None = None,
    benchmark: bool = False,
    **job_settings: Any,
) -> list[Job]:
    """One harness Job per row on ``data``, in study order (identical jobs reuse their cached
    records); ``benchmark``: ``data`` is one of the study's other benchmarks."""
    preset = study.preset(preset_name)
    if preset.data == "required" and data.root is None:
        flag = f"--benchmark {data.kind}=PATH" if benchmark else "--data PATH"
        raise UserError(
            f"study {study.name!r} with preset {preset_name!r} needs {flag} (a {data.kind} root): "
            f'its [preset.{preset_name}] table says data = "required"'
        )
    if not benchmark:
        from_study = not data.sequences and bool(preset.sequences)
        data = replace(data, split=data.split or preset.split, sequences=data.sequences or preset.sequences)
        if from_study:
            _check_study_sequences(study, preset_name, data)
    train = get_preset(preset.train)
    return [
        Job(
            variant=row.variant,
            protocol=row.protocol,
            preset=train,
            data=data,
            results=str(results),
            max_side=preset.job_max_side(),
            command=command,
            **job_settings,
        )
        for row in study.rows
    ]


def _check_study_sequences(study: Study, preset_name: str, data: DataSpec) -> None:
    """Sequences the study file names that its split lacks are the file's error, named as such (the
    split list was named, with a --split to pass)."""
    try:
        open_split(data)
    except DataError as exc:
        where = study.path or f"study {study.name}"
        raise DataError(f"{where}: [preset.{preset_name}].sequences: {exc}") from None


def data_label(data: DataSpec) -> str:
    where = "the embedded default" if data.root is None else str(data.root)
    return where if data.kind == "davis" else f"{where} ({data.kind})"


def make_manifest(
    study: Study,
    preset_name: str,
    data: DataSpec,
    records: list,
    command: str,
    benchmark_records: dict[str, list] | None = None,
) -> StudyManifest:
    info = study.info
    labels = [row.label for row in study.rows]
    return StudyManifest(
        study=info.name,
        title=info.title,
        reference=info.reference,
        variants=tuple(row.label for row in study.rows),
        metrics=tuple(info.metrics),
        preset=preset_name,
        train_preset=study.preset(preset_name).train,
        data=data_label(data),
        records={label: record.key for label, record in zip(labels, records, strict=True)},
        factors={
            row.label: {"variant": row.variant.name, "protocol": row.protocol.name} for row in study.rows
        },
        dataset=data.kind,
        benchmarks={
            kind: {label: record.key for label, record in zip(labels, found, strict=True)}
            for kind, found in (benchmark_records or {}).items()
        },
        description=info.description,
        paper=info.paper,
        command=command,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    )


def run_study(
    study: Study,
    preset_name: str,
    results: str | Path,
    data: DataSpec,
    command: str,
    runner: Callable[..., list] | None = None,
    execution: dict[str, Any] | None = None,
    yes: bool = False,
    announce: Callable[[str], None] | None = None,
    benchmarks: dict[str, DataSpec] | None = None,
    **job_settings: Any,
) -> StudyManifest:
    """Run (or reuse) every row's job on ``data`` and on each of ``benchmarks`` (kind -> data) and
    record the study's manifest.

    ``runner(jobs, **execution)`` defaults to harness.runner.run_jobs (backend, n_jobs, scheduler...).
    More than ``preview.MAX_JOBS`` jobs are refused unless ``yes``; ``announce`` gets the plan (jobs,
    cached, to compute, a rough time) before any work.
    """
    jobs = build_jobs(study, preset_name, results, data, command=command, **job_settings)
    extra = {
        kind: build_jobs(study, preset_name, results, spec, command, benchmark=True, **job_settings)
        for kind, spec in (benchmarks or {}).items()
    }
    every = jobs + [job for group in extra.values() for job in group]
    preview.refuse_large(len(dict.fromkeys(every)), f"study {study.path or study.name}", yes)
    if announce is not None:
        planned = preview.preview_jobs(prepare_jobs(every, **(execution or {})))
        announce(planned.describe(f"study {study.name} ({preset_name} preset)"))
    found = (runner or run_jobs)(every, **(execution or {}))
    records, rest = found[: len(jobs)], found[len(jobs) :]
    by_kind = {}
    for kind, group in extra.items():
        by_kind[kind], rest = rest[: len(group)], rest[len(group) :]
    manifest = make_manifest(study, preset_name, data, records, command, by_kind)
    write_manifest(results, manifest)
    return manifest
