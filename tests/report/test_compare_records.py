"""benchmarks/compare_records.py: rows of a results folder paired against a reference row."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIZES = REPO / "reports" / "training-480p" / "sizes" / "results"


def _script():
    spec = importlib.util.spec_from_file_location(
        "compare_records", REPO / "benchmarks" / "compare_records.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_an_unknown_reference_is_one_line_naming_the_rows(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert _script().main(["--results", str(SIZES), "--reference", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no row 'nope'" in err and "mast-scaled (full size)" in err
    assert not out.exists()


def test_the_committed_comparisons_regenerate_from_their_records(tmp_path, monkeypatch):
    """reports/training-memory-control/comparisons*.json: their own commands, rerun from the repository
    root, give the same figures."""
    committed = sorted((REPO / "reports" / "training-memory-control").glob("comparisons*.json"))
    assert committed
    monkeypatch.chdir(REPO)
    for path in committed:
        report = json.loads(path.read_text())
        argv = shlex.split(report["command"])[2:]
        out = tmp_path / path.name
        argv[argv.index("--out") + 1] = str(out)
        assert _script().main(argv) == 0
        again = json.loads(out.read_text())
        assert {k: v for k, v in again.items() if k != "command"} == {
            k: v for k, v in report.items() if k != "command"
        }, path.name
