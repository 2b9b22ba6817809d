"""Training: deterministic, resumable (also after kill -9), atomic checkpoints, the CLI."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mast_bench.data.clips import FrameFolderClips
from mast_bench.errors import CheckpointError, ConfigError
from mast_bench.harness.batches import EpochBatches
from mast_bench.harness.presets import get_preset
from mast_bench.harness.training import train
from mast_bench.model.checkpoint import load_weights
from mast_bench.variants import get_variant

from .conftest import tiny_preset

STAGE_1 = "stages/1-pairs/checkpoint.pt"


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_resume_gives_identical_weights(tiny_davis, tmp_path):
    config, preset = get_variant("mast"), tiny_preset(iterations=4, checkpoint_every=2)
    straight = train(config, preset, FrameFolderClips(tiny_davis), tmp_path / "a", progress=False)
    half = train(config, preset, FrameFolderClips(tiny_davis), tmp_path / "b", progress=False, stop_after=2)
    assert half.iterations == 2 and not (tmp_path / "b" / "train.json").exists()
    resumed = train(config, preset, FrameFolderClips(tiny_davis), tmp_path / "b", progress=False)
    assert resumed.loss_curve == straight.loss_curve
    assert _same(_weights(tmp_path / "a" / "checkpoint.pt"), _weights(tmp_path / "b" / "checkpoint.pt"))
    # the checkpoint is in the official layout: any variant loads it as weights
    model = __import__("mast_bench.model", fromlist=["MAST"]).MAST(config)
    load_weights(model, tmp_path / "a" / "checkpoint.pt")
    state = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert {"state_dict", "optimizer", "iteration", "rng", "epoch"} <= set(state) and state["iteration"] == 4
    assert _same(state["state_dict"], _weights(tmp_path / "a" / STAGE_1))  # the last stage's final state
    assert np.isfinite(straight.final_loss)


def _draws() -> tuple:
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()


def test_a_rerun_removes_the_temp_files_a_kill_left_in_its_folder(tiny_davis, tmp_path):
    """Only a checkpoint's were removed: a snapshot's or a note's stayed for good."""
    preset = tiny_preset(iterations=2, checkpoint_every=1, snapshots=(0.0, 1.0))
    train(get_variant("mast"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False, stop_after=1)
    left = [tmp_path / "snapshots" / ".iter-0000002.pt.x1.tmp", tmp_path / ".stages-copied.json.x2.tmp"]
    for path in left:
        path.write_bytes(b"cut short")
    train(get_variant("mast"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False)
    assert not any(path.exists() for path in left)


def test_training_leaves_the_caller_s_random_streams_as_they_were(tiny_davis, tmp_path):
    """Training seeds the process-wide RNGs: a script that trained, then drew numbers of its own,
    drew the training's stream, not its own."""
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    expected = _draws()
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    clips = FrameFolderClips(tiny_davis)
    train(get_variant("mast"), tiny_preset(iterations=1), clips, tmp_path, progress=False)
    assert _draws() == expected


@pytest.mark.slow
def test_resume_refuses_another_variant_or_preset(tiny_davis, tmp_path):
    preset = tiny_preset(iterations=1)
    train(get_variant("mast"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="another variant/preset"):
        train(get_variant("mast-rgb"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False)


def test_a_run_of_a_variant_is_the_run_of_its_test_time_twins(tiny_davis, tmp_path):
    """A checkpoint of `mast` is one of `mast-r6` (only the test window differs): refusing it as
    'another variant' made the twin train the same weights again."""
    preset = tiny_preset(iterations=2, checkpoint_every=1)
    train(get_variant("mast"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False)
    before = _weights(tmp_path / STAGE_1)
    stamp = (tmp_path / STAGE_1).stat().st_mtime_ns
    twin = train(get_variant("mast-r6"), preset, FrameFolderClips(tiny_davis), tmp_path, progress=False)
    assert twin.iterations == 2 and (tmp_path / STAGE_1).stat().st_mtime_ns == stamp  # nothing trained
    assert _same(_weights(tmp_path / "checkpoint.pt"), before)


# what a pairs-only training never reads: each change trains the same weights as `mast`
LONG_TERM_ONLY = [
    {"offset_bug": "official"}, {"dilation_set": (1,)}, {"max_dilation": 1}, {"coarse_radius": 2},
    {"long_term_gap": 1}, {"memory": "window"}, {"memory": "short"},
]  # fmt: skip


@pytest.mark.slow
def test_a_pairs_only_training_never_reads_the_long_term_fields(tiny_davis, tmp_path):
    """`ablate dilation`, `offset_bug` and `memory` trained each arm on the pairs-only smoke preset,
    whose single reference (one frame before its target) is never long-term: the same weights."""
    preset, clips = tiny_preset(iterations=2, checkpoint_every=1), FrameFolderClips(tiny_davis)
    mast = get_variant("mast")
    train(mast, preset, clips, tmp_path / "mast", progress=False)
    trained = _weights(tmp_path / "mast" / "checkpoint.pt")
    for index, change in enumerate(LONG_TERM_ONLY):
        arm = mast.replace(name=f"arm{index}", **change)
        train(arm, preset, clips, tmp_path / f"arm{index}", progress=False)
        assert _same(_weights(tmp_path / f"arm{index}" / "checkpoint.pt"), trained), change
        stamp = (tmp_path / "mast" / STAGE_1).stat().st_mtime_ns
        train(arm, preset, clips, tmp_path / "mast", progress=False)  # `mast`'s run is this arm's run
        assert (tmp_path / "mast" / STAGE_1).stat().st_mtime_ns == stamp, change
    for change in ({"memory": "full"}, {"train_radius": 2}):  # read in training: other weights, other runs
        arm = mast.replace(name="read", **change)
        train(arm, preset, clips, tmp_path / "read", progress=False)
        assert not _same(_weights(tmp_path / "read" / "checkpoint.pt"), trained), change
        with pytest.raises(CheckpointError, match="another variant/preset"):
            train(arm, preset, clips, tmp_path / "mast", progress=False)
        shutil.rmtree(tmp_path / "read")


def test_training_free_variant_is_refused(tiny_davis, tmp_path):
    preset = tiny_preset(iterations=1)
    with pytest.raises(ConfigError, match="no trainable"):
        train(
            get_variant("mast-lab-pixels"),
            preset,
            FrameFolderClips(tiny_davis),
            tmp_path,
            progress=False,
        )


class _CountingSampler:
    """A fake PairSampler: epoch e has 5 + e pairs (``lengths[e]`` where given); pair i of epoch e is
    clip e, frames (i, i + 1)."""

    most_pairs = 9

    def __init__(self, lengths: dict[int, int] | None = None):
        self.epoch = 0
        self.lengths = lengths or {}

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.lengths.get(self.epoch, 5 + self.epoch)

    @property
    def pairs(self):
        from mast_bench.data.clips import PairIndex

        return [PairIndex(self.epoch, i, i + 1) for i in range(len(self))]


def test_epoch_batches_walk_epochs_like_a_drop_last_loader():
    batches = EpochBatches(_CountingSampler(), batch_size=2)
    # epoch 0: 5 pairs -> 2 batches; epoch 1: 6 pairs -> 3 batches; epoch 2: 7 -> 3
    assert [batches.position(i) for i in range(7)] == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]
    plan = batches(3)  # batch 1 of epoch 1: pairs 2 and 3
    assert plan.frames == (((1, 2), (1, 3)), ((1, 3), (1, 4))) and plan.indices == (0, 1)
    plan = batches(4, rank=1, world=2)  # second half of batch 2 of epoch 1
    assert plan.frames == (((1, 5),), ((1, 6),))
    with pytest.raises(ConfigError, match="at most 9 training pairs, fewer than the batch size 10"):
        EpochBatches(_CountingSampler(), batch_size=10).position(0)


def test_an_epoch_too_short_for_a_batch_is_skipped_as_drop_last_skips_it():
    """Motion weights can leave an epoch of a small training set without a whole batch: the walk goes
    on to the next epoch; only epochs that stay short, one after another, are an error."""
    batches = EpochBatches(_CountingSampler({1: 1, 2: 0}), batch_size=2)
    # epoch 0: 5 pairs -> 2 batches; epochs 1 and 2: no whole batch; epoch 3: 8 pairs -> 4 batches
    assert [batches.position(i) for i in range(4)] == [(0, 0), (0, 1), (3, 0), (3, 1)]
    assert batches(2).frames[0] == ((3, 0), (3, 1))
    never = EpochBatches(_CountingSampler(dict.fromkeys(range(200), 1)), batch_size=2)
    with pytest.raises(ConfigError, match="100 epochs in a row held fewer training pairs"):
        never.position(0)


def _wait_for_checkpoint(proc: subprocess.Popen, checkpoint: Path, iteration: int = 2) -> None:
    """Until ``checkpoint`` holds ``iteration`` with ``proc`` still training (fails if it ended)."""
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if checkpoint.is_file() and torch.load(checkpoint, weights_only=True)["iteration"] >= iteration:
            break
        time.sleep(0.2)
    if proc.poll() is not None:
        tail = proc.stderr.read()
        pytest.fail((tail.decode() if isinstance(tail, bytes) else tail)[-2000:])


_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from harness.conftest import tiny_preset
from mast_bench.data.clips import FrameFolderClips
from mast_bench.harness.training import train
from mast_bench.variants import get_variant
preset = tiny_preset(iterations=1000, checkpoint_every=1)
train(get_variant("mast"), preset, FrameFolderClips({data!r}), {out!r}, progress=False)
"""


@pytest.mark.slow
def test_kill_9_mid_run_leaves_a_loadable_checkpoint_and_resume_matches(tiny_davis, tmp_path):
    out = tmp_path / "run"
    script = _KILL_SCRIPT.format(tests=str(Path(__file__).parents[1]), data=str(tiny_davis), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    ckpt = out / STAGE_1
    try:
        _wait_for_checkpoint(proc, ckpt)
        time.sleep(0.3)  # land the kill anywhere, possibly mid-write
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    state = torch.load(ckpt, weights_only=True)  # loadable, not torn
    k = state["iteration"]
    assert k >= 2 and len(state["loss_curve"]) == k
    # resume one more iteration and compare with a straight run to k + 1
    preset = tiny_preset(iterations=1000, checkpoint_every=1)
    config = get_variant("mast")
    resumed = train(config, preset, FrameFolderClips(tiny_davis), out, progress=False, stop_after=k + 1)
    assert not list(out.rglob(".checkpoint.pt.*.tmp"))
    straight = train(
        config, preset, FrameFolderClips(tiny_davis), tmp_path / "s", progress=False, stop_after=k + 1
    )
    # iterations 1..k ran in another process: oneDNN/MKL kernels are not bitwise reproducible across
    # processes (their reductions depend on buffer alignment), so compare closely, not bitwise
    # (bitwise resume equivalence within one process: test_resume_gives_identical_weights)
    assert [it for it, _ in resumed.loss_curve] == list(range(1, k + 2))
    resumed_losses = [loss for _, loss in resumed.loss_curve]
    straight_losses = [loss for _, loss in straight.loss_curve]
    # iterations 1..k were recorded by the killed process before it died: kept intact
    np.testing.assert_allclose(resumed_losses[:k], straight_losses[:k], rtol=1e-4)
    # the resumed step starts from weights that Adam (which normalises near-zero gradients to full
    # lr-sized steps) has moved by cross-process rounding noise, measured up to 0.5% in the loss
    np.testing.assert_allclose(resumed_losses[k], straight_losses[k], rtol=2e-2)
    a, b = _weights(ckpt), _weights(tmp_path / "s" / STAGE_1)
    assert a.keys() == b.keys()
    for name in a:
        # Adam moves a weight by at most ~lr per step, so a tiny gradient difference stays below that
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=preset.stages[0].lr * (k + 1), msg=name)


def test_train_cli_refuses_a_stop_past_the_end(tmp_path, capsys):
    """--stop-after past the chain's last iteration would train to the end and look stopped: it is
    refused in one line naming the preset and its length, before any data is opened or folder made."""
    from mast_bench.train import main

    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\n"
        "[[preset.t.stage]]\nname = 'a'\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\n"
        "[[preset.t.stage]]\nname = 'b'\niterations = 3\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\n"
    )
    out = tmp_path / "o"
    argv = [
        "--variant",
        "mast",
        "--data",
        str(tmp_path / "absent"),
        "--presets",
        str(presets),
        "--preset",
        "t",
    ]
    assert main([*argv, "--out", str(out), "--stop-after", "6", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: stop after iteration 6: preset t has 5 iterations in all (a 2, b 3); expected 1 to 5"
    ]
    assert not out.exists()


@pytest.mark.slow
def test_train_cli_runs_and_resumes(tiny_davis, tmp_path, capsys):
    from mast_bench.train import main

    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
        "checkpoint_every = 1\n"
    )
    argv = [
        "--variant",
        "mast",
        "--data",
        str(tiny_davis),
        "--presets",
        str(presets),
        "--preset",
        "t",
        "--out",
        str(tmp_path / "o"),
        "--quiet",
    ]
    assert main([*argv, "--stop-after", "1"]) == 0
    assert "1/2 iterations" in capsys.readouterr().out
    assert main(argv) == 0
    assert "2/2 iterations" in capsys.readouterr().out
    assert main(["--variant", "mast-nope", "--data", str(tiny_davis)]) == 2
    assert "unknown variant" in capsys.readouterr().err


@pytest.mark.slow
def test_distributed_data_parallel_on_cpu_with_gloo(tiny_davis, tmp_path):
    """The documented torchrun command, without --device, on a machine without CUDA: gloo on the
    CPU (not cuda:LOCAL_RANK); rank 0 alone reports, logs and writes."""
    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
        "checkpoint_every = 1\n"
    )
    out = tmp_path / "ddp"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command = [*torchrun, "-m", "mast_bench.train", "--variant", "mast", "--data", str(tiny_davis),
               "--presets", str(presets), "--preset", "t", "--out", str(out)]  # fmt: skip
    if torch.cuda.is_available():
        command += ["--device", "cpu"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("2/2 iterations") == 1  # only rank 0 reports
    assert proc.stderr.count("train mast [1 pairs]") >= 1 and "no CUDA device" not in proc.stderr
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == 2 and not any(k.startswith("module.") for k in state["state_dict"])
    assert len(list((out / "tensorboard").iterdir())) == 1  # one event file: rank 0's


@pytest.mark.slow
def test_under_torchrun_the_ranks_wait_for_rank_0s_lock_and_share_its_refusal(tiny_davis, tmp_path):
    """Rank 0 alone locks the folder and checks its clips: the other rank waits while it waits on
    another trainer's lock (no collective timeout), and says rank 0's refusal itself."""
    from mast_bench.locks import job_lock

    from .conftest import make_tiny_davis

    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
    )
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command = [*torchrun, "-m", "mast_bench.train", "--variant", "mast", "--data", str(tiny_davis),
               "--presets", str(presets), "--preset", "t", "--device", "cpu", "--quiet"]  # fmt: skip

    other = make_tiny_davis(tmp_path / "other", {"c": 1})
    same = get_preset("t", presets)  # the same preset: only the data differs
    train(get_variant("mast"), same, FrameFolderClips(other), tmp_path / "o", progress=False)
    refused = subprocess.run(
        [*command, "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300
    )
    assert refused.returncode != 0
    assert refused.stderr.count("this run trained on other data") == 2, refused.stderr[-3000:]

    waited, log = tmp_path / "waited", tmp_path / "waited.log"
    with job_lock(waited / ".train.lock", "a test's other trainer"), open(log, "w") as err:
        proc = subprocess.Popen(
            [*command, "--out", str(waited)], stdout=subprocess.PIPE, stderr=err, text=True
        )
        deadline = time.monotonic() + 300
        while "waiting:" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not (waited / "checkpoint.pt").exists()
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert log.read_text().count("a test's other trainer") == 1  # rank 0 says it waits
    assert out.count("2/2 iterations") == 1


# --- the chain of stages ------------------------------------------------------------------------

CHAIN_TOML = """
[preset.chain]
seed = 3
snapshots = [0.0, 0.5, 1.0]

[[preset.chain.stage]]
name = "pairs"
iterations = 2
batch_size = 2
lr = 1e-3
frame_size = [32, 32]
gaps = [1, 2]
checkpoint_every = 1

[[preset.chain.stage]]
name = "memory"
sampling = "memory"
iterations = {memory_iterations}
batch_size = 2
lr = 1e-4
frame_size = [32, 32]
short_term = [1, 2]
long_term = 1
long_term_range = [16, 18]
checkpoint_every = 1

[[preset.chain.stage]]
name = "final"
sampling = "schedule"
iterations = 2
batch_size = 2
lr = 2e-5
frame_size = [32, 32]
short_term = [1, 3]
anchors = [0, 5]
target_range = [16, 20]
checkpoint_every = 1
"""


def _chain(tmp_path: Path, memory_iterations: int = 2):
    from mast_bench.harness.presets import get_preset

    path = tmp_path / "chain.toml"
    path.write_text(CHAIN_TOML.format(memory_iterations=memory_iterations))
    return get_preset("chain", path), path


@pytest.fixture(scope="module")
def long_clips(tmp_path_factory) -> Path:
    """Frame folders long enough for long-term references (24 frames)."""
    from .conftest import make_tiny_davis

    return make_tiny_davis(tmp_path_factory.mktemp("long"), {"a": 1, "b": 2}, frames=24)


@pytest.mark.slow
def test_three_stages_chain_each_from_the_previous_weights(long_clips, tmp_path):
    preset, _ = _chain(tmp_path)
    config, clips = get_variant("mast"), FrameFolderClips(long_clips)
    result = train(config, preset, clips, tmp_path / "run", progress=False)
    assert [(s.name, s.iterations, s.references) for s in result.stages] == [
        ("pairs", 2, 1), ("memory", 2, 3), ("final", 2, 4)
    ]  # fmt: skip
    assert [it for it, _ in result.loss_curve] == list(range(1, 7))
    assert all(np.isfinite(loss) for _, loss in result.loss_curve)
    run = tmp_path / "run"
    # the final weights are stage 3's; snapshots at 0, 3 and 6 iterations; 0 is the seeded init
    assert _same(_weights(run / "checkpoint.pt"), _weights(run / "stages/3-final/checkpoint.pt"))
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == [
        "iter-0000000.pt", "iter-0000003.pt", "iter-0000006.pt"
    ]  # fmt: skip
    assert _same(_weights(run / "snapshots/iter-0000006.pt"), _weights(run / "checkpoint.pt"))
    assert not _same(_weights(run / "snapshots/iter-0000000.pt"), _weights(run / "snapshots/iter-0000003.pt"))
    summary = json.loads((run / "train.json").read_text())
    assert [s["name"] for s in summary["stages"]] == ["pairs", "memory", "final"]
    assert all(s["samples_per_s"] > 0 for s in summary["stages"])
    # stage 2 started from stage 1's final weights: a run of stage 2 alone from them agrees
    again = train(config, preset, clips, tmp_path / "run", progress=False)
    assert again.loss_curve == result.loss_curve  # complete: found, not retrained


@pytest.mark.slow
def test_tensorboard_event_files_hold_the_curves(long_clips, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    preset, _ = _chain(tmp_path)
    result = train(
        get_variant("mast"), preset, FrameFolderClips(long_clips), tmp_path / "run", progress=False
    )
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/loss", "train/lr", "train/samples_per_s", "train/stage"} <= set(tags["scalars"])
    losses = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert [s for s, _ in losses] == list(range(1, 7))
    np.testing.assert_allclose([v for _, v in losses], [v for _, v in result.loss_curve], rtol=1e-6)
    assert [e.value for e in events.Scalars("train/stage")] == [1, 1, 2, 2, 3, 3]
    assert [e.value for e in events.Scalars("train/lr")][::2] == pytest.approx([1e-3, 1e-4, 2e-5])
    assert "train/reconstruction" in tags["images"]


_CHAIN_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from mast_bench.data.clips import FrameFolderClips
from mast_bench.harness.presets import get_preset
from mast_bench.harness.training import train
from mast_bench.variants import get_variant
preset = get_preset("chain", {presets!r})
train(get_variant("mast"), preset, FrameFolderClips({data!r}), {out!r}, progress=False)
"""


@pytest.mark.slow
def test_kill_9_in_stage_2_resumes_stage_2(long_clips, tmp_path):
    preset, presets = _chain(tmp_path, memory_iterations=1000)
    out = tmp_path / "run"
    script = _CHAIN_KILL_SCRIPT.format(
        tests=str(Path(__file__).parents[1]), presets=str(presets), data=str(long_clips), out=str(out)
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    stage_2 = out / "stages" / "2-memory" / "checkpoint.pt"
    try:
        _wait_for_checkpoint(proc, stage_2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    stage_1 = out / "stages" / "1-pairs" / "checkpoint.pt"
    before = stage_1.stat().st_mtime_ns
    k = torch.load(stage_2, weights_only=True)["iteration"]
    messages: list[str] = []
    resumed = train(get_variant("mast"), preset, FrameFolderClips(long_clips), out, progress=False,
                    stop_after=2 + k + 1, tell=messages.append)  # fmt: skip
    assert messages == [f"resuming mast: stage 2/3 'memory' at iteration {k}/1000 from {stage_2}"]
    assert stage_1.stat().st_mtime_ns == before  # stage 1 was complete: not trained again
    assert [s.iterations for s in resumed.stages] == [2, k + 1]
    assert [it for it, _ in resumed.loss_curve] == list(range(1, 2 + k + 2))
    assert torch.load(stage_2, weights_only=True)["iteration"] == k + 1
    assert not (out / "checkpoint.pt").exists()  # the chain is not finished


@pytest.mark.slow
def test_frozen_batchnorm_keeps_its_statistics_while_the_weights_learn(tiny_davis, tmp_path):
    preset = tiny_preset(iterations=2, snapshots=(0.0, 1.0))
    for name in ("mast", "mast-frozen-bn"):
        train(get_variant(name), preset, FrameFolderClips(tiny_davis), tmp_path / name, progress=False)
    for name, frozen in (("mast", False), ("mast-frozen-bn", True)):
        before = _weights(tmp_path / name / "snapshots" / "iter-0000000.pt")
        after = _weights(tmp_path / name / "checkpoint.pt")
        stats = [k for k in before if k.endswith(("running_mean", "running_var"))]
        assert stats and all(torch.equal(before[k], after[k]) for k in stats) == frozen, name
        assert not torch.equal(before["post_convolution.weight"], after["post_convolution.weight"])


@pytest.mark.slow
def test_train_cli_makes_a_folder_of_videos_a_training_set(tmp_path, capsys, monkeypatch):
    import cv2

    from mast_bench.train import main

    videos = tmp_path / "videos"
    videos.mkdir()
    for name, colour in (("a", (40, 80, 160)), ("b", (30, 170, 60))):
        writer = cv2.VideoWriter(str(videos / f"{name}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
        for t in range(24):
            frame = np.full((48, 64, 3), colour, np.uint8)
            frame[10:22, t : t + 12] = 255
            writer.write(frame)
        writer.release()
    monkeypatch.setenv("MAST_BENCH_DATA", str(tmp_path / "cache" / "embedded"))
    presets = tmp_path / "p.toml"
    presets.write_text("[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\n")
    argv = ["--variant", "mast", "--data", str(videos), "--presets", str(presets), "--preset", "t",
            "--out", str(tmp_path / "o"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "2/2 iterations" in out.out and "training set" in out.err
    (made,) = [p for p in (tmp_path / "cache" / "training-sets").iterdir() if (p / "manifest.json").is_file()]
    assert [c["name"] for c in json.loads((made / "manifest.json").read_text())["clips"]] == ["a", "b"]
    # one video file is a training set of one clip; a file that is not a video is named, not read
    argv[3], argv[9] = str(videos / "b.mp4"), str(tmp_path / "one")
    assert main(argv) == 0
    assert "2/2 iterations" in capsys.readouterr().out
    made = json.loads((tmp_path / "one" / "train-data.json").read_text())
    assert [name for name, _ in made["clips"]] == ["b"]
    (tmp_path / "notes.txt").write_text("x")
    argv[3], argv[9] = str(tmp_path / "notes.txt"), str(tmp_path / "none")
    assert main(argv) == 2
    assert "notes.txt: not a folder (expected a training set, a video file" in capsys.readouterr().err


def test_clips_too_short_for_a_stage_are_named_before_training(tmp_path):
    from .conftest import make_tiny_davis

    short = make_tiny_davis(tmp_path / "short", {"short": 1}, frames=8)
    long = make_tiny_davis(tmp_path / "long", {"long": 1}, frames=14)
    (long / "JPEGImages" / "480p" / "short").symlink_to(short / "JPEGImages" / "480p" / "short")
    messages: list[str] = []
    preset = tiny_preset(iterations=1, gaps=(2, 10), batch_size=1)  # 8 frames never reach 10 back
    train(
        get_variant("mast"),
        preset,
        FrameFolderClips(long),
        tmp_path / "o",
        progress=False,
        tell=messages.append,
    )
    assert messages == [
        "stage pairs: 1 clips too short for its farthest reference, sampled less or never: short"
    ]


@pytest.mark.slow
def test_the_smoke_stages_preset_trains_three_stages_on_the_embedded_default(tmp_path, capsys):
    """`mast-bench train --preset smoke-stages`: the paper's three stages at smoke size, no --data."""
    from mast_bench.train import main

    assert (
        main(["--variant", "mast", "--preset", "smoke-stages", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    )
    out = capsys.readouterr().out
    for line in ("stage pairs: 4 iterations", "stage memory: 3 iterations", "stage schedule: 2 iterations"):
        assert line in out
    assert "9/9 iterations" in out and (tmp_path / "o" / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_sigterm_stops_training_as_ctrl_c_does_and_the_rerun_resumes(long_clips, tmp_path):
    """Slurm sends SIGTERM before a time limit or a preemption: the command stops as on Ctrl-C (its
    cleanup runs, the one line), exits 143, leaves no partial checkpoint, and the rerun resumes."""
    presets = tmp_path / "presets.toml"  # the chain, its first stage long enough to be stopped in
    presets.write_text(
        CHAIN_TOML.format(memory_iterations=2).replace("iterations = 2\n", "iterations = 1000\n", 1)
    )
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mast_bench", "train", "--variant", "mast", "--presets", str(presets)]
    command += ["--preset", "chain", "--data", str(long_clips), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    ckpt = out / STAGE_1
    try:
        _wait_for_checkpoint(proc, ckpt)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 143, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: nothing was half-written; rerun the same command to resume"
    )
    k = torch.load(ckpt, weights_only=True)["iteration"]
    assert not list(out.rglob("*.tmp")) and not (out / ".train.lock.owner").exists()
    rerun = subprocess.run(
        [*command, "--stop-after", str(k + 1)], capture_output=True, text=True, timeout=240
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert torch.load(ckpt, weights_only=True)["iteration"] == k + 1
