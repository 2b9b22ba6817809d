"""Report figures from the frames of collect.py, each saved as PNG and PDF.

Figures are built on ``matplotlib.figure.Figure`` directly (the Agg canvas,
no pyplot state), so reports render headless and in parallel workers; the
numbers each plot shows come from small pure functions the tests check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..atomic import atomic_write
from ..metrics.names import HEADERS, HEADLINE
from .stats import Interval

FORMATS = ("png", "pdf")
# no version stamps or creation dates: the same records give the same bytes
METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:  # each file whole or not at all: report.md of an earlier run links to them
        path = out_dir / f"{stem}.{fmt}"
        atomic_write(
            path, lambda tmp, fmt=fmt: figure.savefig(tmp, format=fmt, dpi=120, metadata=METADATA[fmt])
        )
        paths.append(path)
    return paths


def jf_intervals_figure(labels: list[str], intervals: list[Interval], reference: str | None) -> Figure:
    """J&F per variant (x100) with its bootstrap 95% interval; the reference variant in another colour."""
    numbered = any(len(label) > NUMBER_LABELS_OVER for label in labels)  # slanted names may be many
    width = max(4.0, (0.5 if numbered else 1.1) * len(labels) + 1.5)
    figure = new_figure(width, 3.6 + (_key_height(labels) if numbered else 0.0))
    axes = figure.add_subplot()
    x = np.arange(len(labels))
    estimate = np.array([i.estimate for i in intervals]) * 100
    low = np.array([i.low for i in intervals]) * 100
    high = np.array([i.high for i in intervals]) * 100
    colours = ["tab:orange" if label == reference else "tab:blue" for label in labels]
    axes.bar(x, estimate, color=colours, alpha=0.8)
    axes.errorbar(x, estimate, yerr=[estimate - low, high - estimate], fmt="none", ecolor="black", capsize=4)
    if numbered:
        axes.set_xticks(x, [str(n) for n in range(1, len(labels) + 1)])
        _key_below(figure, labels)
    else:
        axes.set_xticks(x, labels, rotation=20, ha="right")
    axes.set_ylabel("J&F (x100), 95% bootstrap CI")
    axes.set_title("J&F per variant" + (f" (reference: {reference})" if reference else ""))
    return figure


def cost_figure(
    summary: pd.DataFrame,
    cost: str,
    scale: float,
    xlabel: str,
    metric: str = HEADLINE["davis"],
    name: str = HEADERS[HEADLINE["davis"]],
) -> Figure:
    """A headline metric against one cost column; rows without that figure are left out (and listed)."""
    data = summary[["label", metric, cost]].dropna()
    labels = list(data["label"])
    numbered = _numbered(labels)
    figure = new_figure(5.0, 3.8 + (_key_height(labels) if numbered else 0.0))
    axes = figure.add_subplot()
    axes.scatter(data[cost] * scale, data[metric] * 100, color="tab:blue")
    for number, row in enumerate(data.itertuples(index=False), start=1):
        text = str(number) if numbered else str(row[0])
        axes.annotate(text, (row[2] * scale, row[1] * 100), textcoords="offset points", xytext=(4, 4))
    if numbered:
        _key_below(figure, labels)
    missing = sorted(set(summary["label"]) - set(data["label"]))
    axes.set_xlabel(xlabel)
    axes.set_ylabel(f"{name} (x100)")
    axes.set_title(f"{name} vs {xlabel}" + (f" (no data: {', '.join(missing)})" if missing else ""))
    return figure


def sequence_heatmap_figure(matrix: pd.DataFrame) -> Figure:
    """Per-sequence J&F (x100) of each variant, values written in the cells."""
    rows, cols = matrix.shape
    longest = max((len(str(i)) for i in matrix.index), default=0)
    figure = new_figure(max(4.0, 0.9 * cols + 2.5 + CHAR_WIDTH * longest), max(2.5, 0.45 * rows + 1.5))
    axes = figure.add_subplot()
    values = matrix.to_numpy(dtype=float) * 100
    image = axes.imshow(values, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    axes.set_xticks(np.arange(cols), [str(c) for c in matrix.columns], rotation=30, ha="right")
    axes.set_yticks(np.arange(rows), [str(i) for i in matrix.index])
    for r in range(rows):
        for c in range(cols):
            if not np.isnan(values[r, c]):
                colour = "white" if values[r, c] < 50 else "black"
                axes.text(c, r, f"{values[r, c]:.1f}", ha="center", va="center", color=colour, fontsize=8)
    figure.colorbar(image, ax=axes, label="J&F (x100)")
    axes.set_title("J&F per sequence")
    return figure


def decay_profile(per_frame: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Mean J and F per label in ``bins`` equal slices of the video's length (position in [0, 1])."""
    if per_frame.empty:
        return pd.DataFrame(columns=["label", "bin", "centre", "J", "F"])
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, per_frame["position"].to_numpy(), side="right") - 1, 0, bins - 1)
    frame = per_frame.assign(bin=index)
    profile = frame.groupby(["label", "bin"], sort=False)[["J", "F"]].mean().reset_index()
    profile["centre"] = (edges[profile["bin"]] + edges[profile["bin"] + 1]) / 2
    return profile[["label", "bin", "centre", "J", "F"]]


def decay_figure(profile: pd.DataFrame, labels: list[str]) -> Figure:
    """J and F by position in the video, one line per label; the key below both plots (it covered
    the J plot once the labels were many or long), a colour each for up to 20 labels."""
    figure = new_figure(8.0, 3.4 + _key_height(labels))
    colours = _colours(len(labels))
    for i, metric in enumerate(("J", "F")):
        axes = figure.add_subplot(1, 2, i + 1)
        for label, colour in zip(labels, colours, strict=True):
            part = profile[profile["label"] == label].sort_values("centre")
            axes.plot(part["centre"], part[metric] * 100, marker="o", markersize=3, color=colour, label=label)
        axes.set_xlabel("position in the video (0 = first frame, 1 = last)")
        axes.set_ylabel(f"{metric} (x100)")
        axes.set_ylim(0, 100)
        axes.set_title(f"{metric} across the video")
    handles, names = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", fontsize=KEY_FONT_SIZE, frameon=False)
    return figure


CHAR_WIDTH = 0.075  # inches a tick-label character takes at matplotlib's default 10 pt
KEY_FONT_SIZE = 7
KEY_LINE_HEIGHT = 0.17  # inches a line of a key takes at KEY_FONT_SIZE
NUMBER_LABELS_OVER = 28  # characters over which points and bars carry a number, the names a key below


def _colours(count: int) -> list:
    """One colour per line: tab10 up to 10 lines, tab20 up to 20, then tab20 again."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(count)]


def _key_height(labels: list[str]) -> float:
    return KEY_LINE_HEIGHT * (len(labels) + 1)


def _numbered(labels: list[str]) -> bool:
    """Label scatter points by number (key below) where the names would run over each other."""
    return len(labels) > 4 or any(len(label) > NUMBER_LABELS_OVER for label in labels)


def _key_below(figure: Figure, labels: list[str]) -> None:
    """A text key under the plot, ``N: label`` per line, for points or bars numbered 1..N."""
    from matplotlib.lines import Line2D

    lines = [f"{n}: {label}" for n, label in enumerate(labels, start=1)]
    handles = [Line2D([], [], linestyle="none") for _ in lines]
    figure.legend(
        handles, lines, loc="outside lower center", fontsize=KEY_FONT_SIZE, frameon=False, handlelength=0
    )
