"""A study says what it will do before working (jobs, cached, to compute, a rough time), refuses more
than 64 jobs without --yes, and refuses sweep values outside a field's range, naming the range."""

from __future__ import annotations

import re

import pytest

from mast_bench.__main__ import main
from mast_bench.harness import preview
from mast_bench.results import ResultStore
from mast_bench.variants import VariantConfig

from .conftest import make_tiny_davis

# both presets defined here (train = "smoke"), so the file stands on its own
PRESETS = (
    '[preset.smoke]\ntrain = "smoke"\ndata = "embedded"\nmax_side = "full"\n'
    '[preset.paper]\ntrain = "smoke"\ndata = "required"\nmax_side = "full"\n'
)


def _study(tmp_path, sweep: str, name: str = "pixels"):
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[study]\nname = "{name}"\ntitle = "Pixels"\nreference = "mast-lab-pixels"\n'
        f'base = "mast-lab-pixels"\nsweep = {{ {sweep} }}\nmetrics = ["J&F-Mean"]\n' + PRESETS
    )
    return path


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("plan"), {"one": 1}, frames=3, size=(24, 32))


def _ablate(argv, capsys) -> tuple[int, list[str]]:
    code = main(["ablate", *map(str, argv)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("test_radius", 65, "test_radius must be >= 1 and <= 64, got 65"),
        ("coarse_radius", 0, "coarse_radius must be >= 1 and <= 64, got 0"),
        ("max_dilation", 17, "max_dilation must be >= 1 and <= 16, got 17"),
        ("long_term_gap", 10_001, "long_term_gap must be >= 1 and <= 10000, got 10001"),
        ("dilation_set", (1, 99), "dilation_set must be a non-empty list of integers >= 1 and <= 16"),
    ],
)
def test_variant_fields_outside_their_range_are_refused_with_the_range(field, value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        VariantConfig(name="v", **{field: value})
    VariantConfig(name="v", test_radius=64, coarse_radius=1, max_dilation=16, long_term_gap=10_000)


def test_a_sweep_value_outside_the_fields_range_is_refused_with_the_range(tmp_path, capsys):
    path = _study(tmp_path, "test_radius = [6, 10000]")
    code, err = _ablate([path, "--results", tmp_path / "r"], capsys)
    assert code == 2
    assert err == [f"error: {path}: study.sweep[1]: test_radius must be >= 1 and <= 64, got 10000"]
    path = _study(tmp_path, "dilation_set = [[2, 3], [2, 64]]")
    code, err = _ablate([path, "--results", tmp_path / "r"], capsys)
    assert code == 2 and err == [
        f"error: {path}: study.sweep[1]: dilation_set must be a non-empty list of integers "
        ">= 1 and <= 16, got (2, 64)"
    ]
    path = _study(tmp_path, "test_radius = [6, 12]")
    code, err = _ablate([path, "--set", "long_term_gap=0", "--results", tmp_path / "r"], capsys)
    assert code == 2 and err[0].endswith(
        "long_term_gap must be >= 1 and <= 10000, got 0 (variant mast-lab-pixels+test_radius=6)"
    )
    assert not (tmp_path / "r").exists()


def test_a_set_on_the_swept_field_is_refused_before_any_work(tmp_path, capsys):
    """It collapsed the sweep: three rows of one radius, two of them with one label (the report then
    counted 2 records of 3 rows, and its tables disagreed)."""
    path = _study(tmp_path, "test_radius = [6, 9, 12]")
    code, err = _ablate([path, "--set", "test_radius=9", "--results", tmp_path / "r"], capsys)
    assert code == 2 and err == [
        f"error: {path}: --set test_radius: the study sweeps this field (6, 9, 12), so every row would "
        "get one value; leave it out, or run the variant you want with `mast-bench run`"
    ]
    assert not (tmp_path / "r").exists()


def test_a_studys_protocols_may_come_from_protocols_file(tmp_path, capsys):
    """ablate read no --protocols-file unless --protocol was given too: a study naming a protocol of
    the file was refused as unknown, and a missing file went unnoticed."""
    path = tmp_path / "mine.toml"
    path.write_text(
        _study(tmp_path, f"long_term_gap = {list(range(1, 101))}")
        .read_text()
        .replace('metrics = ["J&F-Mean"]\n', 'metrics = ["J&F-Mean"]\nprotocols = ["crw5"]\n')
        .replace('name = "pixels"', 'name = "mine"')
    )
    protocols = tmp_path / "p5.toml"
    protocols.write_text('[protocol.crw5]\nbase = "crw"\ncontext.radius = 5\n')
    code, err = _ablate([path, "--protocols-file", protocols, "--results", tmp_path / "r"], capsys)
    assert code == 2 and err[0].startswith(f"error: study {path}: 100 jobs (more than 64)")  # planned
    code, err = _ablate(
        [path, "--protocols-file", tmp_path / "none.toml", "--results", tmp_path / "r"], capsys
    )
    assert code == 2 and str(tmp_path / "none.toml") in err[0]
    assert not (tmp_path / "r").exists()


def test_more_than_64_jobs_are_refused_before_any_work_unless_yes(tmp_path, capsys, monkeypatch):
    path = _study(tmp_path, f"long_term_gap = {list(range(1, 101))}")
    code, err = _ablate([path, "--results", tmp_path / "r"], capsys)
    assert code == 2
    assert err == [
        f"error: study {path}: 100 jobs (more than 64); check its sweep and protocols, "
        "or pass --yes to run them all"
    ]
    assert not (tmp_path / "r").exists()
    # with --yes the jobs go ahead (planned first: stopped there, so nothing runs in this test)
    planned = []

    def stop(jobs):
        planned.append(len(jobs))
        raise KeyboardInterrupt

    monkeypatch.setattr(preview, "preview_jobs", stop)
    assert main(["ablate", str(path), "--results", str(tmp_path / "r"), "--yes"]) == 130
    assert planned == [100]


def test_a_study_says_its_plan_before_working(small_davis, tmp_path, capsys):
    results = tmp_path / "r"
    common = ["--data", small_davis, "--results", results, "--quiet", "--no-isolate"]
    path = _study(tmp_path, "test_radius = [4, 12]")
    code, err = _ablate([path, *common], capsys)
    assert code == 0
    assert err[0] == (
        "study pixels (smoke preset): 2 jobs, 0 cached, 2 to compute "
        f"(no records in {results} yet to estimate the time from)"
    )
    code, err = _ablate([path, *common], capsys)
    assert (
        code == 0
        and err[0] == "study pixels (smoke preset): 2 jobs, 2 cached, 0 to compute (nothing to compute)"
    )
    seconds = sorted(preview.record_seconds(r) for r in ResultStore(results).records())
    median = (seconds[0] + seconds[1]) / 2
    path = _study(tmp_path, "test_radius = [4, 8, 12]")
    code, err = _ablate([path, *common], capsys)
    assert code == 0
    shown = preview._duration(median)
    assert err[0] == (
        f"study pixels (smoke preset): 3 jobs, 2 cached, 1 to compute "
        f"(roughly {shown}: {shown} a job, the median of 2 records in {results})"
    )


@pytest.mark.parametrize(
    "seconds, shown", [(0.4, "0 s"), (42, "42 s"), (89, "89 s"), (600, "10 min"), (5400, "1.5 h")]
)
def test_durations_read_as_a_person_would_say_them(seconds, shown):
    assert preview._duration(seconds) == shown
