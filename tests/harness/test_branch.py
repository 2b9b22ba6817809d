"""`mast-bench train --branch-from RUN`: later stages trained off another run's first stages give
the weights a straight run gives; a run that is not the same computation is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mast_bench.config import to_dict
from mast_bench.data.clips import FrameFolderClips
from mast_bench.errors import CheckpointError, DataError
from mast_bench.harness.branch import branch_run, shared_stages
from mast_bench.harness.presets import get_preset
from mast_bench.harness.train_data import DATA_RECORD, clips_summary
from mast_bench.harness.train_identity import same_stage, stage_identity
from mast_bench.harness.training import train
from mast_bench.variants import get_variant

from .test_training import CHAIN_TOML


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def _identical(a: Path, b: Path) -> bool:
    x, y = _weights(a), _weights(b)
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


@pytest.fixture(scope="module")
def long_clips(tmp_path_factory) -> Path:
    from .conftest import make_tiny_davis

    return make_tiny_davis(tmp_path_factory.mktemp("long"), {"a": 1, "b": 2}, frames=24)


@pytest.fixture(scope="module")
def other_clips(tmp_path_factory) -> Path:
    from .conftest import make_tiny_davis

    return make_tiny_davis(tmp_path_factory.mktemp("other"), {"c": 1, "d": 1, "e": 1}, frames=24)


def _presets(tmp_path: Path) -> Path:
    """Two chains sharing their first stage: ``chain`` (memory 2 iterations) and ``longer`` (3)."""
    path = tmp_path / "presets.toml"
    longer = CHAIN_TOML.format(memory_iterations=3).replace("preset.chain", "preset.longer")
    path.write_text(CHAIN_TOML.format(memory_iterations=2) + longer)
    return path


@pytest.mark.slow
def test_a_branch_trains_the_weights_a_straight_run_trains(long_clips, tmp_path, capsys):
    from mast_bench.train import main

    presets = _presets(tmp_path)
    config, clips = get_variant("mast"), FrameFolderClips(long_clips)
    train(config, get_preset("chain", presets), clips, tmp_path / "source", progress=False)
    straight = train(config, get_preset("longer", presets), clips, tmp_path / "straight", progress=False)

    source, branch = tmp_path / "source", tmp_path / "branch"
    argv = ["--variant", "mast", "--data", str(long_clips), "--presets", str(presets), "--preset", "longer",
            "--out", str(branch), "--branch-from", str(source), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "stage(s) pairs (2 iterations) copied" in err
    assert "stage pairs: 2 iterations" in out and "(copied from source, which trained it)" in out
    assert "stage memory: 3 iterations" in out and out.count("copied from") == 1
    # only stage 1 (and the snapshot of iteration 0) came from the source; stages 2 and 3 trained here
    stage_1, stage_2 = "stages/1-pairs/checkpoint.pt", "stages/2-memory/checkpoint.pt"
    assert _identical(branch / stage_1, source / stage_1)
    assert not _identical(branch / stage_2, source / stage_2)
    assert _identical(branch / "checkpoint.pt", tmp_path / "straight/checkpoint.pt")
    assert sorted(p.name for p in (branch / "snapshots").iterdir()) == sorted(
        p.name for p in (tmp_path / "straight/snapshots").iterdir()
    )
    assert _identical(branch / "snapshots/iter-0000000.pt", tmp_path / "straight/snapshots/iter-0000000.pt")
    again = train(config, get_preset("longer", presets), clips, branch, progress=False)
    assert again.loss_curve == straight.loss_curve  # stage 1's curve came with its checkpoint
    stages = json.loads((branch / "train.json").read_text())["stages"]
    assert [stage.get("copied_from") for stage in stages] == [
        "source",
        None,
        None,
    ]  # its seconds are not ours
    # branching again is harmless: everything is there, the run is found complete
    assert main(argv) == 0
    assert "already there" in capsys.readouterr().err


@pytest.mark.slow
def test_a_stage_trained_here_after_a_copy_cut_short_is_not_said_to_be_copied(long_clips, tmp_path):
    presets = _presets(tmp_path)
    config, clips, longer = get_variant("mast"), FrameFolderClips(long_clips), get_preset("longer", presets)
    train(config, get_preset("chain", presets), clips, tmp_path / "source", progress=False)
    branch_run(config, longer, tmp_path / "source", tmp_path / "branch", clips_summary(clips), print)
    assert json.loads((tmp_path / "branch" / "stages-copied.json").read_text()) == {"pairs": "source"}
    said = []  # a preset that keeps a snapshot inside the copied stage where the source kept none
    wants_one = replace(longer, snapshots=(0.0, 1 / 7, 1.0))
    branch_run(config, wants_one, tmp_path / "source", tmp_path / "other", clips_summary(clips), said.append)
    assert any(
        "keeps no snapshot at iteration(s) 1, inside the stages copied from it" in line for line in said
    )
    (tmp_path / "branch" / "stages" / "1-pairs" / "checkpoint.pt").unlink()  # killed before the copy
    train(config, longer, clips, tmp_path / "branch", progress=False)  # a run without --branch-from
    stages = json.loads((tmp_path / "branch" / "train.json").read_text())["stages"]
    assert all("copied_from" not in stage for stage in stages)
    assert not (tmp_path / "branch" / "stages-copied.json").exists()


@pytest.mark.slow
def test_a_stop_at_a_stage_boundary_enters_no_further_stage(long_clips, tmp_path, capsys):
    """`--stop-after` at the end of stage 1: stage 2 is neither entered nor reported, and no chain
    checkpoint is named before there is one."""
    from mast_bench.train import main

    run = tmp_path / "run"
    argv = ["--variant", "mast", "--data", str(long_clips), "--presets", str(_presets(tmp_path)),
            "--preset", "chain", "--out", str(run), "--quiet", "--stop-after", "2"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "stage pairs: 2 iterations" in out and "stage memory" not in out
    assert "2/6 iterations; stopped by --stop-after" in out and "checkpoint" not in out
    assert (run / "stages" / "1-pairs").is_dir() and not (run / "stages" / "2-memory").exists()


@pytest.mark.slow
def test_a_branch_off_another_computation_is_refused(long_clips, other_clips, tmp_path, capsys):
    from mast_bench.train import main

    presets = _presets(tmp_path)
    clips = FrameFolderClips(long_clips)
    source = tmp_path / "source"
    train(get_variant("mast"), get_preset("chain", presets), clips, source, progress=False, stop_after=1)
    longer, data = get_preset("longer", presets), clips_summary(clips)
    assert shared_stages(get_variant("mast"), longer, source) == 0  # stage 1 not complete
    train(get_variant("mast"), get_preset("chain", presets), clips, source, progress=False, stop_after=2)
    assert shared_stages(get_variant("mast"), longer, source) == 1
    assert shared_stages(get_variant("mast-rgb"), longer, source) == 0
    with pytest.raises(CheckpointError, match="shares no completed stage"):
        branch_run(get_variant("mast-rgb"), longer, source, tmp_path / "out", data, print)
    with pytest.raises(DataError, match="no such training run folder"):
        branch_run(get_variant("mast"), longer, tmp_path / "missing", tmp_path / "out", data, print)
    with pytest.raises(DataError, match=r"presets.toml: a file, not a training run folder \(--branch-from\)"):
        branch_run(get_variant("mast"), longer, presets, tmp_path / "out", data, print)
    with pytest.raises(DataError, match=r"not a training run folder \(no train-data.json, no stages/\)"):
        branch_run(get_variant("mast"), longer, long_clips, tmp_path / "out", data, print)
    with pytest.raises(DataError, match="the run folder itself"):
        branch_run(get_variant("mast"), longer, source, source, data, print)
    other = clips_summary(FrameFolderClips(other_clips))
    with pytest.raises(CheckpointError, match="trained on other data"):
        branch_run(get_variant("mast"), longer, source, tmp_path / "out", other, print)
    assert not (tmp_path / "out").exists()  # nothing written by a refusal
    capsys.readouterr()
    argv = ["--variant", "mast-rgb", "--data", str(long_clips), "--presets", str(presets), "--preset",
            "longer", "--out", str(tmp_path / "out"), "--branch-from", str(source), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(source) in lines[0] and "shares no completed stage" in lines[0]


@pytest.mark.slow
def test_a_refused_branch_copies_nothing_into_the_run_folder(long_clips, other_clips, tmp_path, capsys):
    """`train --branch-from` copied the stages, then refused (a run folder that trained on other
    clips, a frame of another size): the next plain `train` finished with weights of other data."""
    from PIL import Image

    from mast_bench.train import main

    presets = _presets(tmp_path)
    chain, source, out = get_preset("chain", presets), tmp_path / "source", tmp_path / "out"
    train(get_variant("mast"), chain, FrameFolderClips(long_clips), source, progress=False)
    longer = get_preset("longer", presets)  # its later stages are not chain's: chain's would be copied
    train(get_variant("mast"), longer, FrameFolderClips(other_clips), out, progress=False, stop_after=1)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    argv = ["--variant", "mast", "--presets", str(presets), "--preset", "chain", "--quiet"]
    capsys.readouterr()
    assert main([*argv, "--data", str(long_clips), "--out", str(out), "--branch-from", str(source)]) == 2
    assert "out/train-data.json: this run trained on other data" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    odd = tmp_path / "odd"  # the same clips, one frame of another size
    shutil.copytree(long_clips, odd)
    Image.new("RGB", (60, 40)).save(odd / "JPEGImages" / "480p" / "b" / "00005.jpg")
    new = tmp_path / "new"
    assert main([*argv, "--data", str(odd), "--out", str(new), "--branch-from", str(source)]) == 2
    assert "size (H, W) = (40, 60)" in capsys.readouterr().err and not new.exists()


def test_the_memory_arms_are_one_computation_up_to_the_first_stage_that_reads_a_long_term_reference():
    """The pairs stage never reads a long-term reference, so the arms of `ablate dilation`,
    `offset_bug` and `memory` (but the full memory) train it alike; the memory stage tells them apart."""
    preset, mast = get_preset("cpu"), get_variant("mast")
    for name in ("mast-official", "mast-dil1", "mast-dil4", "mast-window", "mast-short-only"):
        arm = get_variant(name)
        assert same_stage(stage_identity(arm, preset, 0), stage_identity(mast, preset, 0)), name
        assert not same_stage(stage_identity(arm, preset, 1), stage_identity(mast, preset, 1)), name
    full = get_variant("mast-full-memory")
    assert not same_stage(stage_identity(full, preset, 0), stage_identity(mast, preset, 0))
    shown_none = {**stage_identity(mast, preset, 0), "stages": []}  # no stage shown: assumed to read them
    other = {**shown_none, "variant_config": to_dict(get_variant("mast-official"))}
    assert not same_stage(other, shown_none)


@pytest.mark.slow
def test_a_memory_arm_branched_off_mast_trains_what_its_straight_run_trains(long_clips, tmp_path):
    """`train --variant mast-dil1 --branch-from <mast's run>` copies the pairs stage; the memory stage,
    whose coarse search reads the dilation, trains other weights than mast's."""
    preset, clips = get_preset("chain", _presets(tmp_path)), FrameFolderClips(long_clips)
    arm = get_variant("mast-dil1")
    train(get_variant("mast"), preset, clips, tmp_path / "mast", progress=False)
    train(arm, preset, clips, tmp_path / "straight", progress=False)
    assert shared_stages(arm, preset, tmp_path / "mast") == 1
    branch_run(arm, preset, tmp_path / "mast", tmp_path / "branch", clips_summary(clips), print)
    train(arm, preset, clips, tmp_path / "branch", progress=False)
    assert _identical(tmp_path / "branch/checkpoint.pt", tmp_path / "straight/checkpoint.pt")
    assert not _identical(tmp_path / "branch/checkpoint.pt", tmp_path / "mast/checkpoint.pt")


def test_fields_added_after_a_checkpoint_count_as_their_defaults():
    """A checkpoint written before a field existed resumes (the field's default is what ran)."""
    current = stage_identity(get_variant("mast-scaled"), get_preset("cpu"), 1)
    stages = [dict(s) for s in current["stages"]]
    older = {**current, "variant_config": dict(current["variant_config"]), "stages": stages}
    del older["variant_config"]["train_batchnorm"], older["variant_config"]["trunk_batchnorm"]
    del older["stages"][1]["cache_frames"]
    assert same_stage(older, current)
    changed = {**older, "variant_config": {**older["variant_config"], "train_batchnorm": "frozen"}}
    assert not same_stage(changed, current)  # a stored value that differs from today's
    unknown = {**older, "variant_config": {**older["variant_config"], "retired_field": 1}}
    assert not same_stage(unknown, current)  # a field this code no longer knows
    assert not same_stage({**older, "seed": 1}, current)
    assert not same_stage({**older, "stages": older["stages"][:1]}, current)
    assert not same_stage(None, current) and not same_stage({"stages": 3}, current)


@pytest.mark.slow
def test_a_run_refuses_to_resume_or_branch_on_other_clips(long_clips, other_clips, tmp_path, capsys):
    from mast_bench.train import main

    presets = _presets(tmp_path)
    chain, source = get_preset("chain", presets), tmp_path / "source"
    train(get_variant("mast"), chain, FrameFolderClips(long_clips), source, progress=False, stop_after=2)
    assert (source / DATA_RECORD).is_file()
    expected = r"other data \(2 clips \(a, b\) there, 3 \(c, d, \.\.\.\) here"
    with pytest.raises(CheckpointError, match=expected):
        train(get_variant("mast"), chain, FrameFolderClips(other_clips), source, progress=False)
    # a run from before the record existed: taken at its word, said once
    (source / DATA_RECORD).unlink()
    capsys.readouterr()
    argv = ["--variant", "mast", "--data", str(long_clips), "--presets", str(presets), "--preset", "longer",
            "--out", str(tmp_path / "branch"), "--branch-from", str(source), "--stop-after", "2"]  # fmt: skip
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err.count("records no training clips") == 1
    assert json.loads((tmp_path / "branch" / DATA_RECORD).read_text()) == clips_summary(
        FrameFolderClips(long_clips)
    )


@pytest.mark.slow
def test_a_stage_seed_makes_a_replicate_that_branches_off_the_same_first_stage(long_clips, tmp_path):
    """`seed` in a stage table: the stage samples from its own seed; stage 1 stays shared."""
    presets = tmp_path / "presets.toml"
    seeded = CHAIN_TOML.format(memory_iterations=2).replace("preset.chain", "preset.seeded")
    seeded = seeded.replace('name = "memory"', 'name = "memory"\nseed = 7')
    presets.write_text(CHAIN_TOML.format(memory_iterations=2) + seeded)
    config, clips = get_variant("mast"), FrameFolderClips(long_clips)
    chain, other = get_preset("chain", presets), get_preset("seeded", presets)
    assert [s.seed for s in other.stages] == [None, 7, None]
    assert "seed" not in to_dict(chain.stages[1]) and to_dict(other.stages[1])["seed"] == 7
    train(config, chain, clips, tmp_path / "source", progress=False)
    assert shared_stages(config, other, tmp_path / "source") == 1
    branch_run(config, other, tmp_path / "source", tmp_path / "replicate", clips_summary(clips), print)
    train(config, other, clips, tmp_path / "replicate", progress=False)
    stage_2 = "stages/2-memory/checkpoint.pt"
    assert not _identical(tmp_path / "replicate" / stage_2, tmp_path / "source" / stage_2)


@pytest.mark.slow
def test_a_branch_under_torchrun_copies_once_and_every_rank_trains_after_it(long_clips, tmp_path):
    """Two gloo ranks on the CPU: a source that shares nothing is refused by every rank alike
    (none left waiting); a good one is copied by rank 0 alone, said once, and the later stages
    train on both ranks."""
    presets = _presets(tmp_path)
    source, branch = tmp_path / "source", tmp_path / "branch"
    train(
        get_variant("mast"),
        get_preset("chain", presets),
        FrameFolderClips(long_clips),
        source,
        progress=False,
    )
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command = [*torchrun, "-m", "mast_bench.train", "--data", str(long_clips), "--presets", str(presets),
               "--preset", "longer", "--out", str(branch), "--branch-from", str(source), "--device", "cpu",
               "--quiet"]  # fmt: skip

    refused = subprocess.run([*command, "--variant", "mast-rgb"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0
    assert refused.stderr.count("shares no completed stage") == 2  # each rank, the same line
    assert not branch.exists()

    done = subprocess.run([*command, "--variant", "mast"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("stage(s) pairs (2 iterations) copied") == 1  # rank 0 alone
    assert done.stdout.count("7/7 iterations") == 1
    stage_1, stage_2 = "stages/1-pairs/checkpoint.pt", "stages/2-memory/checkpoint.pt"
    assert (branch / stage_1).read_bytes() == (source / stage_1).read_bytes()
    assert not _identical(branch / stage_2, source / stage_2)
    assert torch.load(branch / "stages/3-final/checkpoint.pt", weights_only=True)["complete"]
