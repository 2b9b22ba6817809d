"""The package list of pyproject.toml names every package folder, and the top-level ablations/ and
csrc/ are found from the checkout (an editable install) as a wheel finds them inside the package."""

from __future__ import annotations

import sys
from pathlib import Path

from mast_bench.harness.study import ABLATIONS_DIR, available_studies
from mast_bench.ops import cpu_build
from mast_bench.shipped import shipped_folder

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
MAPPED = {"mast_bench.ablations": "ablations", "mast_bench.ops.csrc": "csrc"}


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_folder_is_listed_and_the_top_level_folders_are_mapped():
    config = _setuptools()
    folders = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "mast_bench").rglob("__init__.py")}
    assert set(config["packages"]) == folders | set(MAPPED)
    assert config["package-dir"] == MAPPED
    assert not (REPO / "mast_bench" / "ablations").exists()
    assert not (REPO / "mast_bench" / "ops" / "csrc").exists()


def test_the_checkout_finds_its_studies_and_kernel_sources_at_the_top():
    assert shipped_folder("ablations") == ABLATIONS_DIR == REPO / "ablations"
    assert {"colour_space", "protocol", "radius"} <= set(available_studies())
    assert cpu_build.CSRC == REPO / "csrc"
    assert {p.name for p in cpu_build.kernels_spec().files()} >= set(cpu_build.SOURCES)
