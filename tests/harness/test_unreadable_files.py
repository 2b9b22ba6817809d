"""Garbage, truncated or malformed records, manifests, tables and TOML files through the commands:
one line ``error: <file>: <what>; <what to do>``, exit 2, no traceback; ``--force`` gets past them."""

from __future__ import annotations

import json

import pytest

from mast_bench.__main__ import main
from mast_bench.errors import CheckpointError
from mast_bench.harness.train_data import read_data_record
from mast_bench.harness.training import read_summary

from .conftest import make_tiny_davis

GARBAGE = b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary"


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("unreadable"), {"one": 1}, frames=3, size=(24, 32))


def _run(argv, capsys) -> tuple[int, str]:
    code = main([str(word) for word in argv])
    return code, capsys.readouterr().err


def _only_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _run_argv(small_davis, results) -> list:
    return [
        "run",
        "--variant",
        "mast-lab-pixels",
        "--data",
        small_davis,
        "--results",
        results,
        "--no-isolate",
    ]


def test_a_truncated_record_stops_run_saying_what_to_do_and_force_recomputes(small_davis, tmp_path, capsys):
    argv = [*_run_argv(small_davis, tmp_path / "r"), "--quiet"]
    assert _run(argv, capsys)[0] == 0
    [path] = (tmp_path / "r" / "records").glob("*.json")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    code, err = _run(argv, capsys)
    line = _only_line(err)
    assert code == 2 and line.startswith(
        f"error: {path}: not a schema-2 result record: invalid or truncated JSON"
    )
    assert line.endswith("; delete it or rerun with --force")
    assert _run([*argv, "--force"], capsys)[0] == 0
    assert json.loads(path.read_text())["key"] == path.stem  # recomputed over the broken file


def test_a_record_with_a_metric_that_is_not_a_number_is_malformed(small_davis, tmp_path, capsys):
    """`run` printed a traceback formatting it, `report` a dash, exit 0."""
    argv = [*_run_argv(small_davis, tmp_path / "r"), "--quiet"]
    assert _run(argv, capsys)[0] == 0
    [path] = (tmp_path / "r" / "records").glob("*.json")
    record = json.loads(path.read_text())
    record["metrics"]["global"]["J&F-Mean"] = "high"
    path.write_text(json.dumps(record))
    said = (
        f"error: {path}: metrics.global.J&F-Mean: expected a number or null, got 'high'; "
        "delete it or rerun with --force"
    )
    for command in (argv, ["report", "--results", tmp_path / "r"]):
        code, err = _run(command, capsys)
        assert (code, _only_line(err)) == (2, said)


def test_a_folder_named_like_a_record_is_an_unreadable_record(small_davis, tmp_path, capsys):
    """It stopped report even with --force ('cannot read result record (Is a directory)')."""
    results = tmp_path / "r"
    assert _run([*_run_argv(small_davis, results), "--quiet"], capsys)[0] == 0
    folder = results / "records" / "stray.json"
    folder.mkdir()
    code, err = _run(["report", "--results", results], capsys)
    assert (code, _only_line(err)) == (
        2,
        f"error: {folder}: a folder, not a result record file; delete it or rerun with --force",
    )
    code, err = _run(["report", "--results", results, "--force"], capsys)
    assert code == 0 and f"{folder}" in err


def test_a_garbage_record_stops_report_and_is_left_out_with_force(small_davis, tmp_path, capsys):
    results = tmp_path / "r"
    assert _run([*_run_argv(small_davis, results), "--quiet"], capsys)[0] == 0
    garbage = results / "records" / ("e" * 64 + ".json")
    garbage.write_bytes(GARBAGE)
    code, err = _run(["report", "--results", results], capsys)
    assert code == 2
    assert _only_line(err) == (
        f"error: {garbage}: not a schema-2 result record: not UTF-8 text (byte 0x89 at offset 0); "
        "delete it or rerun with --force"
    )
    # another job's garbage record does not stop a run: the table leaves it out, saying so (once a process)
    code, err = _run(
        [*_run_argv(small_davis, results), "--quiet", "--sequences", "one", "--max-side", "32"], capsys
    )
    assert code == 0 and err.count(f"warning: left out {garbage}: ") == 1
    assert "(delete it to silence this)" in err and "--force" not in err  # it said to rerun with --force
    assert (results / "records.csv").read_text().count("mast-lab-pixels") == 2
    code, err = _run(["report", "--results", results, "--force"], capsys)
    assert code == 0 and (results / "reports" / "all" / "report.md").is_file()


def test_a_garbage_table_is_written_again_and_a_garbage_cache_rebuilt(small_davis, tmp_path, capsys):
    results = tmp_path / "r"
    assert _run([*_run_argv(small_davis, results), "--quiet"], capsys)[0] == 0
    (results / "records.csv").write_bytes(GARBAGE)
    cache = results / ".cache" / "fingerprints.json"
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(GARBAGE)  # derived data: hashed again, never an error
    code, err = _run([*_run_argv(small_davis, results), "--quiet"], capsys)
    assert code == 0 and err == ""
    assert (results / "records.csv").read_text().startswith("key,variant,")


def test_a_garbage_manifest_stops_the_study_report_saying_what_to_do(tmp_path, capsys):
    manifest = tmp_path / "r" / "studies" / "radius.smoke.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_bytes(GARBAGE)
    (tmp_path / "r" / "records").mkdir()
    code, err = _run(["report", "--results", tmp_path / "r", "--study", "radius"], capsys)
    assert code == 2
    assert _only_line(err) == (
        f"error: {manifest}: not a study manifest: not UTF-8 text (byte 0x89 at offset 0); "
        "delete it or rerun `mast-bench ablate radius --preset smoke` to write it again"
    )


@pytest.mark.parametrize("flag", ["study", "--variants-file", "--protocols-file"])
def test_a_garbage_toml_file_is_one_error_naming_it(flag, small_davis, tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_bytes(GARBAGE)
    if flag == "study":
        argv = ["ablate", path, "--results", tmp_path / "r"]
    else:
        argv = [*_run_argv(small_davis, tmp_path / "r"), flag, path]
    code, err = _run(argv, capsys)
    assert code == 2
    assert _only_line(err) == f"error: {path}: not a TOML file (not UTF-8 text: byte 0x89 at offset 0)"


@pytest.mark.parametrize(
    ("name", "reader", "remedy"),
    [
        ("train-data.json", read_data_record, "delete it to rewrite it"),
        ("train.json", read_summary, "delete it to rebuild it"),
    ],
)
def test_a_garbage_run_file_is_one_error_naming_it(name, reader, remedy, tmp_path):
    """A training run's own JSON files (its clips, its summary): absent reads as None, garbage stops
    the run naming the file and what to do."""
    assert reader(tmp_path) is None
    (tmp_path / name).write_bytes(GARBAGE)
    with pytest.raises(CheckpointError) as caught:
        reader(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / name}: unreadable") and message.endswith(remedy)


def test_a_stage_checkpoint_that_is_no_torch_file_is_one_line_without_torch_s_advice(tmp_path):
    """It quoted torch's whole weights_only text, which advises loading with weights_only=False."""
    from mast_bench.harness.training import load_training_state

    path = tmp_path / "checkpoint.pt"
    path.write_text("mine\n")
    with pytest.raises(CheckpointError) as caught:
        load_training_state(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot resume from this checkpoint (")
    assert message.endswith("); delete it to restart this stage") and "\n" not in message
    assert "weights_only=False" not in message
