"""Every third-party module the package imports is declared in pyproject.toml (a dependency, or the
extra that brings it): an install from the wheel never meets an undeclared import."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
# import name -> the distribution that provides it, where the two differ
DISTRIBUTIONS = {
    "PIL": "pillow",
    "cv2": "opencv-python-headless",
    "skimage": "scikit-image",
    "distributed": "dask",
}


def _imported_modules() -> set[str]:
    names = set()
    for path in (REPO / "mast_bench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "mast_bench"}


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_every_imported_module_is_declared():
    declared = _declared()
    missing = sorted(m for m in _imported_modules() if DISTRIBUTIONS.get(m, m).lower() not in declared)
    assert missing == []
    assert {"filelock", "torch", "tqdm", "av"} <= declared
