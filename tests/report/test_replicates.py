"""Arms of training replicates (mast_bench.report.replicates, benchmarks/compare_arms.py): the
intervals are Student's and Welch's t over runs, as scipy computes them; bad arms files are refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from support.scripts import REPO, benchmark_script

from mast_bench.errors import ConfigError
from mast_bench.report.replicates import (
    arm_difference,
    compare_arms,
    load_arms,
    paired_difference,
    summarise_arm,
)

CONTROL = REPO / "reports" / "training-memory-control"


def _script():
    return benchmark_script("compare_arms")


def test_intervals_are_scipys_t_intervals():
    a, b = np.array([41.70, 42.98, 45.65]), np.array([40.60, 38.05, 43.61, 39.9])
    summary = summarise_arm(a)
    low, high = stats.t.interval(0.95, df=2, loc=a.mean(), scale=stats.sem(a))
    assert (summary.n, summary.low, summary.high) == (3, pytest.approx(low), pytest.approx(high))
    assert summary.sd == pytest.approx(a.std(ddof=1))

    welch = arm_difference(b, a)
    expected = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert welch.method == "welch" and welch.difference == pytest.approx(b.mean() - a.mean())
    assert (welch.low, welch.high) == (pytest.approx(expected.low), pytest.approx(expected.high))

    fixed = arm_difference(a, np.array([38.01]))
    expected = stats.ttest_1samp(a, 38.01).confidence_interval(0.95)
    assert fixed.method.startswith("one-sample") and fixed.df == 2
    assert (fixed.low, fixed.high) == (
        pytest.approx(expected.low - 38.01),
        pytest.approx(expected.high - 38.01),
    )

    paired = paired_difference(b[:3], a)
    expected = stats.ttest_rel(b[:3], a).confidence_interval(0.95)
    assert paired.method.startswith("paired") and paired.df == 2
    assert (paired.low, paired.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert np.isnan(paired_difference(np.array([1.0]), np.array([2.0])).low)

    single = summarise_arm(np.array([38.01]))
    assert single.n == 1 and np.isnan(single.sd) and np.isnan(single.low)
    assert np.isnan(arm_difference(np.array([1.0]), np.array([2.0])).low)


ARMS = """
[arm.a]
rows = ["x", "y"]

[arm.b]
rows = ["z"]

[[comparison]]
reference = "b"
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (ARMS.replace('rows = ["z"]', 'rows = ["x"]'), "row 'x' is in arm.a and arm.b"),
        (ARMS.replace('reference = "b"', 'reference = "c"'), "comparison names ['c'], not arms"),
        (ARMS.replace('rows = ["z"]', "rows = []"), "arm.b.rows is empty"),
        (ARMS.replace("rows =", "runs =", 1), "unknown key 'runs'"),
        ("level = 0.95\n", "no [arm.NAME] table"),
        ("level = 1.5\n" + ARMS, "level = 1.5"),
        (ARMS + "paired = true\n", "arms ['a'] have another number of rows than its 1"),
    ],
)
def test_bad_arms_files_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "arms.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_arms(path)
    assert str(path) in str(caught.value)


def test_every_other_arm_is_compared_where_a_comparison_names_none(tmp_path):
    path = tmp_path / "arms.toml"
    path.write_text(ARMS)
    result = compare_arms(load_arms(path), {"x": 40.0, "y": 42.0, "z": 38.0})
    assert result["arms"]["a"]["mean"] == 41.0 and result["arms"]["a"]["rows"] == {"x": 40.0, "y": 42.0}
    [row] = result["differences"]
    assert (row["arm"], row["reference"], row["difference"]) == ("a", "b", 3.0)
    with pytest.raises(ConfigError, match=r"rows \['z'\] are not in the results"):
        compare_arms(load_arms(path), {"x": 40.0, "y": 42.0}, str(path))


def test_a_paired_comparison_takes_each_runs_difference(tmp_path):
    path = tmp_path / "arms.toml"
    path.write_text(ARMS.replace('rows = ["z"]', 'rows = ["z", "w"]') + "paired = true\n")
    result = compare_arms(load_arms(path), {"x": 40.0, "y": 42.5, "z": 38.0, "w": 40.0})
    [row] = result["differences"]
    assert (row["difference"], row["df"], row["method"]) == (2.25, 1.0, "paired: runs one for one")
    half = stats.t.ppf(0.975, 1) * 0.25  # differences 2.0 and 2.5: SD 0.354, SE 0.25
    assert (row["low"], row["high"]) == (round(2.25 - half, 2), round(2.25 + half, 2))


def _jf(record: Path) -> float:
    return 100 * json.loads(record.read_text())["metrics"]["global"]["J&F-Mean"]


def test_the_committed_arms_comparison_is_what_the_records_give(tmp_path, capsys):
    committed = json.loads((CONTROL / "comparisons-arms.json").read_text())
    out = tmp_path / "arms.json"
    argv = committed["command"].split("compare_arms.py ", 1)[1].replace("'", "").split(" ")
    argv[argv.index("--out") + 1] = str(out)
    argv = [str(REPO / a) if a.startswith("reports/") else a for a in argv]
    assert _script().main(argv) == 0
    fresh = json.loads(out.read_text())
    assert {k: v for k, v in fresh.items() if k != "command"} == {
        k: v for k, v in committed.items() if k != "command"
    }
    from mast_bench.report.collect import all_entries, load_records

    keys = {e.label: e.record.key for e in all_entries(load_records(CONTROL / "results"))}
    for arm in committed["arms"].values():
        scores = [_jf(CONTROL / "results" / "records" / f"{keys[row]}.json") for row in arm["rows"]]
        assert arm["mean"] == round(float(np.mean(scores)), 2) and arm["n"] == len(scores)
    assert "memory - stage-1" in capsys.readouterr().out
