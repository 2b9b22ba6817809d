"""The floors of the house hold: the import-linter contracts of pyproject.toml pass.

ops imports nothing of the package; data, metrics, results and the configs never import torch,
model or ops; metrics reads files through data, never the other way; the read policies never
import the propagation core that drives them; report reaches records only through results; harness
never imports report; nothing imports a command module.
"""

from __future__ import annotations

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


def test_importing_the_package_and_its_torch_free_floors_does_not_import_torch():
    code = (
        "import sys, mast_bench, mast_bench.results, mast_bench.metrics, mast_bench.variants, "
        "mast_bench.protocols, mast_bench.data, mast_bench.report\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_a_commands_parser_imports_neither_torch_nor_scipy_nor_matplotlib():
    """docs/DESIGN.md: a command imports them inside its run, so `mast-bench evaluate` starts without them."""
    code = (
        "import sys\nfrom mast_bench.__main__ import build_parser\nbuild_parser('evaluate')\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy', 'matplotlib'})\n"
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
