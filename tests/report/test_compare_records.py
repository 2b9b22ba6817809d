"""benchmarks/compare_records.py: rows of a results folder paired against a reference row."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from support.scripts import REPO, benchmark_script

from mast_bench.report.collect import all_entries, load_records
from mast_bench.report.stats import interval_verdict

SIZES = REPO / "reports" / "training-480p" / "sizes" / "results"


def _script(path: str = "benchmarks/compare_records.py"):
    return benchmark_script(Path(path).stem)


def _per_object_jf(path: Path) -> dict[tuple[str, int], float]:
    rows = json.loads(path.read_text())["metrics"]["per_object"]
    return {(r["sequence"], r["object"]): 50 * (r["J-Mean"] + r["F-Mean"]) for r in rows}


def test_differences_are_the_records_per_object_differences(tmp_path, capsys):
    out = tmp_path / "c.json"
    argv = ["--results", str(SIZES), "--reference", "mast-scaled (full size)", "--out", str(out)]
    assert _script().main(argv) == 0
    report = json.loads(out.read_text())
    assert report["reference"]["row"] == "mast-scaled (full size)" and len(report["rows"]) == 5
    reference = _per_object_jf(SIZES / "records" / f"{report['reference']['record']}.json")
    for row in report["rows"]:
        scores = _per_object_jf(SIZES / "records" / f"{row['record']}.json")
        expected = sum(scores[k] - reference[k] for k in reference) / len(reference)
        assert abs(row["mean_difference"] - expected) < 0.006 and row["objects"] == 4
        assert row["object_frames"] == 232 and row["frame_blocks_ci95"][0] < row["frame_blocks_ci95"][1]
    small = next(r for r in report["rows"] if r["row"] == "mast-scaled (max side 320)")
    assert (
        small["J&F"] == 20.45 and small["verdict"] == "worse (interval below 0)"
    )  # as the sizes report says
    assert "mast-scaled (max side 320): 20.45 J&F" in capsys.readouterr().out


def test_same_weights_compares_the_weights_hashes_where_both_records_have_one(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(SIZES, results)
    labels = ["mast-scaled (full size)", "mast-scaled (max side 320)", "mast-scaled (max side 480)"]
    rows = {e.label: e.record.key for e in all_entries(load_records(results))}
    for label, digest in zip(labels, ["a" * 64, "a" * 64, "b" * 64], strict=True):
        path = results / "records" / f"{rows[label]}.json"
        data = json.loads(path.read_text())
        data["provenance"]["weights_sha256"] = digest
        path.write_text(json.dumps(data))
    out = tmp_path / "c.json"
    assert _script().main(["--results", str(results), "--reference", labels[0], "--out", str(out)]) == 0
    same = {r["row"]: r["same_weights"] for r in json.loads(out.read_text())["rows"]}
    assert same[labels[1]] is True and same[labels[2]] is False
    assert [v for k, v in same.items() if k not in labels] == [None, None, None]  # no hash: unknown


def test_a_difference_of_zero_everywhere_is_called_identical():
    assert interval_verdict(0.0, 0.0) == "identical (every object-frame equal)"
    assert interval_verdict(0.0, 0.5) == "not clear of 0" and interval_verdict(0.1, 0.5).startswith("better")


def test_an_unknown_reference_is_one_line_naming_the_rows(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert _script().main(["--results", str(SIZES), "--reference", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no row 'nope'" in err and "mast-scaled (full size)" in err
    assert not out.exists()


def test_the_committed_comparisons_regenerate_from_their_records(tmp_path, monkeypatch):
    """reports/training-memory-control/comparisons*.json: their own commands (compare_records.py or
    compare_arms.py), rerun from the repository root, give the same figures."""
    committed = sorted((REPO / "reports" / "training-memory-control").rglob("comparisons*.json"))
    assert committed
    monkeypatch.chdir(REPO)
    for path in committed:
        report = json.loads(path.read_text())
        _, script, *argv = shlex.split(report["command"])
        out = tmp_path / path.name
        argv[argv.index("--out") + 1] = str(out)
        assert _script(script).main(argv) == 0
        again = json.loads(out.read_text())
        assert {k: v for k, v in again.items() if k != "command"} == {
            k: v for k, v in report.items() if k != "command"
        }, path.name


def test_pairs_each_have_their_own_reference(tmp_path, capsys):
    out = tmp_path / "pairs.json"
    pairs = [
        ("mast-scaled (max side 320)", "mast-scaled (full size)"),
        ("mast-scaled (max side 480)", "mast-scaled (max side 640)"),
    ]
    argv = ["--results", str(SIZES), "--out", str(out)] + [a for p in pairs for a in ("--pair", *p)]
    assert _script().main(argv) == 0
    report = json.loads(out.read_text())
    assert "reference" not in report and [(r["row"], r["reference"]) for r in report["rows"]] == pairs
    keys = {e.label: e.record.key for e in all_entries(load_records(SIZES))}
    for row in report["rows"]:
        a = _per_object_jf(SIZES / "records" / f"{keys[row['row']]}.json")
        b = _per_object_jf(SIZES / "records" / f"{keys[row['reference']]}.json")
        assert abs(row["mean_difference"] - sum(a[k] - b[k] for k in b) / len(b)) < 0.006
    assert _script().main(["--results", str(SIZES), "--out", str(out), "--pair", "nope", pairs[0][1]]) == 2
    assert "no row 'nope'" in capsys.readouterr().err
