"""Ablation study files: validation with precise errors, job building, and a study run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mast_bench.errors import ConfigError, UserError
from mast_bench.harness.study import (
    ABLATIONS_DIR,
    available_studies,
    build_jobs,
    load_study,
    parse_study,
    run_study,
)
from mast_bench.report.manifest import find_manifest

REQUIRED = {
    "colour_space": ["mast", "mast-lab-nodropout", "mast-rgb", "mast-rgb-dropout"],
    "memory": ["mast", "mast-full-memory", "mast-short-only", "mast-window"],
    "dilation": ["mast-dil1", "mast-dil2", "mast-dil4", "mast"],
    "references": ["mast", "mast-first-short", "mast-previous"],
    "offset_bug": ["mast-official", "mast"],
    "affinity_scale": ["mast", "mast-scaled"],
    "radius": ["mast-r6", "mast-r9", "mast"],
}


def valid() -> dict:
    return {
        "study": {"name": "s", "title": "S", "reference": "mast", "variants": ["mast", "mast-rgb"]},
        "preset": {
            "smoke": {"train": "smoke", "data": "embedded", "split": "val"},
            "paper": {"train": "paper", "data": "required", "split": "val", "max_side": "full"},
        },
    }


def test_every_required_study_is_shipped_and_valid_against_the_registry():
    assert set(REQUIRED) <= set(available_studies())
    for name in available_studies():
        study = load_study(name)  # the real variant registry and the real training presets
        assert study.path == ABLATIONS_DIR / f"{name}.toml"
        if name in REQUIRED:
            assert list(study.info.variants) == REQUIRED[name]
            assert study.info.reference == "mast"
        assert study.preset("smoke").train == "smoke" and study.preset("smoke").data == "embedded"
        assert study.preset("paper").train == "paper" and study.preset("paper").data == "required"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(extra={}), "unknown table 'extra'; allowed tables: preset, study"),
        (
            lambda d: d["study"].update(referense="mast"),
            "study: unknown key 'referense'; allowed keys: description",
        ),
        (
            lambda d: d["study"].update(metrics=["J&F"]),
            "study.metrics: got 'J&F', expected one of 'J&F-Mean'",
        ),
        (lambda d: d["study"].update(reference="mast-r6"), "reference: 'mast-r6' is not one of the variants"),
        (lambda d: d["study"].update(variants=["mast", "mast"]), "variants: 'mast' is listed twice"),
        (lambda d: d["study"].update(variants=[]), "at least one variant"),
        (lambda d: d["study"].update(paper="cvpr"), "paper: got 'cvpr', expected one of 'davis2017-val'"),
        (lambda d: d["study"].update(name="other"), "study.name is 'other', expected the file's name 's'"),
        (lambda d: d["study"].pop("title"), "study: missing required key 'title'"),
        (
            lambda d: d["preset"].update(fast={"train": "smoke"}),
            "unknown preset 'fast'; allowed presets: smoke, paper",
        ),
        (
            lambda d: d["preset"]["smoke"].update(train="quick"),
            "preset.smoke.train: got 'quick', expected one of",
        ),
        (
            lambda d: d["preset"]["smoke"].update(data="davis"),
            "preset.smoke.data: got 'davis', expected one of",
        ),
        (lambda d: d["preset"]["smoke"].update(max_side=8), "max_side: got 8, expected an integer >= 16"),
        (lambda d: d["preset"]["paper"].update(max_side="half"), "expected int or one of 'preset', 'full'"),
        (lambda d: d["preset"].pop("smoke"), "missing [preset.smoke]"),
        (lambda d: d.pop("preset"), "expected [preset.NAME] tables, NAME one of smoke, paper"),
    ],
)
def test_malformed_study_names_the_file_key_and_allowed_values(edit, message):
    data = valid()
    edit(data)
    with pytest.raises(ConfigError) as info:
        parse_study(data, "ablations/s.toml", expected_name="s", variant_lookup=None)
    assert str(info.value).startswith("ablations/s.toml")
    assert message in str(info.value)


def test_unknown_variant_lists_the_registry():
    data = valid()
    data["study"]["variants"] = ["mast", "mast-rbg"]
    with pytest.raises(
        ConfigError, match=r"study.variants\[1\]: unknown variant 'mast-rbg'; known variants: mast,"
    ):
        parse_study(data, "s.toml")


def test_toml_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown study 'nope'.*known studies: .*colour_space"):
        load_study("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nname=1")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_study(bad)


def test_jobs_one_per_variant_with_the_preset_protocol():
    study = load_study("colour_space")
    jobs = build_jobs(study, "smoke", "out", None, command="cmd")
    assert [j.variant for j in jobs] == list(study.info.variants)
    assert all(
        j.davis is None and j.preset == "smoke" and j.max_side == -1 and j.results == "out" for j in jobs
    )
    paper = build_jobs(study, "paper", "out", "/data/DAVIS")
    assert all(j.davis == "/data/DAVIS" and j.preset == "paper" and j.max_side is None for j in paper)
    with pytest.raises(UserError, match="needs --data PATH"):
        build_jobs(study, "paper", "out", None)
    with pytest.raises(ConfigError, match="no \\[preset.huge\\] table; this study defines: smoke, paper"):
        build_jobs(study, "huge", "out")


def test_run_study_records_a_manifest_and_writes_the_report(tmp_path):
    """With a runner that stores synthetic records (the real harness is exercised by the slow test below)."""
    from report.factory import make_record, store_record  # tests/ is on sys.path (tests/harness is a package)

    seen = []

    def runner(jobs, backend, n_jobs):
        seen.append((jobs, backend, n_jobs))
        return [
            store_record(Path(j.results), make_record(j.variant, 0.5 + 0.05 * i, i))
            for i, j in enumerate(jobs)
        ]

    study = load_study("affinity_scale")
    manifest, report = run_study(study, "smoke", tmp_path, n_jobs=2, command="test", runner=runner)
    assert seen[0][1:] == ("joblib", 2)
    assert report == tmp_path / "reports" / "affinity_scale" / "report.md"
    assert find_manifest(tmp_path, "affinity_scale") == manifest
    stored = json.loads((tmp_path / "studies" / "affinity_scale.smoke.json").read_text())
    assert stored["records"] == {
        j.variant: r for j, r in zip(seen[0][0], manifest.records.values(), strict=True)
    }
    text = report.read_text()
    assert "smoke preset on the embedded default — NOT comparable to the paper" in text
    assert all(f"`{key}`" in text for key in manifest.records.values())


@pytest.mark.slow
def test_a_real_study_through_the_harness(tiny_davis, tmp_path):
    """The training-free variant needs no training: the real jobs run propagate, score and profile."""
    from mast_bench.ablate import main

    folder = tmp_path / "ablations"
    folder.mkdir()
    (folder / "pixels.toml").write_text(
        '[study]\nname = "pixels"\ntitle = "Pixels"\nreference = "mast-lab-pixels"\n'
        'variants = ["mast-lab-pixels"]\nmetrics = ["J&F-Mean", "J-Mean"]\n'
        '[preset.smoke]\ntrain = "smoke"\ndata = "embedded"\nsplit = "val"\nmax_side = "full"\n'
    )
    study = load_study(folder / "pixels.toml")
    results = tmp_path / "results"
    manifest, report = run_study(study, "smoke", results, data=tiny_davis, command="test")
    record = json.loads((results / "records" / f"{manifest.records['mast-lab-pixels']}.json").read_text())
    jf = record["metrics"]["global"]["J&F-Mean"]
    assert f"{jf * 100:.1f}" in report.read_text()
    # a second run reuses the record
    again, _ = run_study(study, "smoke", results, data=tiny_davis, command="test")
    assert again.records == manifest.records
    assert main(["colour_space", "--jobs", "0"]) == 2
