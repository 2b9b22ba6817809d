"""The built wheel works on its own: installed into a fresh virtualenv (pinned torch first), the
console script runs the README's main job (`mast-bench ablate colour_space`) from a folder outside
the checkout, with the presets, the built-in studies (top-level ablations/) and the kernels' sources
(top-level csrc/) found inside the installed package. Where this machine would find reports/example's
records, three of the four rows come from them and the wheel computes the fourth (train, propagate,
score, profile, and the report over all four); elsewhere it computes all four. (Its numbers are not
compared with the committed ones: the smoke training rounds differently on another CPU model, see
docs/DESIGN.md.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.example import EXAMPLE, committed_records, environment_mismatch, main_job_plans

REPO = Path(__file__).resolve().parents[2]
TORCH = os.environ.get("MAST_BENCH_TORCH", "torch==2.13.0").split()


def _run(command: list[str], cwd: Path, timeout: int = 900, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, (
        f"{command}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)], REPO)
    (path,) = out.glob("mast_bench-*.whl")
    return path


@pytest.mark.slow
def test_wheel_holds_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mast_bench/harness/presets.toml" in names
    assert "mast_bench/ablations/defaults.toml" in names and "mast_bench/ablations/colour_space.toml" in names
    assert any(n.startswith("mast_bench/ops/csrc/") and n.endswith(".cpp") for n in names)
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    _run([*pip, *TORCH], tmp_path)
    _run([*pip, str(wheel)], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = venv / "bin" / "mast-bench"
    listing = _run([str(script), "variants", "mast*"], elsewhere).stdout
    assert "mast-official\t" in listing and "mast-lab-pixels\t" in listing
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    results = elsewhere / "results"
    computed = _store_less_one_row(results, tmp_path / "plan")
    # the README's main job: the study file and the kernels' sources come from inside the wheel
    command = [str(script), "ablate", "colour_space", "--results", str(results), "--quiet"]
    stderr = _run(command, elsewhere, env=env).stderr
    assert len(list((results / "records").glob("*.json"))) == 4
    assert (results / "reports" / "colour_space" / "report.md").is_file()
    if computed is not None:
        assert "4 jobs, 3 cached, 1 to compute" in stderr
        assert (results / "records" / f"{computed}.json").is_file()
    ablations, csrc, *studies = _run([str(venv / "bin" / "python"), "-c", _STUDIES], elsewhere).stdout.split()
    assert "colour_space" in studies and "radius" in studies
    assert ablations.startswith(str(venv)) and csrc.startswith(str(venv))  # the wheel's own copies
    located = _run(
        [str(venv / "bin" / "python"), "-c", "import mast_bench; print(mast_bench.__file__)"], elsewhere
    )
    assert str(REPO) not in located.stdout


def _store_less_one_row(results: Path, scratch: Path) -> str | None:
    """Fill the results store with reports/example's records and masks but those of the reference row
    `mast`, and return that row's key; None (the store left empty) where they would not be found."""
    committed = committed_records()
    plans = main_job_plans(scratch)
    if environment_mismatch(plans, committed):
        return None
    (computed,) = [plan.key for plan in plans if plan.job.variant.name == "mast"]
    (results / "records").mkdir(parents=True)
    for key in set(committed) - {computed}:
        shutil.copy(EXAMPLE / "results" / "records" / f"{key}.json", results / "records")
        shutil.copytree(EXAMPLE / "results" / "masks" / key, results / "masks" / key)
    return computed


_STUDIES = (
    "from mast_bench.harness.study import ABLATIONS_DIR, available_studies; "
    "from mast_bench.ops.cpu_build import CSRC; print(ABLATIONS_DIR, CSRC, *available_studies())"
)
