"""Assemble one report folder: report.md, tables (md/tex/csv), figures (png/pdf).

Everything in it is computed from the records given; report.md says what was
measured (preset, training, evaluation set) at the top and cites every
record key, so a reader can trace each number to its JSON.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write_text
from ..errors import DataError
from . import paper as paper_tables
from .collect import (
    GLOBAL_METRICS,
    Entry,
    all_entries,
    load_records,
    per_frame_frame,
    per_object_frame,
    per_sequence_frame,
    study_entries,
    summary_frame,
)
from .manifest import StudyManifest
from .plots import (
    cost_figure,
    decay_figure,
    decay_profile,
    jf_intervals_figure,
    save_figure,
    sequence_heatmap_figure,
)
from .qualitative import qualitative_figures
from .stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    PairedComparison,
    bootstrap_ci,
    paired_comparison,
)
from .tables import MIB, Table, results_table, to_csv, to_latex, to_markdown, uncertainty_table


@dataclass(frozen=True)
class ReportContext:
    title: str
    reference: str | None
    metrics: tuple[str, ...] = GLOBAL_METRICS
    preset: str | None = None  # the study preset; None when unknown (a report over all records)
    data: str = "as recorded"  # label of the evaluation data
    description: str = ""
    paper: str | None = None
    study: str | None = None
    command: str = ""
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED


def context_from_manifest(manifest: StudyManifest) -> ReportContext:
    return ReportContext(
        title=manifest.title or manifest.study,
        reference=manifest.reference,
        metrics=manifest.metrics,
        preset=manifest.preset,
        data=manifest.data,
        description=manifest.description,
        paper=manifest.paper,
        study=manifest.study,
        command=manifest.command,
    )


def object_intervals(
    per_object: pd.DataFrame, labels: list[str], resamples: int, seed: int
) -> list[Interval]:
    return [
        bootstrap_ci(per_object.loc[per_object["label"] == label, "J&F"].to_numpy(), resamples, seed)
        for label in labels
    ]


def paired_to_reference(
    per_object: pd.DataFrame, labels: list[str], reference: str | None, resamples: int, seed: int
) -> list[PairedComparison | None]:
    """Each label against the reference, objects paired by (sequence, object); None for the reference."""
    if reference is None or reference not in labels:
        return [None] * len(labels)
    ref = per_object.loc[per_object["label"] == reference, ["sequence", "object", "J&F"]]
    out: list[PairedComparison | None] = []
    for label in labels:
        if label == reference:
            out.append(None)
            continue
        mine = per_object.loc[per_object["label"] == label, ["sequence", "object", "J&F"]]
        pairs = mine.merge(ref, on=["sequence", "object"], suffixes=("", "_ref")).sort_values(
            ["sequence", "object"]
        )
        out.append(
            paired_comparison(pairs["J&F"].to_numpy(), pairs["J&F_ref"].to_numpy(), resamples, seed)
            if len(pairs)
            else None
        )
    return out


def describe_training(entries: list[Entry]) -> str:
    kinds = []
    for entry in entries:
        ckpt = entry.record.identity.get("checkpoint", {})
        kind = ckpt.get("kind", "?")
        if kind == "trained":
            kinds.append(
                f"self-supervised, trained by the harness ({ckpt.get('train_preset')} training preset)"
            )
        elif kind == "file":
            kinds.append(f"checkpoint file {ckpt.get('path')}")
        else:
            kinds.append(f"{kind} weights")
    return "; ".join(sorted(set(kinds))) or "unknown"


def describe_evaluation(entries: list[Entry]) -> str:
    parts = []
    for entry in entries:
        dataset = entry.record.identity.get("dataset", {})
        protocol = entry.record.identity.get("protocol", {})
        sequences = dataset.get("sequences") or []
        size = protocol.get("max_side")
        parts.append(
            f"{dataset.get('name', '?')} {dataset.get('split', '?')} ({len(sequences)} sequences), "
            f"{protocol.get('resolution', '?')}" + (f", max side {size}" if size else "")
        )
    return "; ".join(sorted(set(parts))) or "unknown"


def banner(context: ReportContext, comparable: bool) -> str:
    if comparable:
        return f"**{context.preset} preset on {context.data}**: measured under the paper's protocol."
    preset = f"{context.preset} preset" if context.preset else "unknown preset"
    return f"**{preset} on {context.data} — NOT comparable to the paper.**"


def _write_table(table: Table, folder: Path) -> dict[str, Path]:
    paths = {
        "md": atomic_write_text(folder / f"{table.name}.md", to_markdown(table)),
        "tex": atomic_write_text(folder / f"{table.name}.tex", to_latex(table)),
        "csv": atomic_write_text(folder / f"{table.name}.csv", to_csv(table)),
    }
    return paths


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def write_report(entries: list[Entry], results: Path, out_dir: Path, context: ReportContext) -> Path:
    """Write the whole report folder; returns the path of report.md."""
    results, out_dir = Path(results), Path(out_dir)
    tables_dir, figures_dir = out_dir / "tables", out_dir / "figures"
    labels = [e.label for e in entries]
    reference = context.reference if context.reference in labels else None
    summary = summary_frame(entries)
    per_object = per_object_frame(entries)
    per_frame = per_frame_frame(entries)
    datasets = [
        (str(d.get("name", "")), str(d.get("split", "")), len(d.get("sequences") or []))
        for d in (e.record.identity.get("dataset", {}) for e in entries)
    ]
    comparable = paper_tables.is_paper_comparable(context.preset or "", datasets)
    training, evaluation = describe_training(entries), describe_evaluation(entries)
    what = f"{context.preset or 'unknown'} preset; training: {training}; evaluation: {evaluation}"

    lines = [f"# {context.title}", "", f"> {banner(context, comparable)}", f"> Measured: {what}.", ""]
    if context.description:
        lines += [context.description, ""]
    lines += [
        "## Set-up",
        "",
        f"- study: `{context.study or '(all records)'}`; preset: `{context.preset or 'unknown'}`; "
        f"data: {context.data}",
        f"- reference variant: `{reference or 'none'}`; variants: {', '.join(f'`{x}`' for x in labels)}",
        f"- records: {len(entries)} (from `{results}`); report generated "
        f"{_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()}",
    ]
    if context.command:
        lines.append(f"- produced by: `{context.command}`")
    lines += [
        "",
        "Metrics are DAVIS-toolkit J and F x100; FLOPs are GFLOPs per frame (2 FLOPs per multiply-add).",
        "",
    ]

    caption = f"{context.title} ({context.preset or 'unknown'} preset, {context.data})"
    main = results_table(summary, tuple(m for m in context.metrics if m in GLOBAL_METRICS), caption)
    _write_table(main, tables_dir)
    lines += ["## Results", "", to_markdown(main)]
    lines += [
        "Best value per column in bold (higher is better for J and F; lower for decay, FLOPs, memory, time). "
        "Each row cites its record key. Tables: [Markdown](tables/results.md), [LaTeX](tables/results.tex), "
        "[CSV](tables/results.csv).",
        "",
    ]

    intervals = object_intervals(per_object, labels, context.resamples, context.seed)
    comparisons = paired_to_reference(per_object, labels, reference, context.resamples, context.seed)
    unc = uncertainty_table(
        labels, [e.record.key for e in entries], intervals, comparisons, reference, f"{caption}: uncertainty"
    )
    _write_table(unc, tables_dir)
    lines += ["## Uncertainty", "", to_markdown(unc)]
    lines += [
        f"95% percentile bootstrap intervals of J&F over objects ({context.resamples} resamples, seed "
        f"{context.seed}); differences to `{reference or 'n/a'}` paired by (sequence, object), with the "
        "paired "
        "bootstrap interval of the mean difference and the two-sided Wilcoxon signed-rank p-value "
        "(scipy.stats.wilcoxon; – when every difference is zero). With few objects these intervals are wide: "
        "read them before reading the ranking.",
        "",
    ]

    if context.paper:
        table = paper_tables.paper_table(
            context.paper, summary, context.preset or "unknown", training, evaluation, comparable
        )
        _write_table(table, tables_dir)
        lines += ["## Paper comparison", "", f"*{table.caption}*", "", to_markdown(table)]

    lines += ["## Figures", ""]
    figures = [
        (
            "jf_intervals",
            "J&F per variant with 95% intervals",
            jf_intervals_figure(labels, intervals, reference),
        ),
        (
            "jf_vs_memory",
            "J&F against peak memory",
            cost_figure(summary, "peak_memory_bytes", 1 / MIB, "peak memory (MiB)"),
        ),
        (
            "jf_vs_flops",
            "J&F against FLOPs",
            cost_figure(summary, "gflops_per_frame", 1.0, "GFLOPs per frame"),
        ),
    ]
    matrix = per_sequence_frame(per_object)
    if not matrix.empty:
        matrix = matrix.reindex([x for x in labels if x in matrix.index])
        figures.append(("per_sequence", "J&F per sequence", sequence_heatmap_figure(matrix)))
        _write_table(
            Table(
                "per_sequence",
                f"{caption}: J&F per sequence (mean over its objects, x100)",
                (matrix * 100).rename_axis(index="Variant", columns=None).reset_index(),
                decimals={c: 1 for c in matrix.columns},
            ),
            tables_dir,
        )
    profile = decay_profile(per_frame)
    if not profile.empty:
        figures.append(("decay", "J and F across the video", decay_figure(profile, labels)))
    for stem, title, figure in figures:
        save_figure(figure, figures_dir, stem)
        lines += [f"### {title}", "", f"![{title}](figures/{stem}.png) ([PDF](figures/{stem}.pdf))", ""]

    qualitative = qualitative_figures(entries, results, figures_dir)
    lines += ["## Qualitative results", ""]
    for path in qualitative.figures:
        if path.suffix == ".png":
            lines += [f"![{path.stem}](figures/{path.name})", ""]
    lines += [f"- {note}" for note in qualitative.notes]
    lines += [
        "",
        "## Records",
        "",
        "| row | record key | file | git revision | device | created |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries:
        record = entry.record
        path = _rel(results / "records" / f"{record.key}.json", out_dir)
        prov = record.provenance
        lines.append(
            f"| {entry.label} | `{record.key}` | [{path}]({path}) | {prov.get('git_revision')}"
            f"{' (dirty)' if prov.get('git_dirty') else ''} | {prov.get('device')} | {prov.get('created')} |"
        )
    lines.append("")
    return atomic_write_text(out_dir / "report.md", "\n".join(lines))


def default_out_dir(results: Path, study: str | None) -> Path:
    return Path(results) / "reports" / (study or "all")


def write_study_report(
    results: str | Path, manifest: StudyManifest, out_dir: str | Path | None = None
) -> Path:
    """The report of one study run, from its manifest's records (default: <results>/reports/<study>/)."""
    results = Path(results)
    entries = study_entries(load_records(results), manifest)
    out = Path(out_dir) if out_dir is not None else default_out_dir(results, manifest.study)
    return write_report(entries, results, out, context_from_manifest(manifest))


def write_all_records_report(results: str | Path, out_dir: str | Path | None = None) -> Path:
    """A report over every record in the folder (reference: `mast` when present)."""
    results = Path(results)
    records = load_records(results)
    if not records:
        raise DataError(f"{results / 'records'}: no result records to report on")
    entries = all_entries(records)
    labels = [e.label for e in entries]
    presets = {e.record.identity.get("checkpoint", {}).get("train_preset") for e in entries}
    datasets = {e.record.identity.get("dataset", {}).get("name") for e in entries}
    context = ReportContext(
        title=f"All results in {results}",
        reference="mast" if "mast" in labels else None,
        preset=presets.pop() if len(presets) == 1 and None not in presets else None,
        data=str(datasets.pop()) if len(datasets) == 1 else "several datasets",
    )
    out = Path(out_dir) if out_dir is not None else default_out_dir(results, None)
    return write_report(entries, results, out, context)
