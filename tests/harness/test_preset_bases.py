"""``base = "..."`` in preset and stage tables: a derived preset is the preset written out in full."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mast_bench.config import to_dict
from mast_bench.errors import ConfigError
from mast_bench.harness.identity import short_hash
from mast_bench.harness.presets import get_preset, load_presets

from .test_training import CHAIN_TOML

REPO = Path(__file__).resolve().parents[2]
CONTROL_PRESETS = REPO / "reports" / "training-memory-control" / "presets.toml"

FULL = CHAIN_TOML.format(memory_iterations=2).replace("preset.chain", "preset.full")

DERIVED = """
[preset.derived]
base = "full"
max_side = 96

[[preset.derived.stage]]
base = "pairs"

[[preset.derived.stage]]
base = "pairs"
name = "pairs-again"
lr = 1e-4

[[preset.derived.stage]]
base = "pairs-again"
name = "pairs-late"
iterations = 1
"""


def test_a_derived_preset_is_its_base_with_the_keys_it_changes(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(FULL + DERIVED + '\n[preset.same]\nbase = "full"\nseed = 4\n')
    presets = load_presets(path)
    full, derived = presets["full"], presets["derived"]
    pairs = full.stages[0]
    assert derived == replace(
        full,
        name="derived",
        max_side=96,
        stages=(
            pairs,
            replace(pairs, name="pairs-again", lr=1e-4),
            replace(pairs, name="pairs-late", lr=1e-4, iterations=1),
        ),
    )
    assert presets["same"] == replace(full, name="same", seed=4)  # no stage tables: the base's stages


def test_a_stage_base_is_an_earlier_stage_of_its_preset_before_the_base_preset(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        FULL + '[preset.d]\nbase = "full"\n[[preset.d.stage]]\nbase = "memory"\nseed = 9\n'
        '[[preset.d.stage]]\nbase = "memory"\nname = "m2"\n'
        '[[preset.d.stage]]\nbase = "memory"\nname = "m3"\nseed = 10\n'
    )
    presets = load_presets(path)
    first, second, third = presets["d"].stages
    assert first == replace(presets["full"].stages[1], seed=9)
    assert (second, third) == (replace(first, name="m2"), replace(first, name="m3", seed=10))


def test_a_preset_file_builds_on_the_built_in_presets():
    """The control's second seeds: the built-in stage 1, stages 2 and 3 with seeds of their own."""
    replicate = get_preset("cpu-pairs-finetune-time-seed-101", CONTROL_PRESETS)
    original = get_preset("cpu-pairs-finetune-time")
    assert replicate.stages[0] == original.stages[0] == get_preset("cpu").stages[0]
    assert [s.seed for s in replicate.stages] == [None, 101, 102]
    assert [replace(s, seed=None) for s in replicate.stages] == list(original.stages)


# sha256 of each preset as the identities read it (to_dict), for the presets whose runs the
# committed reports come from. A preset rewritten with `base` must stay the same preset: a change
# here means their checkpoints no longer resume or branch, and their training keys change.
PINNED = {
    "cpu": "dda0b292204d467ef98e7edcc075e45437f7b0cc38ca4e881fa006ad530b22d5",
    "cpu-pairs-finetune": "ef99d8ca902a57c8c22dca8718dd74a93c3a8fa320d53c5fb087a6463e117b70",
    "cpu-pairs-finetune-time": "c932c9323c1043d220426548f55b5dd9d7d13f7d3d7adccbb420208481224a69",
    "cpu-seed-101": "2bef0697d59d0fd52b0c10ccb97ce229d63824aeeb8779182a82fe553cfb7013",
    "cpu-pairs-finetune-seed-101": "1c95a6a5abd7ab5fb7babeab851141c3f868c62fa7406bd91c2b2b0f16eee54d",
    "cpu-pairs-finetune-time-seed-101": "8305cad7d0907d9eaee28a23d7282ad2ccb0e833b5974cc6f88ea46861a7df46",
    "cpu-pairs-finetune-clean-time": "034f5c527571f255c791b6cf239144830e06e5dd60c3e44a5fb0d65ced204fe1",
    "cpu-pairs-finetune-clean-time-seed-101": (
        "b5925e8055db5f458b069fd5be27857cad2f443a63e6572ef8e6e4581e0ff20a"
    ),
    "cpu-seed-202": "e012c800611ca998a635c845256fd4efbb97d6f579be90956529672ecd139c31",
    "cpu-pairs-finetune-clean-time-seed-202": (
        "dbeffa7489eaf1fee259ab5cb5bf5973ed60af89b35fd92cc976523e19d3e9cc"
    ),
    "cpu-pairs-finetune-seed-202": "03af102217125da0f1fb693235be7f20407de5bac7323d5251fc59375d6a1640",
    "cpu-pairs-finetune-time-seed-202": "958867c51d84eb359d9eae57abe07d3956a688797ff2f71843f7a66f1eb12258",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_presets_of_committed_runs_keep_their_identity(name):
    preset = get_preset(name, CONTROL_PRESETS)
    assert short_hash(to_dict(preset), length=64) == PINNED[name]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[preset.d]\nbase = "nope"\n',
            r"\[preset.d\].base: unknown preset 'nope'; known presets: .*; in this file: full, d$",
        ),
        ("[preset.d]\nbase = 3\n", r"\[preset.d\].base: got 3, expected a preset's name"),
        # a stage's name is a folder of the run: "q/../../../escaped" wrote its checkpoint outside --out
        (
            '[preset.d]\n[[preset.d.stage]]\nname = "q/../../../escaped"\n'
            "iterations = 1\nbatch_size = 2\nlr = 1e-3\n",
            r"\[preset.d\].stage\[0\]: stage name 'q/../../../escaped': expected a name without / ",
        ),
        # "name" renamed the preset (or replaced "smoke"), "stages" was ignored
        (
            '[preset.d]\nname = "smoke"\nbase = "full"\n',
            r"\[preset.d\]: unknown key 'name' \(a preset is named",
        ),
        ('[preset.d]\nbase = "full"\nstages = [1]\n', r"\[preset.d\]: unknown key 'stages'"),
        (
            '[preset.d]\nbase = "full"\niterations = 3\n',
            r"\[preset.d\]: unknown key 'iterations' .* allowed: base",
        ),
        (
            '[preset.d]\nbase = "full"\n[[preset.d.stage]]\nbase = "schedule"\n',
            r"\[preset.d\].stage\[0\].base: no stage 'schedule' to start from; .*: pairs, memory, final$",
        ),
        (
            "[preset.d]\n[[preset.d.stage]]\nbase = 'pairs'\n",
            r"\[preset.d\].stage\[0\].base: no stage 'pairs' to start from; .*: \(none\)$",
        ),
        (
            '[preset.d]\nbase = "full"\n[[preset.d.stage]]\nbase = "pairs"\nlearning_rate = 1\n',
            r"\[preset.d\].stage\[0\].*learning_rate",
        ),
    ],
)
def test_a_bad_base_is_one_line_naming_file_table_and_key(tmp_path, table, message):
    path = tmp_path / "p.toml"
    path.write_text(FULL + table)
    with pytest.raises(ConfigError, match=message) as caught:
        load_presets(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_cli_shows_a_derived_preset_resolved_one_line_per_stage(capsys):
    from mast_bench.__main__ import main

    assert main(["presets", "*finetune-time-seed-101", "--presets", str(CONTROL_PRESETS)]) == 0
    head, *stages = capsys.readouterr().out.splitlines()
    assert head.split("\t") == [
        "cpu-pairs-finetune-time-seed-101",
        "",
        "seed=0 max_side=320 snapshots=0.0,1.0 iterations=2230",
    ]
    assert [line.split("\t")[1] for line in stages] == [
        "1-pairs",
        "2-pairs-finetune",
        "3-pairs-finetune-late",
    ]
    assert (
        "iterations=450 batch_size=4 lr=0.0001 lr_milestones=- frame_size=128x128 gaps=2,5,8 seed=101"
        in stages[1]
    )
    assert "seed=" not in stages[0] and "precise_bn" not in stages[1]


def test_cli_shows_precise_bn_where_a_stage_sets_it(tmp_path, capsys):
    from mast_bench.__main__ import main

    path = tmp_path / "p.toml"
    path.write_text('[preset.p]\nbase = "cpu"\n\n[[preset.p.stage]]\nbase = "pairs"\nprecise_bn = 40\n')
    assert main(["presets", "p", "--presets", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("gaps=2,5,8 precise_bn=40")


def test_cli_json_and_an_unknown_pattern(capsys):
    import json

    from mast_bench.__main__ import main

    assert main(["presets", "cpu", "--json"]) == 0
    (preset,) = json.loads(capsys.readouterr().out)
    assert preset["name"] == "cpu" and [s["sampling"] for s in preset["stages"]] == [
        "pairs",
        "memory",
        "schedule",
    ]
    assert main(["presets", "zzz*"]) == 2
    assert capsys.readouterr().err.startswith("error: no preset matches 'zzz*'; known presets: cpu, ")
