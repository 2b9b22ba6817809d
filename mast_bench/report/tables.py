"""Tables as data, rendered three ways: Markdown, LaTeX (booktabs) and CSV.

A :class:`Table` holds numbers in display units plus, per column, how many
decimals to show and which direction is better; the best value of each
column is found once (:func:`best_rows`) and marked the same way in every
format (bold), so the formats cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from ..metrics.names import BENCHMARK_METRICS, HEADERS, LOWER_IS_BETTER, YOUTUBE_METRICS
from ..metrics.names import DAVIS_METRICS as GLOBAL_METRICS
from .stats import Interval, PairedComparison

Better = Literal["higher", "lower"]
MIB = 2**20


@dataclass(frozen=True)
class Column:
    source: str  # column of collect.summary_frame
    header: str
    scale: float
    decimals: int
    better: Better


def _metric_column(metric: str) -> Column:
    return Column(metric, HEADERS[metric], 100.0, 1, "lower" if metric in LOWER_IS_BETTER else "higher")


METRIC_COLUMNS = {metric: _metric_column(metric) for metric in GLOBAL_METRICS}
YOUTUBE_COLUMNS = {metric: _metric_column(metric) for metric in YOUTUBE_METRICS}
BENCHMARK_COLUMNS = {m: _metric_column(m) for metrics in BENCHMARK_METRICS.values() for m in metrics}
COST_COLUMNS = (
    Column("gflops_per_frame", "GFLOPs/frame", 1.0, 1, "lower"),
    Column("peak_memory_bytes", "Peak memory (MiB)", 1.0 / MIB, 0, "lower"),
    Column("seconds_per_frame", "Time (s/frame)", 1.0, 3, "lower"),
)


@dataclass
class Table:
    name: str  # file stem
    caption: str
    frame: pd.DataFrame  # display units; text columns allowed
    decimals: dict[str, int] = field(default_factory=dict)
    better: dict[str, Better] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)  # text columns shortened to N characters in md/LaTeX


def best_rows(table: Table) -> dict[str, set[int]]:
    """Rows holding the best displayed value of each directed column (ties marked, NaN ignored, 2+ rows)."""
    best: dict[str, set[int]] = {}
    for column, direction in table.better.items():
        values = pd.to_numeric(table.frame[column], errors="coerce").round(table.decimals.get(column, 6))
        if values.notna().sum() < 2:  # nothing to compare against
            best[column] = set()
            continue
        target = values.max() if direction == "higher" else values.min()
        best[column] = {i for i, v in enumerate(values) if v == target}
    return best


def results_table(summary: pd.DataFrame, metrics: tuple[str, ...], caption: str) -> Table:
    """Quality metrics (x100) and cost per variant, each row citing its record key."""
    known = {**METRIC_COLUMNS, **YOUTUBE_COLUMNS, **BENCHMARK_COLUMNS}
    columns = [known[m] for m in metrics] + list(COST_COLUMNS)
    frame = pd.DataFrame({"Variant": summary["label"], "Record": summary["key"]})
    for column in columns:
        frame[column.header] = summary[column.source] * column.scale
    return Table(
        name="results",
        caption=caption,
        frame=frame,
        decimals={c.header: c.decimals for c in columns},
        better={c.header: c.better for c in columns},
        short={"Record": 12},
    )


def uncertainty_table(
    labels: list[str],
    keys: list[str],
    intervals: list[Interval],
    comparisons: list[PairedComparison | None],
    reference: str | None,
    caption: str,
) -> Table:
    """J&F with its bootstrap CI, and the paired difference to the reference (CI, Wilcoxon p, pairs)."""
    frame = pd.DataFrame(
        {
            "Variant": labels,
            "Record": keys,
            "J&F": [i.estimate * 100 for i in intervals],
            "CI low": [i.low * 100 for i in intervals],
            "CI high": [i.high * 100 for i in intervals],
            "Objects": [i.n for i in intervals],
        }
    )
    if reference is not None:
        frame[f"ΔJ&F vs {reference}"] = [c.mean_difference * 100 if c else math.nan for c in comparisons]
        frame["Δ CI low"] = [c.low * 100 if c else math.nan for c in comparisons]
        frame["Δ CI high"] = [c.high * 100 if c else math.nan for c in comparisons]
        frame["Wilcoxon p"] = [c.wilcoxon_p if c else math.nan for c in comparisons]
        frame["Pairs"] = [c.n_pairs if c else 0 for c in comparisons]
    decimals = {"J&F": 1, "CI low": 1, "CI high": 1, "Objects": 0}
    decimals.update({f"ΔJ&F vs {reference}": 1, "Δ CI low": 1, "Δ CI high": 1, "Wilcoxon p": 4, "Pairs": 0})
    return Table(
        "uncertainty", caption, frame, decimals=decimals, better={"J&F": "higher"}, short={"Record": 12}
    )


def format_value(value, decimals: int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and decimals is not None:
        return f"{value:.{decimals}f}"
    return str(value)


def _cells(table: Table, bold: callable, escape: callable) -> tuple[list[str], list[list[str]]]:
    best = best_rows(table)
    headers = [escape(str(c)) for c in table.frame.columns]
    body = []
    for i, row in enumerate(table.frame.itertuples(index=False)):
        cells = []
        for column, value in zip(table.frame.columns, row, strict=True):
            if column in table.short and isinstance(value, str):
                value = value[: table.short[column]]
            text = escape(format_value(value, table.decimals.get(column)))
            cells.append(bold(text) if i in best.get(column, set()) else text)
        body.append(cells)
    return headers, body


def to_markdown(table: Table) -> str:
    headers, body = _cells(table, lambda t: f"**{t}**", lambda t: t.replace("|", "\\|"))
    numeric = [pd.api.types.is_numeric_dtype(table.frame[c]) for c in table.frame.columns]
    align = ["---:" if n else ":---" for n in numeric]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "Δ": r"$\Delta$",
    "–": "--",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def to_latex(table: Table) -> str:
    """A booktabs table (needs \\usepackage{booktabs}); best values in \\textbf."""
    headers, body = _cells(table, lambda t: rf"\textbf{{{t}}}", latex_escape)
    numeric = [pd.api.types.is_numeric_dtype(table.frame[c]) for c in table.frame.columns]
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(table.caption)}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(headers) + r" \\",
        r"\midrule",
        *(" & ".join(cells) + r" \\" for cells in body),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """Full precision, full record keys: the machine-readable twin of the rendered table."""
    return table.frame.to_csv(index=False)
