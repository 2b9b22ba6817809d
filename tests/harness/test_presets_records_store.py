from __future__ import annotations

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest

from mast_bench.errors import ConfigError, DataError
from mast_bench.harness import provenance
from mast_bench.harness.presets import get_preset, learning_rate, load_presets
from mast_bench.results import ResultRecord, ResultStore, canonical_json, identity_key


def test_builtin_presets_load_official_follows_main_and_paper_its_text():
    presets = load_presets()
    assert {"smoke", "smoke-stages", "cpu", "official", "paper", "gpu"} <= set(presets)
    (official,) = presets["official"].stages
    assert (official.batch_size, official.lr, official.betas, official.frame_size) == (
        12,
        1e-3,
        (0.9, 0.999),
        (256, 256),
    )
    assert official.lr_milestones == (400_000, 600_000, 800_000, 1_000_000) and official.sampling == "pairs"
    assert presets["official"].max_side is None
    pairs, memory, schedule = presets["paper"].stages
    # the paper: batch 24, 1M iterations, lr 1e-3 halved after 0.4M, 0.6M, 0.8M iterations; then
    # multiple references at 2e-5 for another 1M iterations
    assert (pairs.batch_size, pairs.iterations, pairs.lr) == (24, 1_000_000, 1e-3)
    assert [learning_rate(pairs, i) for i in (400_000, 400_001, 600_001, 800_001)] == [
        1e-3,
        5e-4,
        2.5e-4,
        1.25e-4,
    ]
    assert (memory.sampling, memory.lr, memory.iterations, memory.references) == (
        "memory",
        2e-5,
        1_000_000,
        5,
    )
    assert schedule.sampling == "schedule" and schedule.anchors == (0, 5)
    assert presets["smoke"].max_side is not None and presets["smoke"].max_side <= 432
    assert [s.sampling for s in presets["cpu"].stages] == ["pairs", "memory", "schedule"]
    assert presets["cpu"].snapshots == (0.0, 0.25, 0.5, 1.0)
    assert all(s.mixed_precision and s.cache_frames and s.channels_last for s in presets["gpu"].stages)


def test_learning_rate_matches_official_adjust_lr():
    (official_stage,) = get_preset("official").stages

    def official(iteration):  # adjust_lr of zlai0/MAST main.py, in samples
        samples = iteration * 12
        for i, bound in enumerate((400000, 600000, 800000, 1000000)):
            if samples <= bound:
                return 1e-3 * 0.5**i
        return 1e-3 * 0.0625

    for it in (0, 1, 33333, 33334, 50000, 50001, 66667, 83333, 83334, 99999):
        assert learning_rate(official_stage, it) == pytest.approx(official(it))


def test_unknown_preset_and_bad_keys_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'fast'"):
        get_preset("fast")
    bad = tmp_path / "p.toml"
    bad.write_text("[preset.x]\niterations = 1\nbatch_size = 1\nlr = 0.1\nlearning_rate = 2\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        load_presets(bad)
    bad.write_text("[preset.x]\niterations = 0\nbatch_size = 1\nlr = 0.1\n")
    with pytest.raises(ConfigError, match="iterations must be >= 1"):
        load_presets(bad)
    bad.write_text(
        "[preset.x]\nseed = 1\n[[preset.x.stage]]\nname = 'm'\niterations = 1\nbatch_size = 1\n"
        "lr = 0.1\nsampling = 'memory'\nshort_term = [1, 3]\nlong_term = 1\nlong_term_range = [2, 9]\n"
    )
    with pytest.raises(ConfigError, match="must start beyond the short-term"):
        load_presets(bad)
    bad.write_text(
        "[preset.x]\n[[preset.x.stage]]\nname = 'a'\niterations = 1\nbatch_size = 1\nlr = 0.1\n"
        "[[preset.x.stage]]\nname = 'a'\niterations = 1\nbatch_size = 1\nlr = 0.1\n"
    )
    with pytest.raises(ConfigError, match="stage names must differ"):
        load_presets(bad)
    bad.write_text(
        "[preset.x]\nseeed = 1\n[[preset.x.stage]]\nname = 'a'\niterations = 1\nbatch_size = 1\nlr = 0.1\n"
    )
    with pytest.raises(ConfigError) as caught:  # the keys it lists are the ones a table may hold
        load_presets(bad)
    assert str(caught.value).endswith(
        "[preset.x]: unknown key 'seeed' (did you mean 'seed'?); allowed: max_side, seed, snapshots, stage"
    )
    with pytest.raises(ConfigError, match="no such TOML file"):
        load_presets(tmp_path / "missing.toml")
    flat = tmp_path / "flat.toml"  # the older one-table format is one "pairs" stage
    flat.write_text("[preset.y]\niterations = 3\nbatch_size = 2\nlr = 0.1\nmax_side = 64\n")
    preset = load_presets(flat)["y"]
    assert preset.max_side == 64 and [(s.name, s.iterations) for s in preset.stages] == [("pairs", 3)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("lr = nan", "lr must be a finite number > 0, got nan"),
        ("lr = inf", "lr must be a finite number > 0, got inf"),
        ("betas = [1.5, 0.999]", "betas must be in [0, 1), got (1.5, 0.999)"),
        ("lr_decay = -1.0", "lr_decay must be a finite number > 0, got -1.0"),
        ("lr_milestones = [-5]", "lr_milestones are sample counts >= 0, got (-5,)"),
        ("seed = -5", "seed must be >= 0 and <= 2**63 - 1, got -5"),
        ("seed = 100000000000000000000", "seed must be >= 0 and <= 2**63 - 1, got 100000000000000000000"),
        ("frame_size = [100000, 100000]", "frame_size must be 8 to 4096 a side, got (100000, 100000)"),
    ],
)
def test_numbers_the_optimiser_or_the_generators_cannot_take_are_refused_in_the_file(line, message, tmp_path):
    """They used to reach Adam or a generator: a traceback (nan, betas, seeds), or a run of NaN weights
    (lr = inf) or of gradient ascent (a negative decay) that exited 0."""
    path = tmp_path / "p.toml"
    lr = "" if line.startswith("lr =") else "lr = 0.1\n"
    path.write_text(
        f"[preset.x]\n[[preset.x.stage]]\nname = 'a'\niterations = 1\nbatch_size = 1\n{lr}{line}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_presets(path)
    assert str(path) in str(caught.value) and message in str(caught.value)
    path.write_text(
        "[preset.x]\nseed = -1\n[[preset.x.stage]]\nname = 'a'\niterations = 1\nbatch_size = 1\nlr = 0.1\n"
    )
    with pytest.raises(ConfigError, match=r"seed must be >= 0 and <= 2\*\*63 - 1, got -1"):
        load_presets(path)


def _identity(**over):
    ident = {
        "variant": "mast",
        "variant_config": {"name": "mast", "memory": "roi"},
        "checkpoint": {"kind": "file", "sha256": "ab", "path": "/x.pt", "train_preset": None},
        "dataset": {
            "name": "davis-mini",
            "root": "/d",
            "split": "val",
            "sequences": ["a"],
            "fingerprint": "f",
        },
        "protocol": {"name": "mast", "config": {"name": "mast"}},
        "evaluation": {"task": "semi-supervised", "resolution": "480p", "max_side": None},
        "environment": {"device_type": "cpu", "threads": 2, "torch": "2.13.0", "kernels": "cpu-csrc"},
        "code_version": "0.1.0",
    }
    ident.update(over)
    return ident


def _record(**over):
    return ResultRecord(
        identity=_identity(**over),
        provenance={"git_revision": None, "device": "cpu", "created": "now"},
        metrics={
            "global": {"J&F-Mean": 0.5, "J-Mean": 0.4, "F-Mean": 0.6},
            "per_object": [],
            "per_frame": [],
        },
        profile={
            "parameters": 3,
            "gflops_per_frame": {"encoder": 1.0, "memory_read": 0.5, "total": 1.5},
            "frame_size": [4, 6],
        },
    )


def test_identity_key_is_sha256_of_canonical_json_and_order_free():
    import hashlib

    ident = _identity()
    reordered = dict(reversed(list(ident.items())))
    assert identity_key(ident) == identity_key(reordered)
    expected = hashlib.sha256(json.dumps(ident, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert identity_key(ident) == expected
    assert canonical_json({"b": 1, "a": [1.5]}) == '{"a":[1.5],"b":1}'
    assert identity_key(_identity(code_version="0.2")) != identity_key(ident)


def test_record_round_trip_and_tampered_key(tmp_path):
    rec = _record()
    again = ResultRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert again == rec
    data = rec.to_dict()
    data["key"] = "0" * 64
    with pytest.raises(DataError, match="does not match"):
        ResultRecord.from_dict(data)
    with pytest.raises(DataError, match="schema"):
        ResultRecord.from_dict({"schema": 99})


def test_store_put_get_table_and_mask_staging(tmp_path):
    store = ResultStore(tmp_path / "res")
    rec = _record()
    assert store.get(rec.key) is None
    staged = store.new_staging(rec.key)
    (staged / "seq").mkdir()
    (staged / "seq" / "00000.png").write_bytes(b"x")
    with store.lock(rec.key):
        store.publish(rec, staged)
    assert not staged.exists()
    assert (store.layout.masks_dir(rec.key) / "seq" / "00000.png").read_bytes() == b"x"
    got = store.get(rec.key)
    assert got is not None and got.metrics == rec.metrics and got.masks == f"masks/{rec.key}"
    other = _record(variant="mast-rgb")
    with store.lock(other.key):
        store.publish(other)
    store.write_table()
    csv = pd.read_csv(tmp_path / "res" / "records.csv")
    assert sorted(csv["variant"]) == ["mast", "mast-rgb"]
    assert set(csv["J&F-Mean"]) == {0.5}
    assert list(csv["gflops_per_frame.total"]) == [1.5, 1.5]
    assert list(store.table()["frame_size"]) == ["4x6", "4x6"]
    # no temp files left over by the atomic writes
    assert not [p for p in (tmp_path / "res").rglob("*.tmp")]


def test_provenance_fields():
    prov = provenance.collect("cpu", seed=3, command="cmd")
    assert prov["seed"] == 3 and prov["command"] == "cmd"
    assert prov["packages"]["torch"].startswith("2.")
    assert prov["device"].startswith("cpu")
    assert isinstance(prov["git_dirty"], bool)
    assert provenance.code_version()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_reading_the_git_state_never_writes_the_users_index(tmp_path):
    """A plain `git status` rewrites a stale index under .git/index.lock: a run killed meanwhile left
    the lock, and the user's next git command refused to run."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a"]
    (repo / "tracked.py").write_text("x = 1\n")
    for args in (["init", "-q"], ["add", "tracked.py"], ["commit", "-qm", "first"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    index = repo / ".git" / "index"
    written = index.stat().st_mtime_ns
    later = written + 5_000_000_000  # the file looks touched since the index was written: stale
    os.utime(repo / "tracked.py", ns=(later, later))
    revision, dirty = provenance.git_state(repo)
    assert len(revision) == 40 and dirty is False
    assert index.stat().st_mtime_ns == written
    (repo / "tracked.py").write_text("x = 2\n")
    assert provenance.git_state(repo)[1] is True
