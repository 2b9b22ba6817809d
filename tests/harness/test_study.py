"""Ablation study files: inheritance, validation with precise errors, sweeps, jobs, a study end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mast_bench.errors import ConfigError, DataError, UserError
from mast_bench.harness.job import DataSpec
from mast_bench.harness.study import ABLATIONS_DIR, available_studies, load_study, parse_study
from mast_bench.harness.study_run import build_jobs, run_study
from mast_bench.results import find_manifest

REQUIRED = {
    "colour_space": ["mast", "mast-lab-nodropout", "mast-rgb", "mast-rgb-dropout"],
    "memory": ["mast", "mast-full-memory", "mast-short-only", "mast-window"],
    "dilation": ["mast-dil1", "mast-dil2", "mast-dil4", "mast"],
    "references": ["mast", "mast-first-short", "mast-previous"],
    "offset_bug": ["mast-official", "mast"],
    "affinity_scale": ["mast", "mast-scaled", "mast-frozen-bn", "mast-scaled-frozen-bn"],
    "radius": ["mast+test_radius=6", "mast+test_radius=9", "mast"],
}


def valid() -> dict:
    return {"study": {"name": "s", "title": "S", "reference": "mast", "variants": ["mast", "mast-rgb"]}}


def parse(data, **kw):
    return parse_study(data, "ablations/s.toml", expected_name="s", **kw)


def test_every_required_study_is_shipped_and_valid_against_the_registry():
    assert set(REQUIRED) <= set(available_studies())
    assert "defaults" not in available_studies()
    for name in available_studies():
        study = load_study(name)  # the real variant registry and the real training presets
        assert study.path == ABLATIONS_DIR / f"{name}.toml"
        if name in REQUIRED:
            assert [row.label for row in study.rows] == REQUIRED[name]
            assert study.info.reference == "mast"
        # inherited from defaults.toml
        assert study.preset("smoke").train == "smoke" and study.preset("smoke").data == "embedded"
        assert study.preset("paper").train == "paper" and study.preset("paper").data == "required"
        assert study.info.metrics[0] == "J&F-Mean"


def test_a_study_file_holds_only_what_is_particular_to_it():
    for name in available_studies():
        text = (ABLATIONS_DIR / f"{name}.toml").read_text()
        assert "[preset." not in text and "metrics =" not in text, name


def test_sweep_derives_one_variant_per_value_and_the_base_value_is_the_base():
    data = {
        "study": {
            "name": "s",
            "title": "S",
            "reference": "mast",
            "base": "mast",
            "sweep": {"test_radius": [6, 12]},
        }
    }
    study = parse(data)
    assert [row.label for row in study.rows] == ["mast+test_radius=6", "mast"]
    assert study.rows[0].variant.test_radius == 6 and study.rows[1].variant.name == "mast"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(extra={}), "unknown table 'extra'; allowed tables: preset, study"),
        (
            lambda d: d["study"].update(referense="mast"),
            "study: unknown key 'referense' (did you mean 'reference'?); allowed keys: base",
        ),
        (
            lambda d: d["study"].update(metrics=["J&F"]),
            "study.metrics: got 'J&F', expected one of 'J&F-Mean'",
        ),
        (
            lambda d: d["study"].update(reference="mast-r6"),
            "study.reference: 'mast-r6' is not one of the rows",
        ),
        (lambda d: d["study"].update(variants=["mast", "mast"]), "variants: 'mast' is listed twice"),
        (lambda d: d["study"].update(variants=[]), "at least one variant (or a sweep)"),
        (
            lambda d: d["study"].update(paper="cvpr"),
            "study.paper: got 'cvpr', expected one of 'davis2017-val'",
        ),
        (lambda d: d["study"].update(name="other"), "study.name is 'other', expected the file's name 's'"),
        (lambda d: d["study"].pop("title"), "study: missing required key 'title'"),
        (lambda d: d["study"].update(sweep={"test_radius": [6]}), "sweep: needs base"),
        (
            lambda d: d["study"].update(base="mast", sweep={"radius": [6]}),
            "study.sweep[0]: unknown variant field 'radius' (did you mean 'test_radius'?); allowed fields:",
        ),
        (
            lambda d: d["study"].update(base="mast", sweep={"test_radius": ["big"]}),
            "study.sweep[0].test_radius: got 'big', expected int",
        ),
        (
            lambda d: d["study"].update(base="mast", sweep={"test_radius": 6}),
            "sweep.test_radius: expected a non-empty list",
        ),
        (
            lambda d: d.update(preset={"fast": {"train": "smoke"}}),
            "unknown preset 'fast'; allowed presets: smoke, paper",
        ),
        (
            lambda d: d.update(preset={"smoke": {"train": "quick"}}),
            "preset.smoke.train: got 'quick', expected one of",
        ),
        (
            lambda d: d.update(preset={"smoke": {"train": "smoke", "data": "davis"}}),
            "preset.smoke.data: got 'davis'",
        ),
        (
            lambda d: d.update(preset={"smoke": {"train": "smoke", "max_side": 8}}),
            "max_side: got 8, expected an integer >= 16",
        ),
        (lambda d: d["study"].update(protocols=["mast", "mast"]), "protocols: 'mast' is listed twice"),
        (  # it replaces the inherited table: data would have become "embedded", not "required"
            lambda d: d.update(preset={"paper": {"train": "cpu"}}),
            "preset.paper: names no data, max_side; a [preset.paper] table replaces the inherited one whole",
        ),
    ],
)
def test_malformed_study_names_the_file_key_and_allowed_values(edit, message):
    data = valid()
    edit(data)
    with pytest.raises(ConfigError) as info:
        parse(data)
    assert str(info.value).startswith("ablations/s.toml")
    assert message in str(info.value)


def test_unknown_variant_and_protocol_list_the_registries():
    data = valid()
    data["study"]["variants"] = ["mast", "mast-rbg"]
    with pytest.raises(
        ConfigError,
        match=r"study.variants\[1\]: unknown variant 'mast-rbg' \(did you mean 'mast-rgb'\?\); "
        "known variants: mast,",
    ):
        parse(data)
    data = valid()
    data["study"]["protocols"] = ["mast", "stm"]
    with pytest.raises(ConfigError, match=r"study.protocols\[1\]: unknown protocol 'stm'"):
        parse(data)


def test_protocols_cross_the_variants():
    data = valid()
    data["study"].update(protocols=["mast", "crw"], reference="mast@mast")
    study = parse(data)
    assert [row.label for row in study.rows] == ["mast@mast", "mast@crw", "mast-rgb@mast", "mast-rgb@crw"]
    assert study.rows[1].protocol.name == "crw"


def test_toml_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown study 'nope'.*known studies: .*colour_space"):
        load_study("nope")
    with pytest.raises(ConfigError, match="unknown study 'defaults'"):
        load_study("defaults")
    (tmp_path / "mine").mkdir()
    for path in ("st1.txt", str(tmp_path), str(tmp_path / "mine") + "/"):  # said 'unknown study'
        with pytest.raises(ConfigError, match="expected a study name or a study file ending in .toml"):
            load_study(path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nname=1")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_study(bad)
    # a base without a sweep was never looked up: a typo passed
    lone = tmp_path / "lone.toml"
    lone.write_text(
        '[study]\nname = "lone"\ntitle = "t"\nreference = "mast"\nvariants = ["mast"]\nbase = "mats"\n'
    )
    with pytest.raises(
        ConfigError, match="base: 'mats' names the variant a sweep changes, and there is no sweep"
    ):
        load_study(lone)


def test_jobs_carry_configs_one_per_row_with_the_preset_protocol():
    study = load_study("colour_space")
    jobs = build_jobs(study, "smoke", "out", DataSpec(), command="cmd")
    assert [j.variant for j in jobs] == [row.variant for row in study.rows]
    assert all(j.data.root is None and j.preset.name == "smoke" and j.max_side == "preset" for j in jobs)
    assert all(j.results == "out" and j.protocol.name == "mast" for j in jobs)
    paper = build_jobs(study, "paper", "out", DataSpec(root="/data/DAVIS"))
    assert all(
        j.data.root == "/data/DAVIS" and j.preset.name == "paper" and j.max_side is None for j in paper
    )
    with pytest.raises(UserError, match=r"needs --data PATH \(a davis root\): its \[preset.paper\] table"):
        build_jobs(study, "paper", "out", DataSpec())
    with pytest.raises(ConfigError, match="no \\[preset.huge\\] table; this study defines: smoke, paper"):
        build_jobs(study, "huge", "out", DataSpec())


def test_a_sequence_the_study_file_names_and_its_split_lacks_is_the_file_s_error(tmp_path):
    """The split list was named, with 'pass the --split whose list has it', though no flag gave it."""
    from .conftest import make_tiny_davis

    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    path = tmp_path / "mine.toml"
    path.write_text(
        '[study]\nname = "mine"\ntitle = "t"\ndescription = "d"\nreference = "mast"\nvariants = ["mast"]\n'
        '[preset.smoke]\ntrain = "smoke"\ndata = "required"\nmax_side = 64\nsequences = ["one", "onne"]\n'
    )
    with pytest.raises(DataError) as refused:
        build_jobs(load_study(path), "smoke", "out", DataSpec(root=str(root)))
    assert str(refused.value).startswith(f"{path}: [preset.smoke].sequences: ")
    assert "the split lists no sequence 'onne'" in str(refused.value)
    jobs = build_jobs(load_study(path), "smoke", "out", DataSpec(root=str(root), sequences=("one",)))
    assert jobs[0].data.sequences == ("one",)  # the user's --sequences stand in for the file's


def test_a_study_naming_a_variant_or_protocol_it_cannot_find_says_where_one_of_yours_comes_from(tmp_path):
    path = tmp_path / "mine.toml"
    body = '[study]\nname = "mine"\ntitle = "t"\ndescription = "d"\nreference = "mast"\n'
    path.write_text(body + 'variants = ["mast", "mine"]\n')
    with pytest.raises(
        ConfigError, match=r"study.variants\[1\]: unknown variant 'mine'.*pass --variants-file FILE\)$"
    ):
        load_study(path)
    path.write_text(body + 'variants = ["mast"]\nprotocols = ["mast", "myproto"]\n')
    with pytest.raises(
        ConfigError, match=r"protocols\[1\]: unknown protocol 'myproto'.*--protocols-file FILE\)$"
    ):
        load_study(path)


def test_run_study_records_a_manifest(tmp_path):
    """With a runner that stores synthetic records (the real harness is exercised by the slow test below)."""
    from support.records import make_record, store_record

    seen = []

    def runner(jobs, **execution):
        seen.append((jobs, execution))
        return [
            store_record(Path(j.results), make_record(j.variant.name, 0.5 + 0.05 * i, i))
            for i, j in enumerate(jobs)
        ]

    study = load_study("affinity_scale")
    manifest = run_study(
        study,
        "smoke",
        tmp_path,
        DataSpec(),
        "test",
        runner=runner,
        execution={"backend": "joblib", "n_jobs": 2},
    )
    assert seen[0][1] == {"backend": "joblib", "n_jobs": 2}
    assert find_manifest(tmp_path, "affinity_scale") == manifest
    stored = json.loads((tmp_path / "studies" / "affinity_scale.smoke.json").read_text())
    assert stored["records"] == {
        j.variant.name: r for j, r in zip(seen[0][0], manifest.records.values(), strict=True)
    }
    assert stored["factors"]["mast"] == {"variant": "mast", "protocol": "mast"}


@pytest.mark.slow
def test_a_real_study_through_the_command(tiny_davis, tmp_path, capsys):
    """The training-free variant needs no training: the real jobs run propagate, score and profile."""
    from mast_bench.__main__ import main

    study_file = tmp_path / "pixels.toml"
    study_file.write_text(
        '[study]\nname = "pixels"\ntitle = "Pixels"\nreference = "mast-lab-pixels"\n'
        'base = "mast-lab-pixels"\nsweep = { test_radius = [4, 12] }\nmetrics = ["J&F-Mean", "J-Mean"]\n'
        '[preset.smoke]\ntrain = "smoke"\ndata = "embedded"\nmax_side = "full"\n'
    )
    results = tmp_path / "results"
    argv = ["ablate", str(study_file), "--data", str(tiny_davis), "--results", str(results), "--quiet"]
    assert main(argv) == 0
    manifest = find_manifest(results, "pixels")
    assert list(manifest.variants) == ["mast-lab-pixels+test_radius=4", "mast-lab-pixels"]
    record = json.loads((results / "records" / f"{manifest.records['mast-lab-pixels']}.json").read_text())
    jf = record["metrics"]["global"]["J&F-Mean"]
    report = results / "reports" / "pixels" / "report.md"
    assert f"{jf * 100:.1f}" in report.read_text()
    # a second run reuses the records
    assert main(argv) == 0
    assert find_manifest(results, "pixels").records == manifest.records
    assert main(["ablate", "colour_space", "--jobs", "0"]) == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_ablate_trains_on_the_footage_train_data_names(tmp_path, monkeypatch):
    """--train-data reaches every job of the study (without it, a DAVIS --data trains on its own frames)."""
    from mast_bench.__main__ import main
    from mast_bench.harness import study_run

    seen = {}

    def stop_after_planning(
        study, preset_name, results, data, command, benchmarks, execution, yes, announce, **job
    ):
        seen["jobs"] = build_jobs(study, preset_name, results, data, command, **job)
        raise UserError("planned")

    monkeypatch.setattr(study_run, "run_study", stop_after_planning)
    footage = tmp_path / "footage"
    assert main(["ablate", "colour_space", "--train-data", str(footage), "--results", str(tmp_path)]) == 2
    assert seen["jobs"] and {job.train_data for job in seen["jobs"]} == {str(footage)}
