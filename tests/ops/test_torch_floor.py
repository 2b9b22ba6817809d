"""The operators refuse a torch older than the one they register on, in one line naming both, and
pyproject.toml requires the same floor."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mast_bench.ops.torch_floor import MIN_TORCH, check_torch_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", ["2.8.0", "2.11.0+cu130", "2.13.0+cpu", "2.10.0a0+git1234", "3.0.0"])
def test_a_supported_torch_passes(version):
    check_torch_version(version)


@pytest.mark.parametrize("version", ["2.7.0+cu126", "2.6.0", "1.13.1"])
def test_an_older_torch_is_refused_naming_it_and_the_floor(version):
    with pytest.raises(ImportError) as refused:
        check_torch_version(version)
    assert str(refused.value).startswith(f"mast-bench needs torch >= 2.8; this Python has torch {version} (")


def test_this_torch_passes_and_pyproject_requires_the_same_floor():
    check_torch_version(torch.__version__)
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    (torch_requirement,) = [d for d in dependencies if re.match(r"torch\b", d)]
    assert torch_requirement == "torch>=" + ".".join(map(str, MIN_TORCH))


def test_the_cli_says_so_in_one_error_line_under_an_old_torch(davis_mini, tmp_path):
    """A fresh interpreter whose torch says 2.7: the operators refuse to register when the command
    first needs them, and the CLI prints that one line (exit 2), no traceback."""
    program = (
        "import sys, torch; torch.__version__ = '2.7.0+cu126'\n"
        "from mast_bench.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(davis_mini), "--results", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", program, *argv, "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: mast-bench needs torch >= 2.8; this Python has torch 2.7.0+cu126 (install torch>=2.8 first: "
        "scripts/setup's MAST_BENCH_TORCH names the build)"
    ]
