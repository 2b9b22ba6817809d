"""The floors of the house hold: the import-linter contracts of pyproject.toml pass.

ops imports nothing of the package; data, metrics, results and the configs never import torch,
model or ops; metrics reads files through data, never the other way; the read policies never
import the propagation core that drives them; report reaches records only through results; harness
never imports report; nothing imports a command module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.is_file() else [shutil.which("lint-imports") or "lint-imports"]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "9 kept, 0 broken" in proc.stdout


def _imported_after(setup: str, packages: tuple[str, ...]) -> list[str]:
    """Which of ``packages`` a fresh interpreter has imported after running ``setup``."""
    found = f"sorted({{m.split('.')[0] for m in sys.modules}} & {set(packages)!r})"
    code = f"import json, sys\n{setup}\nprint(json.dumps({found}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_importing_the_package_and_its_torch_free_floors_does_not_import_torch():
    floors = "mast_bench, mast_bench.results, mast_bench.metrics, mast_bench.variants, mast_bench.protocols"
    assert _imported_after(f"import {floors}, mast_bench.data, mast_bench.report", ("torch",)) == []


def test_a_commands_parser_imports_neither_torch_nor_scipy_nor_matplotlib():
    """docs/DESIGN.md: a command imports them inside its run, so `mast-bench evaluate` starts without them."""
    setup = "from mast_bench.__main__ import build_parser\nbuild_parser('evaluate')"
    assert _imported_after(setup, ("torch", "scipy", "matplotlib")) == []
