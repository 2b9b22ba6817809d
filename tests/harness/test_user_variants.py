"""A researcher's own variants -- from a TOML file or from --set -- produce records through
`mast-bench run` (in the isolated worker) and `mast-bench ablate`, each record holding the full config."""

from __future__ import annotations

import json

import pytest

from mast_bench.__main__ import main
from mast_bench.results import find_manifest


@pytest.fixture
def variants_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[variant.my-pixels]\nbase = "mast-lab-pixels"\ntest_radius = 4\ndescription = "mine"\n'
        '[variant.my-pixels-square]\nbase = "my-pixels"\nschedule = "first-short"\n'
    )
    return path


def _records(results):
    loaded = (json.loads(path.read_text()) for path in (results / "records").glob("*.json"))
    return {record["identity"]["variant"]: record for record in loaded}


def test_run_in_the_isolated_worker_with_file_and_set_variants(tiny_davis, variants_file, tmp_path):
    results = tmp_path / "r"
    common = ["run", "--data", str(tiny_davis), "--results", str(results), "--quiet", "--max-side", "full"]
    assert main([*common, "--variants-file", str(variants_file), "--variant", "my-pixels-square"]) == 0
    assert main([*common, "--variant", "mast-lab-pixels", "--set", "test_radius=5"]) == 0
    records = _records(results)
    mine = records["my-pixels-square"]
    assert mine["identity"]["variant_config"]["test_radius"] == 4
    assert mine["identity"]["variant_config"]["schedule"] == "first-short"
    assert mine["profile"]["peak_memory_kind"] == "cpu-rss-isolated"  # it ran in the fresh worker
    derived = records["mast-lab-pixels+test_radius=5"]
    assert derived["identity"]["variant_config"]["test_radius"] == 5
    assert derived["identity"]["variant_config"]["description"] == "mast-lab-pixels with test_radius=5"


def test_ablate_with_a_file_variant_and_with_set(tiny_davis, variants_file, tmp_path):
    study = tmp_path / "mine_study.toml"
    study.write_text(
        '[study]\nname = "mine_study"\ntitle = "Mine"\nreference = "mast-lab-pixels"\n'
        'variants = ["mast-lab-pixels", "my-pixels"]\n'
        '[preset.smoke]\ntrain = "smoke"\ndata = "embedded"\nmax_side = "full"\n'
    )
    results = tmp_path / "r"
    common = ["ablate", str(study), "--data", str(tiny_davis), "--results", str(results), "--quiet"]
    assert main([*common, "--variants-file", str(variants_file)]) == 0
    assert find_manifest(results, "mine_study").variants == ("mast-lab-pixels", "my-pixels")
    assert main([*common, "--variants-file", str(variants_file), "--set", "test_radius=3"]) == 0
    manifest = find_manifest(results, "mine_study")
    assert manifest.variants == ("mast-lab-pixels+test_radius=3", "my-pixels+test_radius=3")
    assert manifest.reference == "mast-lab-pixels+test_radius=3"
    records = _records(results)
    assert records["my-pixels+test_radius=3"]["identity"]["variant_config"]["test_radius"] == 3
    assert (results / "reports" / "mine_study" / "report.md").is_file()
