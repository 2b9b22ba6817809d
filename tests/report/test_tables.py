"""Tables from recorded results: values, direction-aware best marks, the three formats."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from support.records import make_record

from mast_bench.report.collect import (
    all_entries,
    load_records,
    per_object_table,
    study_entries,
    summary_frame,
)
from mast_bench.report.tables import (
    METRIC_COLUMNS,
    Table,
    best_rows,
    latex_escape,
    results_table,
    to_csv,
    to_latex,
    to_markdown,
)

ALL = tuple(METRIC_COLUMNS)


@pytest.fixture
def table(tiny_study):
    results, manifest, records = tiny_study
    entries = study_entries(load_records(results), manifest)
    return results_table(summary_frame(entries), ALL, "caption"), records


def test_values_come_from_the_records_in_display_units(table):
    table, records = table
    frame = table.frame.set_index("Variant")
    for variant, record in records.items():
        row = frame.loc[variant]
        assert row["Record"] == record.key
        assert row["J&F"] == pytest.approx(record.metrics["global"]["J&F-Mean"] * 100)
        assert row["F-decay"] == pytest.approx(record.metrics["global"]["F-Decay"] * 100)
        assert row["GFLOPs/frame"] == record.profile["gflops_per_frame"]["total"]
        assert row["Peak memory (MiB)"] == pytest.approx(record.profile["peak_memory_bytes"] / 2**20)
        assert row["Time (s/frame)"] == record.profile["seconds_per_frame"]


def test_global_jf_is_the_mean_of_per_object_jf(tiny_study):
    results, manifest, records = tiny_study
    entries = study_entries(load_records(results), manifest)
    per_object = per_object_table(entries)
    for variant, record in records.items():
        mine = per_object[per_object["label"] == variant]
        assert mine["J&F"].mean() == pytest.approx(record.metrics["global"]["J&F-Mean"])


def test_best_is_the_true_max_or_min_per_direction(table):
    table, records = table
    best = best_rows(table)
    variants = list(table.frame["Variant"])
    jf = {v: r.metrics["global"]["J&F-Mean"] for v, r in records.items()}
    decay = {v: r.metrics["global"]["J-Decay"] for v, r in records.items()}
    assert {variants[i] for i in best["J&F"]} == {max(jf, key=jf.get)}
    assert {variants[i] for i in best["J-decay"]} == {min(decay, key=decay.get)}
    assert {variants[i] for i in best["Time (s/frame)"]} == {"mast-c"}  # 0.30 s, the fastest
    assert {variants[i] for i in best["Peak memory (MiB)"]} == {"mast-c"}  # 500 MiB
    assert {variants[i] for i in best["GFLOPs/frame"]} == {"mast-a"}  # 12 GFLOPs


def test_ties_are_all_marked_and_nan_ignored():
    frame = pd.DataFrame({"Variant": ["a", "b", "c"], "x": [1.04, np.nan, 1.0]})
    table = Table("t", "c", frame, decimals={"x": 1}, better={"x": "higher"})
    assert best_rows(table)["x"] == {0, 2}  # 1.0 and 1.0 as displayed
    single = Table("t", "c", frame.iloc[:2], decimals={"x": 1}, better={"x": "lower"})
    assert best_rows(single)["x"] == set()  # one value: nothing is "best"


def test_markdown_bolds_exactly_the_best_cells(table):
    table, records = table
    text = to_markdown(table)
    lines = text.strip().splitlines()
    assert lines[0].startswith("| Variant | Record | J&F |")
    best_variant = max(records, key=lambda v: records[v].metrics["global"]["J&F-Mean"])
    jf_best = f"**{records[best_variant].metrics['global']['J&F-Mean'] * 100:.1f}**"
    row = next(line for line in lines if line.startswith(f"| {best_variant} |"))
    assert row.split(" | ")[2] == jf_best
    assert text.count("**") == 2 * sum(len(v) for v in best_rows(table).values())
    assert records["mast"].key[:12] in text


def test_latex_is_booktabs_with_escaped_headers_and_bold_best(table):
    table, _ = table
    text = to_latex(table)
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert text.count(rule) == 1
    assert r"J\&F" in text and r"\textbf{" in text
    assert text.count(r"\textbf{") == sum(len(v) for v in best_rows(table).values())
    body = text.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    assert len(body) == 4 and all(line.count(" & ") == len(table.frame.columns) - 1 for line in body)


def test_csv_keeps_full_precision_and_full_keys(table):
    table, records = table
    back = pd.read_csv(io.StringIO(to_csv(table)))
    assert list(back["Record"]) == [records[v].key for v in back["Variant"]]
    assert np.allclose(back["J&F"], table.frame["J&F"], rtol=0, atol=1e-12)


def test_latex_escape():
    assert latex_escape("J&F_1 50% #2 ΔJ") == r"J\&F\_1 50\% \#2 $\Delta$J"


def test_all_records_labels_say_the_evaluation_size_where_one_label_covers_several():
    def at(record, side):
        identity = {**record.identity, "evaluation": {**record.identity["evaluation"], "max_side": side}}
        return replace(record, identity=identity, key="")

    small = make_record("mast", 0.5, seed=0)
    records = [small, at(small, None), at(small, 480), make_record("mast-rgb", 0.4, seed=1)]
    twin = make_record("mast-rgb", 0.4, seed=2, threads=1)  # same label and size: a key prefix
    labels = {e.record.key: e.label for e in all_entries({r.key: r for r in [*records, twin]})}
    assert labels[small.key] == "mast (max side 216)"
    assert labels[records[1].key] == "mast (full size)" and labels[records[2].key] == "mast (max side 480)"
    assert labels[twin.key] == f"mast-rgb [{twin.key[:8]}]"
    assert labels[records[3].key] == f"mast-rgb [{records[3].key[:8]}]"


def test_all_records_labels_name_the_weights_where_one_label_covers_several():
    """Fine-tuning ablations score one variant with several checkpoints: rows say which."""

    def scored(record, path, sha256):
        weights = {"kind": "file", "sha256": sha256, "path": path, "train_preset": None}
        return replace(record, identity={**record.identity, "checkpoint": weights}, key="")

    base = make_record("mast-scaled", 0.5, seed=0)
    end = scored(base, "/runs/train-cpu/stages/3-schedule/checkpoint.pt", "a" * 64)
    control = scored(base, "/runs/train-control/stages/3-pairs-late/checkpoint.pt", "b" * 64)
    early = scored(base, "/runs/train-cpu/snapshots/iter-0000415.pt", "c" * 64)
    final = scored(base, "/runs/train-cpu/checkpoint.pt", "d" * 64)
    labels = {e.record.key: e.label for e in all_entries({r.key: r for r in [end, control, early, final]})}
    assert labels == {
        end.key: "mast-scaled (train-cpu/3-schedule)",
        control.key: "mast-scaled (train-control/3-pairs-late)",
        early.key: "mast-scaled (train-cpu/iter-0000415)",
        final.key: "mast-scaled (runs/train-cpu)",
    }


def test_a_missing_record_names_the_command_that_made_the_study(tiny_study):
    """A study run from a TOML path is rerun by that path, not by its [study] name."""
    from dataclasses import replace

    from mast_bench.errors import DataError

    results, manifest, records = tiny_study
    gone = dict(load_records(results))
    del gone[records["mast"].key]
    made = replace(manifest, command="mast-bench ablate studies/tiny.toml --data /d --results r")
    with pytest.raises(DataError, match=r"rerun `mast-bench ablate studies/tiny.toml --data /d --results r`"):
        study_entries(gone, made)
    with pytest.raises(DataError, match=r"rerun `mast-bench ablate tiny --preset smoke`"):
        study_entries(gone, replace(manifest, command=""))  # older manifests kept no command
