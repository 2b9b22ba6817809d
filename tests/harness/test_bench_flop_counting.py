"""benchmarks/bench_flop_counting.py: the records' counting and counting every read in place give the
same FLOPs; bad input exits 2 with its error before any propagation."""

from __future__ import annotations

import json

import pytest
from support.scripts import benchmark_script

from .conftest import make_tiny_davis


@pytest.fixture(scope="module")
def bench():
    return benchmark_script("bench_flop_counting")


def test_both_ways_of_counting_give_the_same_flops_and_no_counting_none(bench, tmp_path):
    root = make_tiny_davis(tmp_path / "data", {"one": 2}, frames=4, size=(32, 40))
    out = tmp_path / "flops.json"
    argv = ["--data", str(root), "--sequence", "one", "--max-side", "40", "--protocol", "crw"]
    assert bench.main([*argv, "--protocol", "mast", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    for protocol in ("crw", "mast"):
        runs = {r["counting"]: r for r in report["runs"] if r["protocol"] == protocol}
        assert runs["none"]["read_gflops_per_frame"] == 0
        cached, in_place = runs["each distinct call once"], runs["every read in place"]
        assert cached["read_gflops_per_frame"] == in_place["read_gflops_per_frame"] > 0
        assert cached["counting_seconds_left_out"] > 0 == in_place["counting_seconds_left_out"]
    # CRW's three reads (frame 0 and a queue padded with it) are one read to count, beside the encoder
    crw = next(
        r for r in report["runs"] if r["protocol"] == "crw" and r["counting"] == "each distinct call once"
    )
    assert (crw["counting_calls"], crw["read_calls"]) == (2, 3)
    assert report["command"].startswith("python benchmarks/bench_flop_counting.py --data")


def test_an_unknown_sequence_or_protocol_exits_2_before_any_propagation(bench, tmp_path, capsys):
    root = make_tiny_davis(tmp_path / "data", {"one": 1}, frames=2, size=(32, 40))
    out = tmp_path / "flops.json"
    assert bench.main(["--data", str(root), "--sequence", "two", "--out", str(out)]) == 2
    assert (
        bench.main(["--data", str(root), "--sequence", "one", "--protocol", "nope", "--out", str(out)]) == 2
    )
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and str(root) in errors[0] and "'nope'" in errors[1] and not out.exists()
