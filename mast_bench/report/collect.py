"""Result records -> the pandas frames every table and plot is drawn from.

Reports read records only through the results floor; each
row keeps its record key so any number in a report traces back to one JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import to_dict
from ..errors import DataError
from ..metrics.names import DAVIS_METRICS as GLOBAL_METRICS
from ..metrics.names import HEADLINE, JHMDB_METRICS, OBJECT_METRICS, VIP_METRICS, YOUTUBE_METRICS
from ..protocols import DEFAULT_PROTOCOL
from ..results import ResultRecord, ResultStore, StudyManifest
from ..variants import MAST_PAPER, builtin_variants
from ..variants.registry import differing_fields, field_settings, filled_config

__all__ = ["GLOBAL_METRICS", "HEADLINE", "OBJECT_METRICS", "YOUTUBE_METRICS"]  # as the report reads them


@dataclass(frozen=True)
class Entry:
    """One row of a report: a label (the variant, made unique) and the record it cites."""

    label: str
    record: ResultRecord


def load_records(
    results: str | Path, keys: list[str] | None = None, skip_unreadable: bool = False
) -> dict[str, ResultRecord]:
    """The records of ``keys`` (default: every record) by key. An unreadable record file stops the
    report naming it and what to do, or with ``skip_unreadable`` (``--force``) is left out."""
    store = ResultStore(results)  # a results path that is a file is named as such
    folder = store.layout.records_dir
    if not folder.is_dir():
        raise DataError(f"{folder}: no records folder (expected <results>/records/<key>.json)")
    if keys is None:
        found = store.records(skip_unreadable)
    else:
        found = [store.get(key, skip_unreadable) for key in dict.fromkeys(keys)]
    return {record.key: record for record in found if record is not None}


def study_entries(
    records: dict[str, ResultRecord], manifest: StudyManifest, rows: dict[str, str] | None = None
) -> list[Entry]:
    """The manifest's variants in study order, each with its record (``rows``: one of its other
    benchmarks' {row: key}, default its own records); a missing record is an error."""
    rows = manifest.records if rows is None else rows
    entries = []
    for variant in manifest.variants:
        key = rows.get(variant)
        if key is None:
            raise DataError(f"study {manifest.study!r}: the manifest names no record for variant {variant!r}")
        if key not in records:
            rerun = manifest.command or f"mast-bench ablate {manifest.study} --preset {manifest.preset}"
            raise DataError(
                f"study {manifest.study!r}: record {key} of variant {variant!r} is missing; rerun "
                f"`{rerun}` to compute it"
            )
        entries.append(Entry(variant, records[key]))
    return entries


def row_name(record: ResultRecord, with_protocol: bool) -> str:
    variant = record.identity["variant"]
    return f"{variant}@{record.identity['protocol']['name']}" if with_protocol else variant


def evaluation_size(record: ResultRecord) -> str:
    side = record.identity.get("evaluation", {}).get("max_side")
    return f"max side {side}" if side else "full size"


def weights_label(record: ResultRecord) -> str:
    """The weights a record scored, as a short label: the run and stage (or snapshot) of a
    trained checkpoint file (``RUN/3-schedule``, ``RUN/iter-0000415``), else their kind."""
    weights = record.identity.get("checkpoint") or {}
    if not weights.get("path"):
        return str(weights.get("kind", "no weights"))
    skipped = {"checkpoint", "stages", "snapshots"}
    parts = [p for p in Path(weights["path"]).with_suffix("").parts if p not in skipped]
    return "/".join(parts[-2:])


def scored_data(record: ResultRecord) -> str:
    """The data a record was scored on: the dataset's name and split, and a YouTube-VOS run's frames."""
    data = record.identity.get("dataset", {})
    frames = {True: ", all frames", False: ", sparse frames"}.get(data.get("all_frames"), "")
    return f"{data.get('name', '?')} {data.get('split', '?')}{frames}"


def _labelled_by(names: list[str], ordered: list[ResultRecord], label) -> list[str]:
    """Labels that repeat get ``label(record)`` where the records under them differ in it."""
    seen: dict[str, set[str]] = {}
    for name, record in zip(names, ordered, strict=True):
        seen.setdefault(name, set()).add(label(record))
    return [
        f"{name} ({label(record)})" if len(seen[name]) > 1 else name
        for name, record in zip(names, ordered, strict=True)
    ]


def _labelled_by_config(names: list[str], ordered: list[ResultRecord]) -> list[str]:
    """Labels whose records' variants differ (one name defined twice) get the differing fields."""
    configs = [variant_config(record) for record in ordered]
    groups: dict[str, list[dict]] = {}
    for name, config in zip(names, configs, strict=True):
        groups.setdefault(name, []).append(config)
    fields = {name: differing_fields(group) for name, group in groups.items()}
    labels = []
    for name, config in zip(names, configs, strict=True):
        said = field_settings(config, fields[name])
        labels.append(f"{name} ({', '.join(said)})" if said else name)
    return labels


def variant_config(record: ResultRecord) -> dict:
    return filled_config(record.identity.get("variant_config") or {})


def own_variants(entries: list[Entry]) -> list[str]:
    """``NAME: field=value, ...`` for each row's variant that is neither built in nor made by --set
    (whose name says its change), as it differs from the paper's defaults (``mast``): the file that
    defined it may say otherwise by now, the record keeps what ran."""
    builtin, paper = {v.name for v in builtin_variants()}, to_dict(MAST_PAPER)
    said: dict[str, None] = {}
    for entry in entries:
        name, config = entry.record.identity["variant"], variant_config(entry.record)
        if name not in builtin and "+" not in name:
            settings = field_settings(config, differing_fields([paper, config]))
            said[f"`{name}`: {', '.join(settings) or 'no field'}"] = None
    return list(said)


def all_entries(records: dict[str, ResultRecord]) -> list[Entry]:
    """Every record, by variant then creation time; labels name the protocol when records differ in
    it, then the variant's fields, the weights, the evaluation size and the data where records of one
    label differ in them, and get a key prefix when a label still repeats."""
    ordered = sorted(
        records.values(), key=lambda r: (r.identity["variant"], str(r.provenance.get("created", "")), r.key)
    )
    several = len({r.identity.get("protocol", {}).get("name") for r in ordered}) > 1
    names = _labelled_by_config([row_name(r, several) for r in ordered], ordered)
    names = _labelled_by(names, ordered, weights_label)
    names = _labelled_by(names, ordered, evaluation_size)
    names = _labelled_by(names, ordered, scored_data)
    counts = pd.Series(names).value_counts()
    return [
        Entry(name if counts[name] == 1 else f"{name} [{record.key[:8]}]", record)
        for name, record in zip(names, ordered, strict=True)
    ]


def record_kind(record: ResultRecord) -> str:
    """The dataset kind a record was scored on (davis or youtube-vos)."""
    return record.metrics.get("kind") or record.identity.get("dataset", {}).get("kind", "davis")


def entries_kind(entries: list[Entry]) -> str:
    """The one dataset kind of ``entries``: scores of different kinds are not comparable."""
    kinds = sorted({record_kind(e.record) for e in entries})
    if len(kinds) > 1:
        first = {
            kind: next(e.record.key[:12] for e in entries if record_kind(e.record) == kind) for kind in kinds
        }
        shown = ", ".join(f"{kind} (e.g. record {key})" for kind, key in first.items())
        raise DataError(f"these records were scored on different kinds of data: {shown}; report them apart")
    return kinds[0] if kinds else "davis"


def as_number(value) -> float:
    """A recorded figure as a float; NaN for anything that is not a number (None, text, a bool)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan


def summary_frame(entries: list[Entry]) -> pd.DataFrame:
    """One row per entry: global metrics (0-1 as recorded) and the profile's cost figures (raw units)."""
    rows = []
    for entry in entries:
        metrics = entry.record.metrics.get("global", {})
        profile = entry.record.profile
        flops = profile.get("gflops_per_frame") or {}
        row = {"label": entry.label, "variant": entry.record.identity["variant"], "key": entry.record.key}
        names = (*GLOBAL_METRICS, *YOUTUBE_METRICS, *JHMDB_METRICS, *VIP_METRICS)
        row.update({name: as_number(metrics.get(name)) for name in names})
        row["protocol"] = entry.record.identity.get("protocol", {}).get("name", DEFAULT_PROTOCOL)
        row["gflops_per_frame"] = as_number(flops.get("total"))
        row["peak_memory_bytes"] = as_number(profile.get("peak_memory_bytes"))
        row["seconds_per_frame"] = as_number(profile.get("seconds_per_frame"))
        rows.append(row)
    return pd.DataFrame(rows)


def report_warnings(entries: list[Entry], kind: str) -> list[str]:
    """What a report says on stderr: rows of several code versions side by side (a version is bumped
    when results change meaning), a row without its headline metric (shown as -), and objects
    without J or F (left out of its intervals and pairings)."""
    warnings = []
    versions = sorted({str(entry.record.identity.get("code_version")) for entry in entries})
    if len(versions) > 1:
        warnings.append(
            f"warning: these records were made by mast-bench {', '.join(versions)}: their numbers may not "
            "mean the same (each row's version is in its record)"
        )
    headline = HEADLINE[kind]
    for entry in entries:
        record = f"record {entry.record.key[:12]} ({entry.label})"
        if np.isnan(as_number(entry.record.metrics.get("global", {}).get(headline))):
            warnings.append(
                f"warning: {record} has no {headline} (null, missing or not a number): shown as -"
            )
        if kind not in ("davis", "youtube-vos"):
            continue
        rows = entry.record.metrics.get("per_object", [])
        gaps = sum(np.isnan(as_number(r.get("J-Mean")) + as_number(r.get("F-Mean"))) for r in rows)
        if gaps:
            warnings.append(
                f"warning: {record}: {gaps} of {len(rows)} objects have no J or F; "
                "its intervals and pairings leave them out"
            )
    return warnings


def per_object_table(entries: list[Entry]) -> pd.DataFrame:
    """Per (entry, sequence, object) metrics and "J&F" = (J-Mean + F-Mean) / 2 (its mean: the global J&F)."""
    rows = []
    for entry in entries:
        for item in entry.record.metrics.get("per_object", []):
            row = {"label": entry.label, "sequence": str(item["sequence"]), "object": str(item["object"])}
            row.update({name: as_number(item.get(name)) for name in OBJECT_METRICS})
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["label", "sequence", "object", *OBJECT_METRICS])
    frame["J&F"] = (frame["J-Mean"] + frame["F-Mean"]) / 2.0
    return frame


def per_frame_table(entries: list[Entry]) -> pd.DataFrame:
    """Per (entry, sequence, object, frame) J and F, with the frame's position in its video in [0, 1]."""
    rows = []
    for entry in entries:
        for item in entry.record.metrics.get("per_frame", []):
            rows.append(
                {
                    "label": entry.label,
                    "sequence": str(item["sequence"]),
                    "object": str(item["object"]),
                    "frame": item["frame"],
                    "J": as_number(item.get("J")),
                    "F": as_number(item.get("F")),
                }
            )
    frame = pd.DataFrame(rows, columns=["label", "sequence", "object", "frame", "J", "F"])
    if frame.empty:
        frame["position"] = pd.Series(dtype=float)
        return frame
    frame["_order"] = frame["frame"].map(_frame_order)
    frame = frame.sort_values(["label", "sequence", "object", "_order"]).reset_index(drop=True)
    groups = frame.groupby(["label", "sequence", "object"], sort=False)
    rank = groups.cumcount()
    count = groups["frame"].transform("size")
    frame["position"] = np.where(count > 1, rank / (count - 1).clip(lower=1), 0.0)
    return frame.drop(columns="_order")


def _frame_order(frame) -> float:
    """Frames may be recorded as indices or as names like '00012'."""
    try:
        return float(frame)
    except (TypeError, ValueError):
        return float("nan")


def per_sequence_frame(per_object: pd.DataFrame) -> pd.DataFrame:
    """Mean per-object J&F of each sequence, as a (label x sequence) matrix."""
    if per_object.empty:
        return pd.DataFrame()
    return per_object.pivot_table(index="label", columns="sequence", values="J&F", aggfunc="mean", sort=False)
