"""The training report: does training with mast-bench make a tracker?

Read from a learning-curve manifest and the records it cites: the loss of every stage, the speed
of every stage, J&F of every kept set of weights under every protocol beside training-free
baselines, and paired intervals of the final weights against the random initialisation (the
run's own iteration 0) and against each baseline. Two intervals per comparison: over objects (the
toolkit's unit; few objects give a wide interval) and over object-frames, resampled in blocks of
consecutive frames (a score at frame t is close to the one at t+1, so frames are not independent
draws). The report says in words whether each interval is clear of zero.

The folder is self-contained and the same inputs give the same bytes: report.md, tables as CSV,
figures as PNG, and the manifest with every cited record under ``results/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from ..results import COPIED_FROM, ResultStore
from ..results.curves import CurveManifest, write_curve
from .plots import new_figure, save_figure
from .staging import write_staged
from .stats import Interval, block_bootstrap_ci, interval_verdict, paired_comparison
from .tables import Table, to_markdown

BLOCK = 10  # frames per resampled block of the object-frame intervals
SMOOTH = 25  # iterations in the running mean of the loss figure


@dataclass(frozen=True)
class Comparison:
    protocol: str
    what: str  # "final vs random init"
    objects: object  # PairedComparison over objects
    frames: Interval  # block bootstrap over object-frames


def score_table(manifest: CurveManifest, store: ResultStore) -> pd.DataFrame:
    """One row per (weights, protocol) and per (baseline, protocol): J&F, J, F (x100), cost, record."""
    rows = []
    for point in manifest.points:
        record = store.get(point.record)
        rows.append(
            {
                "weights": point.label,
                "iteration": point.iteration,
                "stage": point.stage,
                "protocol": point.protocol,
                **_scores(record),
                "record": point.record,
            }
        )
    for base in manifest.baselines:
        record = store.get(base.record)
        rows.append(
            {
                "weights": base.variant,
                "iteration": None,
                "stage": "(no training)",
                "protocol": base.protocol,
                **_scores(record),
                "record": base.record,
            }
        )
    frame = pd.DataFrame(rows)
    frame["iteration"] = frame["iteration"].astype("Int64")
    return frame


def _scores(record) -> dict:
    metrics = record.metrics["global"]
    return {
        "J&F": round(100 * metrics["J&F-Mean"], 2),
        "J": round(100 * metrics["J-Mean"], 2),
        "F": round(100 * metrics["F-Mean"], 2),
        "s/frame": round(record.profile["seconds_per_frame"], 3),
    }


def per_object(record) -> pd.Series:
    frame = pd.DataFrame(record.metrics["per_object"])
    index = pd.MultiIndex.from_frame(frame[["sequence", "object"]])
    return pd.Series(((frame["J-Mean"] + frame["F-Mean"]) / 2).to_numpy() * 100, index=index)


def per_object_frame(record) -> pd.Series:
    frame = pd.DataFrame(record.metrics["per_frame"])
    index = pd.MultiIndex.from_frame(frame[["sequence", "object", "frame"]])
    return pd.Series(((frame["J"] + frame["F"]) / 2).to_numpy() * 100, index=index)


def compare(protocol: str, what: str, variant, reference) -> Comparison:
    """``variant`` minus ``reference`` (records of the same data), over objects and object-frames."""
    a, b = per_object(variant).align(per_object(reference), join="inner")
    objects = paired_comparison(a.to_numpy(), b.to_numpy())
    fa, fb = per_object_frame(variant).align(per_object_frame(reference), join="inner")
    difference = (fa - fb).sort_index()
    series = [group.to_numpy() for _, group in difference.groupby(level=["sequence", "object"])]
    return Comparison(protocol, what, objects, block_bootstrap_ci(series, BLOCK))


def comparisons(manifest: CurveManifest, store: ResultStore) -> list[Comparison]:
    out = []
    for protocol in manifest.protocols:
        points = sorted((p for p in manifest.points if p.protocol == protocol), key=lambda p: p.iteration)
        if not points:
            continue
        final, start = store.get(points[-1].record), store.get(points[0].record)
        out.append(compare(protocol, f"final ({points[-1].label}) vs {points[0].label}", final, start))
        for base in (b for b in manifest.baselines if b.protocol == protocol):
            out.append(compare(protocol, f"final vs {base.variant}", final, store.get(base.record)))
    return out


def comparison_table(items: list[Comparison]) -> pd.DataFrame:
    rows = []
    for c in items:
        o, f = c.objects, c.frames
        rows.append(
            {
                "protocol": c.protocol,
                "comparison": c.what,
                "objects": o.n_pairs,
                "mean ΔJ&F": round(o.mean_difference, 2),
                "95% CI (objects)": f"[{o.low:.2f}, {o.high:.2f}]",
                "object-frames": f.n,
                "95% CI (frame blocks)": f"[{f.low:.2f}, {f.high:.2f}]",
                "verdict (frame blocks)": interval_verdict(f.low, f.high),
            }
        )
    return pd.DataFrame(rows)


def stage_table(train: dict) -> pd.DataFrame:
    """The stages the run trained itself (not those it copied from another run), one row each."""
    rows = []
    for stage in (s for s in train.get("stages", []) if COPIED_FROM not in s):
        tail = [loss for _, loss in stage["loss_curve"][-SMOOTH:]]
        rows.append(
            {
                "stage": stage["name"],
                "iterations": stage["iterations"],
                "batch": stage["batch_size"],
                "frames": "x".join(map(str, stage["frame_size"])),
                "references": stage["references"],
                "seconds": round(stage["seconds"], 1),
                "samples/s": round(stage["samples_per_s"] or 0, 2),
                f"loss (mean of last {len(tail)})": round(float(np.mean(tail)), 4) if tail else None,
            }
        )
    return pd.DataFrame(rows)


def runs_table(runs: list[tuple[str, dict]]) -> pd.DataFrame:
    """Every stage of every labelled training summary (a record's ``train``), one row each."""
    frames = [stage_table(train).assign(variant=label) for label, train in runs if train.get("stages")]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    return table[["variant", *[c for c in table.columns if c != "variant"]]]


def runs_loss_figure(runs: list[tuple[str, dict]]):
    """The loss of each labelled run (running mean of SMOOTH) over its iterations, all stages."""
    figure = new_figure(7.0, 3.4)
    axis = figure.add_subplot()
    for label, train in runs:
        curve = np.asarray(train.get("loss_curve") or [], dtype=float)
        if curve.size:
            axis.plot(curve[:, 0], pd.Series(curve[:, 1]).rolling(SMOOTH, min_periods=1).mean(), label=label)
    axis.set_xlabel("iteration (all stages)")
    axis.set_ylabel(f"loss (running mean of {SMOOTH})")
    axis.set_yscale("log")
    axis.legend(fontsize=8)
    return figure


def loss_figure(train: dict):
    """The loss per iteration (running mean of SMOOTH), one colour per stage, on one axis."""
    figure = new_figure(7.0, 3.4)
    axis = figure.add_subplot()
    for stage in train.get("stages", []):
        curve = np.asarray(stage["loss_curve"], dtype=float)
        if curve.size == 0:
            continue
        smooth = pd.Series(curve[:, 1]).rolling(SMOOTH, min_periods=1).mean()
        refs = stage["references"]
        axis.plot(curve[:, 0], smooth, label=f"{stage['name']} ({refs} reference{'s' if refs > 1 else ''})")
    axis.set_xlabel("iteration (all stages)")
    axis.set_ylabel(f"loss (running mean of {SMOOTH})")
    axis.set_yscale("log")
    axis.legend(fontsize=8)
    return figure


def curve_figure(scores: pd.DataFrame):
    """J&F per kept set of weights (by iteration), one line per protocol; baselines dashed."""
    figure = new_figure(7.0, 3.6)
    axis = figure.add_subplot()
    trained = scores[scores["iteration"].notna()]
    for index, (protocol, rows) in enumerate(trained.groupby("protocol", sort=False)):
        colour = f"C{index}"
        rows = rows.sort_values("iteration")
        axis.plot(rows["iteration"], rows["J&F"], marker="o", color=colour, label=f"trained, {protocol}")
        for _, base in scores[(scores["iteration"].isna()) & (scores["protocol"] == protocol)].iterrows():
            axis.axhline(base["J&F"], color=colour, linestyle="--", label=f"{base['weights']}, {protocol}")
    axis.set_xlabel("training iteration (0 = random init)")
    axis.set_ylabel("J&F (x100)")
    axis.legend(fontsize=8)
    return figure


def _markdown(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)"
    shown = frame.copy()
    for column in shown.columns[shown.isna().any()]:  # a blank, not "nan"; full columns stay numbers
        shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return to_markdown(Table("t", "", shown))


def _evaluation_size(max_side: int | None) -> str:
    return f"at a longest side of {max_side}" if max_side else "at the dataset's own size"


def _header(manifest: CurveManifest) -> list[str]:
    machine = manifest.machine or {}
    return [
        f"# Training report: {manifest.variant}, preset {manifest.preset}",
        "",
        f"Made by: `{manifest.command}`" if manifest.command else "",
        "",
        f"- trained on: `{manifest.train_data}`; evaluated on: `{manifest.data}` "
        f"{_evaluation_size(manifest.max_side)}, protocols {', '.join(manifest.protocols)}",
        f"- machine: {machine.get('cpu_model', '?')}, {machine.get('cpus_available', '?')} CPUs, "
        f"{machine.get('torch_threads', '?')} torch threads, torch {machine.get('torch', '?')}, "
        f"{machine.get('device', '?')}",
        f"- total training: {manifest.train.get('iterations')} iterations, "
        f"{manifest.train.get('seconds', 0) / 60:.1f} min of steps",
        "",
    ]


def _verdict(items: list[Comparison]) -> list[str]:
    lines = ["## Verdict", ""]
    for c in items:
        f = c.frames
        lines.append(
            f"- {c.protocol}: {c.what}: {c.objects.mean_difference:+.2f} J&F, 95% interval over frame "
            f"blocks [{f.low:.2f}, {f.high:.2f}]: {interval_verdict(f.low, f.high)}."
        )
    return [*lines, ""]


def write_training_report(
    results: str | Path, manifest: CurveManifest, out_dir: str | Path | None = None
) -> Path:
    """Write the report of ``manifest`` (records read from ``results``) into ``out_dir``, whole: made
    beside it and moved in when complete (write_staged)."""
    store = ResultStore(results)
    out = Path(out_dir) if out_dir else store.layout.reports_root / manifest.name
    write_staged(
        out, TRAINING_REPORT_PARTS, lambda staging: _write_parts(store, manifest, staging), store.root
    )
    return out / "report.md"


TRAINING_REPORT_PARTS = ("tables", "figures", "results", "report.md")  # report.md last: it links


def _write_parts(store: ResultStore, manifest: CurveManifest, out: Path) -> Path:
    scores, stages = score_table(manifest, store), stage_table(manifest.train)
    items = comparisons(manifest, store)
    table = comparison_table(items)
    save_figure(loss_figure(manifest.train), out / "figures", "loss")
    save_figure(curve_figure(scores), out / "figures", "jf")
    for name, frame in (("scores", scores), ("stages", stages), ("comparisons", table)):
        atomic_write_text(out / "tables" / f"{name}.csv", frame.to_csv(index=False))
    _vendor(store, manifest, out / "results")
    text = [
        *_header(manifest),
        *_verdict(items),
        "## Training, stage by stage",
        "",
        _markdown(stages),
        "",
        "![loss per stage](figures/loss.png)",
        "",
        "Speeds are those of this run (beside whatever else the machine ran); "
        "`benchmarks/bench_train.py` measures each stage alone at 256x256, batch 12.",
        "",
        "## J&F of every kept set of weights",
        "",
        "s/frame: as each record measured it, beside whatever else the machine ran (not a benchmark).",
        "",
        _markdown(scores.drop(columns=["record"])),
        "",
        "![J&F by iteration](figures/jf.png)",
        "",
        "## Paired comparisons (final weights minus the other, x100)",
        "",
        _markdown(table),
        "",
        "Records: `results/records/<key>.json` (the `record` column of tables/scores.csv); the "
        "manifest: `results/studies/`.",
        "",
    ]
    return atomic_write_text(out / "report.md", "\n".join(text))


def _vendor(store: ResultStore, manifest: CurveManifest, folder: Path) -> None:
    """Copy the manifest and every record it cites into ``folder`` (a results folder of its own)."""
    keys = [p.record for p in manifest.points] + [b.record for b in manifest.baselines]
    records = folder / "records"
    records.mkdir(parents=True, exist_ok=True)
    for key in dict.fromkeys(keys):
        shutil.copyfile(store.layout.record_path(key), records / f"{key}.json")
    write_curve(folder, manifest)
