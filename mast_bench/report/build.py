"""Assemble one report folder: report.md, tables (md/tex/csv), figures (png/pdf).

Everything in it is computed from the records given; report.md says what was
measured (preset, training, evaluation set) at the top and cites every
record key, so a reader can trace each number to its JSON.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write_text
from ..errors import DataError
from ..metrics.names import BENCHMARK_METRICS
from ..progress import tell
from ..results import COPIED_FROM, WEIGHTS_TAKEN_FROM, ResultsLayout, StudyManifest
from ..results.published import PUBLISHED
from . import paper as paper_tables
from .benchmarks import KIND_NAMES, benchmark_paper_table, benchmark_table, detail_table
from .collect import (
    GLOBAL_METRICS,
    HEADLINE,
    YOUTUBE_METRICS,
    Entry,
    all_entries,
    entries_kind,
    load_records,
    own_variants,
    per_frame_table,
    per_object_table,
    per_sequence_frame,
    report_warnings,
    scored_data,
    study_entries,
    summary_frame,
)
from .factorial import effects_table, factor_effects, two_way_table
from .plots import (
    cost_figure,
    decay_figure,
    decay_profile,
    jf_intervals_figure,
    save_figure,
    sequence_heatmap_figure,
)
from .qualitative import qualitative_figures
from .replicates import ArmsConfig, arms_tables, check_rows, compare_arms, load_arms
from .staging import write_staged
from .stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    PairedComparison,
    bootstrap_ci,
    paired_comparison,
)
from .tables import MIB, Table, results_table, to_csv, to_latex, to_markdown, uncertainty_table
from .training import runs_loss_figure, runs_table


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
    factors: dict | None = None  # {row label: {"variant": name, "protocol": name}} (a study's rows)
    benchmarks: dict | None = None  # {kind: {row label: record key}}: a study's other benchmarks
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    arms: ArmsConfig | None = None  # rows grouped into arms of training runs (seeds of one recipe)
    arms_source: str = ""  # the arms file, named in the report


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
        factors=manifest.factors or None,
        benchmarks=manifest.benchmarks or None,
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
        elif kind == "none":
            kinds.append("no weights (training-free features)")
        else:
            kinds.append(f"{kind} weights")
    return "; ".join(sorted(set(kinds))) or "unknown"


def describe_evaluation(entries: list[Entry]) -> str:
    parts = []
    for entry in entries:
        dataset = entry.record.identity.get("dataset", {})
        protocol = entry.record.identity.get("evaluation", {})
        count = len(dataset.get("sequences") or [])
        size = protocol.get("max_side")
        parts.append(
            f"{scored_data(entry.record)} ({count} sequence{'s' * (count != 1)}), "
            f"{protocol.get('resolution', '?')}" + (f", max side {size}" if size else "")
        )
    return "; ".join(sorted(set(parts))) or "unknown"


def banner(context: ReportContext, comparable: bool) -> str:
    if comparable:
        return f"**{context.preset} preset on {context.data}**: measured under the paper's protocol."
    preset = f"{context.preset} preset" if context.preset else "unknown preset"
    return f"**{preset} on {context.data} — NOT comparable to the paper.**"


ENVIRONMENT_FIELDS = ("device_type", "threads", "torch", "kernels")


def check_reproducible_together(entries: list[Entry]) -> None:
    """Refuse to compare records whose numerics environments differ: they do not reproduce each other
    (e.g. the same job with 1 and 2 intra-op threads gives other losses, J&F, even rankings)."""
    seen: dict[tuple, list[str]] = {}
    for entry in entries:
        env = entry.record.identity.get("environment", {})
        seen.setdefault(tuple(env.get(k) for k in ENVIRONMENT_FIELDS), []).append(entry.label)
    if len(seen) <= 1:
        return
    described = "; ".join(
        ", ".join(f"{k}={v}" for k, v in zip(ENVIRONMENT_FIELDS, env, strict=True))
        + f" ({', '.join(labels)})"
        for env, labels in seen.items()
    )
    raise DataError(
        "these records were computed in different numerics environments and would not reproduce each "
        f"other: {described}; rerun them in one environment (same device, threads, torch, kernels) or "
        "report them from separate results folders"
    )


def _write_table(table: Table, folder: Path) -> None:
    atomic_write_text(folder / f"{table.name}.md", to_markdown(table))
    atomic_write_text(folder / f"{table.name}.tex", to_latex(table))
    atomic_write_text(folder / f"{table.name}.csv", to_csv(table))


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


@dataclass(frozen=True)
class _Inputs:
    """What every section reads: the entries, their frames, and where the report goes."""

    entries: list[Entry]
    results: Path
    out_dir: Path  # where the files are written (the report's staging folder)
    links_from: Path  # the folder the report ends up in: its links to records are relative to it
    context: ReportContext
    labels: list[str]
    reference: str | None
    summary: pd.DataFrame
    per_object: pd.DataFrame
    per_frame: pd.DataFrame
    comparable: bool
    training: str
    evaluation: str
    kind: str  # the dataset kind: its metrics and its published table

    @property
    def tables_dir(self) -> Path:
        return self.out_dir / "tables"

    @property
    def figures_dir(self) -> Path:
        return self.out_dir / "figures"

    @property
    def caption(self) -> str:
        return f"{self.context.title} ({self.context.preset or 'unknown'} preset, {self.context.data})"


def _inputs(
    entries: list[Entry], results: Path, out_dir: Path, context: ReportContext, links_from: Path
) -> _Inputs:
    labels = [e.label for e in entries]
    kind = entries_kind(entries)
    datasets = [
        (str(d.get("name", "")), str(d.get("split", "")), len(d.get("sequences") or []))
        for d in (e.record.identity.get("dataset", {}) for e in entries)
    ]
    return _Inputs(
        entries=entries,
        results=Path(results),
        out_dir=Path(out_dir),
        links_from=Path(links_from),
        context=context,
        labels=labels,
        reference=context.reference if context.reference in labels else None,
        summary=summary_frame(entries),
        per_object=per_object_table(entries),
        per_frame=per_frame_table(entries),
        comparable=_comparable(kind, context.preset or "", datasets),
        training=describe_training(entries),
        evaluation=describe_evaluation(entries),
        kind=kind,
    )


PUBLISHED_TITLE = PUBLISHED["benchmarks"].title


def _comparable(kind: str, preset: str, datasets: list[tuple[str, str, int]]) -> bool:
    """Measured as the papers measured: DAVIS by its rule, JHMDB and VIP on user data, paper preset."""
    if kind == "davis":
        return paper_tables.is_paper_comparable(preset, datasets)
    if kind in BENCHMARK_METRICS:
        return paper_tables.is_benchmark_comparable(preset, [name for name, _, _ in datasets])
    return False


def _header(r: _Inputs) -> list[str]:
    context = r.context
    what = f"{context.preset or 'unknown'} preset; training: {r.training}; evaluation: {r.evaluation}"
    lines = [f"# {context.title}", "", f"> {banner(context, r.comparable)}", f"> Measured: {what}.", ""]
    if context.description:
        lines += [context.description, ""]
    lines += [
        "## Set-up",
        "",
        f"- study: `{context.study or '(all records)'}`; preset: `{context.preset or 'unknown'}`; "
        f"data: {context.data}",
        f"- reference row: `{r.reference or 'none'}`; rows: {', '.join(f'`{x}`' for x in r.labels)}",
        *_own_variants_line(r.entries),
        f"- records: {len(r.entries)} (from `{r.results}`)",
        f"- numerics environment: {_environment_text(r.entries)}",
        f"- measured on: {_devices_text(r.entries)} (times in s/frame are each record's own machine's)",
    ]
    if context.command:
        lines.append(f"- produced by: `{context.command}`")
    return [*lines, "", METRICS_NOTE[r.kind], ""]


def _own_variants_line(entries: list[Entry]) -> list[str]:
    own = own_variants(entries)
    return [f"- variants not built in, as they differ from `mast`: {'; '.join(own)}"] if own else []


METRICS_NOTE = {
    "davis": "Metrics are DAVIS-toolkit J and F x100; FLOPs are GFLOPs per frame (2 FLOPs per multiply-add).",
    "youtube-vos": (
        "Metrics are YouTube-VOS J and F x100 scored locally (the DAVIS measures per object, from the "
        "frame after its first annotation; seen = categories of the training meta.json; overall = mean "
        "of the four; gap = seen minus unseen). The evaluation server is the authority for valid/test. "
        "FLOPs are GFLOPs per frame (2 FLOPs per multiply-add)."
    ),
    "jhmdb": (
        "Metrics are JHMDB PCK x100 as CRW's eval_pck.py scores it: a joint is correct when its error is at "
        "most 0.1 (0.2) x 0.6 x the diagonal of the box around the frame's predicted-visible ground-truth "
        "joints; the first frame is not scored; the mean over the 15 joints of each joint's share. "
        "FLOPs are GFLOPs per frame (2 FLOPs per multiply-add)."
    ),
    "vip": (
        "Metrics are VIP mIoU x100 over the 20 part classes, one confusion matrix over every frame of "
        "every video (the first frame included, as the originals write it), classes absent from both "
        "ground truth and prediction left out. FLOPs are GFLOPs per frame (2 FLOPs per multiply-add)."
    ),
}


def _devices_text(entries: list[Entry]) -> str:
    """The machines the rows were measured on, with how many records each (the s/frame column)."""
    devices = Counter(str(e.record.provenance.get("device") or "unknown") for e in entries)
    return "; ".join(
        f"{device}: {count} record{'s' * (count != 1)}" for device, count in sorted(devices.items())
    )


def _environment_text(entries: list[Entry]) -> str:
    env = entries[0].record.identity.get("environment", {}) if entries else {}
    return ", ".join(f"{k} {env.get(k)}" for k in ENVIRONMENT_FIELDS)


def _results_section(r: _Inputs) -> list[str]:
    if r.kind == "davis":
        metrics = tuple(m for m in r.context.metrics if m in GLOBAL_METRICS)
    else:
        metrics = BENCHMARK_METRICS.get(r.kind, YOUTUBE_METRICS)
    main = results_table(r.summary, metrics, r.caption)
    _write_table(main, r.tables_dir)
    return [
        "## Results",
        "",
        to_markdown(main),
        "Best value per column in bold (higher is better for J and F; lower for decay, FLOPs, memory, time). "
        "Each row cites its record key. Tables: [Markdown](tables/results.md), [LaTeX](tables/results.tex), "
        "[CSV](tables/results.csv).",
        "",
    ]


def _uncertainty_section(r: _Inputs) -> tuple[list[str], list[Interval]]:
    context = r.context
    intervals = object_intervals(r.per_object, r.labels, context.resamples, context.seed)
    comparisons = paired_to_reference(r.per_object, r.labels, r.reference, context.resamples, context.seed)
    keys = [e.record.key for e in r.entries]
    table = uncertainty_table(
        r.labels, keys, intervals, comparisons, r.reference, f"{r.caption}: uncertainty"
    )
    _write_table(table, r.tables_dir)
    lines = [
        "## Uncertainty",
        "",
        to_markdown(table),
        f"95% percentile bootstrap intervals of J&F over objects ({context.resamples} resamples, seed "
        f"{context.seed}); differences to `{r.reference or 'n/a'}` paired by (sequence, object), with the "
        "paired bootstrap interval of the mean difference and the two-sided Wilcoxon signed-rank p-value "
        "(scipy.stats.wilcoxon; – when every difference is zero). With few objects these intervals are wide: "
        "read them before reading the ranking.",
        "",
    ]
    return lines, intervals


def _arms_section(r: _Inputs) -> list[str]:
    """Rows grouped into arms (one recipe's training seeds), compared run by run (t intervals)."""
    arms = r.context.arms
    if arms is None:
        return []
    scores = dict(zip(r.summary["label"], r.summary["J&F-Mean"] * 100, strict=True))
    result = compare_arms(arms, scores, r.context.arms_source)
    per_arm, differences = arms_tables(result, r.caption)
    _write_table(per_arm, r.tables_dir)
    _write_table(differences, r.tables_dir)
    level = f"{100 * arms.level:g}%"
    return [
        "## Arms of training runs",
        "",
        f"Rows grouped as `{r.context.arms_source}` says: each arm is one recipe trained with several seeds.",
        "",
        to_markdown(per_arm),
        to_markdown(differences),
        f"The unit is the training run: an arm's {level} interval is Student's t over its runs' J&F, a "
        f"difference of arms Welch's t interval of their means (an arm of one run is taken as fixed: only "
        "the other arm's seed noise counts). These intervals count the seed noise that the intervals above "
        "(over objects) do not; with two or three runs per arm they are wide."
        + (_PAIRED_NOTE if any(c.paired for c in arms.comparison) else ""),
        "",
    ]


_PAIRED_NOTE = (
    " A paired comparison (Interval: paired) takes run i of the arm with run i of its reference and "
    "Student's t over the per-run differences: the noise the two scorings of one run share cancels."
)


def _paper_section(r: _Inputs) -> list[str]:
    """The published table of the study (DAVIS), MAST's YouTube-VOS row for YouTube-VOS records, the
    trackers' JHMDB or VIP rows for those."""
    key = {"davis": r.context.paper, "youtube-vos": "youtube-vos-2018-val"}.get(r.kind, r.kind)
    if not key:
        return []
    preset = r.context.preset or "unknown"
    table = paper_tables.paper_table(key, r.summary, preset, r.training, r.evaluation, r.comparable)
    _write_table(table, r.tables_dir)
    return ["## Paper comparison", "", f"*{table.caption}*", "", to_markdown(table)]


def _headline(kind: str) -> tuple[str, str]:
    """(summary column, display name) of a kind's headline metric."""
    return HEADLINE[kind], "J&F" if kind == "davis" else "Overall"


def _factorial_section(r: _Inputs) -> list[str]:
    """Features x protocol: shown when the rows cross several protocols."""
    factors = r.context.factors or {
        e.label: {"variant": e.record.identity["variant"], "protocol": e.record.identity["protocol"]["name"]}
        for e in r.entries
    }
    if len({f["protocol"] for f in factors.values()}) < 2 or r.per_object.empty:
        return []
    cells: dict[tuple[str, str], list[str]] = {}
    for label in r.labels:
        cells.setdefault((factors[label]["variant"], factors[label]["protocol"]), []).append(label)
    shared = next((labels for labels in cells.values() if len(labels) > 1), None)
    if shared is not None:  # rows that differ in something else (input size, weights, data)
        return [
            "## Features and protocol apart",
            "",
            f"Not computed: rows {', '.join(f'`{label}`' for label in shared)} share features and protocol "
            "and differ in other settings, so the features x protocol cells are not one row each.",
            "",
        ]
    frame = r.per_object.assign(
        features=r.per_object["label"].map(lambda label: factors[label]["variant"]),
        protocol=r.per_object["label"].map(lambda label: factors[label]["protocol"]),
    )[["features", "protocol", "sequence", "object", "J&F"]]
    reference = factors.get(r.reference or "", {})
    context = r.context
    cells = two_way_table(frame, f"{r.caption}: J&F by features x protocol", context.resamples, context.seed)
    effects = factor_effects(
        frame, reference.get("variant"), reference.get("protocol"), context.resamples, context.seed
    )
    table = effects_table(effects, f"{r.caption}: paired effects of each factor")
    _write_table(cells, r.tables_dir)
    _write_table(table, r.tables_dir)
    return [
        "## Features and protocol apart",
        "",
        to_markdown(cells),
        "Each cell: J&F x100 with its 95% bootstrap interval over objects. Below, each factor's effect "
        "with the other held fixed, paired by (sequence, object): the protocol effect within each "
        "feature set, the feature effect within each protocol, and their interaction (a paired "
        "difference of paired differences), with bootstrap intervals and Wilcoxon p.",
        "",
        to_markdown(table),
    ]


def _figures_section(r: _Inputs, intervals: list[Interval]) -> list[str]:
    figures = [
        (
            "jf_intervals",
            "J&F per row with 95% intervals",
            jf_intervals_figure(r.labels, intervals, r.reference),
        ),
        (
            "jf_vs_memory",
            "J&F against peak memory",
            cost_figure(r.summary, "peak_memory_bytes", 1 / MIB, "peak memory (MiB)", *_headline(r.kind)),
        ),
        (
            "jf_vs_flops",
            "J&F against FLOPs",
            cost_figure(r.summary, "gflops_per_frame", 1.0, "GFLOPs per frame", *_headline(r.kind)),
        ),
    ]
    matrix = per_sequence_frame(r.per_object)
    if not matrix.empty:
        matrix = matrix.reindex([x for x in r.labels if x in matrix.index])
        figures.append(("per_sequence", "J&F per sequence", sequence_heatmap_figure(matrix)))
        table = Table(
            "per_sequence",
            f"{r.caption}: J&F per sequence (mean over its objects, x100)",
            (matrix * 100).rename_axis(index="Variant", columns=None).reset_index(),
            decimals={c: 1 for c in matrix.columns},
        )
        _write_table(table, r.tables_dir)
    profile = decay_profile(r.per_frame)
    if not profile.empty:
        figures.append(("decay", "J and F across the video", decay_figure(profile, r.labels)))
    lines = ["## Figures", ""]
    for stem, title, figure in figures:
        save_figure(figure, r.figures_dir, stem)
        lines += [f"### {title}", "", f"![{title}](figures/{stem}.png) ([PDF](figures/{stem}.pdf))", ""]
    return lines


def _shared_training_lines(taken: list[str], runs: list[tuple[str, dict]]) -> list[str]:
    """Which rows trained nothing of their own, and which copied their first stages: their seconds
    are another row's, so the table leaves them out."""
    copied = [
        f"`{label}` ({', '.join(stage['name'] for stage in stages)})"
        for label, train in runs
        if (stages := [s for s in train.get("stages", []) if COPIED_FROM in s])
    ]
    lines = []
    if taken:
        lines += [
            "Rows whose weights are another row's run (they differ only in fields their training never "
            f"reads): {', '.join(taken)}.",
            "",
        ]
    if copied:
        lines += [
            f"Rows whose first stages were copied from another run, which trained them: {', '.join(copied)}.",
            "",
        ]
    return lines


def _training_section(r: _Inputs) -> list[str]:
    """The trained rows' training: every stage's iterations, seconds, samples/s and loss, and the
    loss curves (records the harness trained carry their run's train.json)."""
    trained = [(entry.label, entry.record.train) for entry in r.entries if entry.record.train]
    runs = [(label, train) for label, train in trained if WEIGHTS_TAKEN_FROM not in train]
    taken = [f"`{label}`" for label, train in trained if WEIGHTS_TAKEN_FROM in train]
    table = runs_table(runs)
    if table.empty:
        return []
    save_figure(runs_loss_figure(runs), r.figures_dir, "training_loss")
    rows = Table("training", f"{r.caption}: training, stage by stage", table)
    _write_table(rows, r.tables_dir)
    shared = _shared_training_lines(taken, runs)
    return [
        "## Training",
        "",
        "Seconds and samples/s of steps, as each run measured them (beside whatever else ran).",
        "",
        *shared,
        to_markdown(rows),
        "",
        "![training loss](figures/training_loss.png) ([PDF](figures/training_loss.pdf))",
        "",
    ]


def _qualitative_section(r: _Inputs) -> list[str]:
    qualitative = qualitative_figures(r.entries, r.results, r.figures_dir)
    lines = ["## Qualitative results", ""]
    lines += [f"![{p.stem}](figures/{p.name})\n" for p in qualitative.figures if p.suffix == ".png"]
    return [*lines, *(f"- {note}" for note in qualitative.notes), ""]


def _records_section(r: _Inputs) -> list[str]:
    lines = [
        "## Records",
        "",
        "| row | record key | file | git revision | device | created |",
        "|---|---|---|---|---|---|",
    ]
    for entry in r.entries:
        record = entry.record
        path = _rel(ResultsLayout(r.results).record_path(record.key), r.links_from)
        prov = record.provenance
        lines.append(
            f"| {entry.label} | `{record.key}` | [{path}]({path}) | {prov.get('git_revision')}"
            f"{' (dirty)' if prov.get('git_dirty') else ''} | {prov.get('device')} | {prov.get('created')} |"
        )
    return [*lines, ""]


def _detail_section(r: _Inputs) -> list[str]:
    """JHMDB: PCK@0.1 per joint; VIP: IoU per part class."""
    what = "PCK@0.1 per joint" if r.kind == "jhmdb" else "IoU per part class"
    table = detail_table(r.kind, r.entries, f"{r.caption}: {what} (x100)")
    _write_table(table, r.tables_dir)
    return [f"## {KIND_NAMES[r.kind]}: {what}", "", to_markdown(table)]


def _benchmarks_section(r: _Inputs, others: dict[str, list[Entry]]) -> list[str]:
    """A study on several benchmarks: features x protocol x benchmark, each other benchmark's detail,
    and the trackers' published numbers on the three benchmarks beside the measured rows."""
    if not others:
        return []
    by_kind = {r.kind: r.entries, **others}
    factors = r.context.factors or {}
    caption = f"{r.context.title} ({r.context.preset or 'unknown'} preset): features x protocol x benchmark"
    cross = benchmark_table(by_kind, factors, caption)
    _write_table(cross, r.tables_dir)
    lines = [
        "## Features x protocol x benchmark",
        "",
        "Each study row on every benchmark: "
        + "; ".join(
            f"{KIND_NAMES[kind]}: {describe_evaluation(entries)}" for kind, entries in by_kind.items()
        )
        + ". Headline metrics x100 from the rows' records.",
        "",
        to_markdown(cross),
    ]
    for entries in others.values():
        other = _inputs(entries, r.results, r.out_dir, r.context, r.links_from)
        if other.kind in BENCHMARK_METRICS:
            lines += _detail_section(other)
    names = [str(e.record.identity.get("dataset", {}).get("name", "")) for es in by_kind.values() for e in es]
    comparable = paper_tables.is_benchmark_comparable(r.context.preset or "", names)
    caption = f"{PUBLISHED_TITLE}: published beside measured ({r.context.preset or 'unknown'} preset)"
    paper = benchmark_paper_table(cross.frame, r.context.preset or "unknown", comparable, caption)
    _write_table(paper, r.tables_dir)
    return [*lines, "## Published on the three benchmarks", "", f"*{paper.caption}*", "", to_markdown(paper)]


def write_report(
    entries: list[Entry],
    results: Path,
    out_dir: Path,
    context: ReportContext,
    others: dict[str, list[Entry]] | None = None,
) -> Path:
    """Write the whole report folder; returns the path of report.md. ``others``: a study's entries on
    its other benchmarks (kind -> entries). The report is made beside ``out_dir`` and its parts moved
    there when complete: a report cut short (an error, Ctrl-C) leaves the previous one as it was,
    never its report.md beside newer tables and figures."""
    others = others or {}
    check_reproducible_together([*entries, *(e for group in others.values() for e in group)])
    out_dir = Path(out_dir)

    def write(staging: Path) -> Path:  # after write_staged's check of out_dir: warnings only then
        for warning in report_warnings(entries, entries_kind(entries)):
            tell(warning)
        return _write_sections(_inputs(entries, results, staging, context, links_from=out_dir), others)

    write_staged(out_dir, REPORT_PARTS, write, results)
    return out_dir / "report.md"


REPORT_PARTS = ("tables", "figures", "report.md")  # report.md last: it links to the others


def _write_sections(r: _Inputs, others: dict[str, list[Entry]]) -> Path:
    if r.kind in BENCHMARK_METRICS:  # keypoints and parts: their own scores, no per-object J&F
        body = [
            *_results_section(r),
            *_detail_section(r),
            *_paper_section(r),
            *_benchmarks_section(r, others),
        ]
        lines = [*_header(r), *body, *_training_section(r), *_records_section(r)]
        return atomic_write_text(r.out_dir / "report.md", "\n".join(lines))
    uncertainty, intervals = _uncertainty_section(r)
    lines = [
        *_header(r),
        *_results_section(r),
        *uncertainty,
        *_arms_section(r),
        *_paper_section(r),
        *_factorial_section(r),
        *_benchmarks_section(r, others),
        *_figures_section(r, intervals),
        *_training_section(r),
        *_qualitative_section(r),
        *_records_section(r),
    ]
    return atomic_write_text(r.out_dir / "report.md", "\n".join(lines))


def write_study_report(
    results: str | Path,
    manifest: StudyManifest,
    out_dir: str | Path | None = None,
    skip_unreadable: bool = False,
) -> Path:
    """The report of one study run, from its manifest's records (default: <results>/reports/<study>/).

    Only those records are read: an unreadable record of another run never stops it."""
    results = Path(results)
    keys = [*manifest.records.values(), *(k for rows in manifest.benchmarks.values() for k in rows.values())]
    records = load_records(results, keys, skip_unreadable)
    entries = study_entries(records, manifest)
    others = {kind: study_entries(records, manifest, rows) for kind, rows in manifest.benchmarks.items()}
    out = Path(out_dir) if out_dir is not None else ResultsLayout(results).report_dir(manifest.study)
    return write_report(entries, results, out, context_from_manifest(manifest), others)


def write_all_records_report(
    results: str | Path,
    out_dir: str | Path | None = None,
    skip_unreadable: bool = False,
    reference: str | None = None,
    arms: str | Path | None = None,
) -> Path:
    """A report over every record in the folder, each row paired against ``reference`` (a row
    label; default `mast`, or `mast@mast` where protocols differ, when present), its rows grouped into
    the arms of the ``arms`` file where one is given; ``skip_unreadable`` leaves out record files that
    cannot be read, naming each on stderr."""
    results = Path(results)
    records = load_records(results, skip_unreadable=skip_unreadable)
    if not records:
        raise DataError(f"{results / 'records'}: no result records to report on")
    entries = all_entries(records)
    labels = [e.label for e in entries]
    if reference is not None and reference not in labels:
        raise DataError(f"{results}: no row {reference!r} to pair against; rows: {', '.join(labels)}")
    arms_config = None if arms is None else load_arms(arms)
    if arms_config is not None:  # checked before any file is written
        if entries_kind(entries) != "davis":
            raise DataError(
                f"{arms}: arms compare DAVIS J&F; {results} holds {entries_kind(entries)} records"
            )
        scores = summary_frame(entries).set_index("label")["J&F-Mean"].to_dict()
        check_rows(arms_config, scores, str(arms))
    presets = {e.record.identity.get("checkpoint", {}).get("train_preset") for e in entries}
    datasets = {e.record.identity.get("dataset", {}).get("name") for e in entries}
    context = ReportContext(
        title=f"All results in {results}",
        reference=reference or next((x for x in ("mast", "mast@mast") if x in labels), None),
        preset=presets.pop() if len(presets) == 1 and None not in presets else None,
        data=str(datasets.pop()) if len(datasets) == 1 else "several datasets",
        arms=arms_config,
        arms_source="" if arms is None else str(arms),
    )
    out = Path(out_dir) if out_dir is not None else ResultsLayout(results).report_dir(None)
    return write_report(entries, results, out, context)
