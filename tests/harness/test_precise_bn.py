"""harness.precise_bn: a checkpoint's BatchNorm statistics re-estimated over many training batches
are the plain mean of what its encoder calls saw; the weights are kept."""

from __future__ import annotations

import pytest
import torch

from mast_bench.data.clips import FrameFolderClips
from mast_bench.harness.precise_bn import (
    batchnorm_layers,
    recompute_batchnorm_statistics,
    replay_batchnorm_statistics,
    step_weights,
)
from mast_bench.model import MAST
from mast_bench.variants import get_variant

from .conftest import tiny_preset
from .test_training import _weights


def test_running_statistics_become_the_mean_of_the_encoder_calls_batch_statistics(tiny_davis):
    torch.manual_seed(0)
    model = MAST(get_variant("mast"))
    layers = batchnorm_layers(model)
    first = layers[0]
    seen: list[torch.Tensor] = []
    first.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().mean(dim=(0, 2, 3))))
    weights = {
        k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k
    }
    stage = tiny_preset().stages[0]

    count = recompute_batchnorm_statistics(
        model, FrameFolderClips(tiny_davis), stage, 0, 3, torch.device("cpu")
    )

    assert count == len(layers) > 0 and not model.training
    assert len(seen) == 3 * 2  # 3 pair steps, 2 frames each: one encoder call per frame
    assert torch.allclose(first.running_mean, torch.stack(seen).mean(dim=0), atol=1e-6)
    assert all(int(layer.num_batches_tracked) == 6 for layer in layers)
    assert all(layer.momentum == 0.1 for layer in layers)  # restored
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in weights.items())


def test_the_estimate_is_reproducible_and_ignores_the_old_statistics(tiny_davis):
    clips, stage = FrameFolderClips(tiny_davis), tiny_preset().stages[0]
    torch.manual_seed(0)
    a, b = MAST(get_variant("mast")), MAST(get_variant("mast"))
    b.load_state_dict(a.state_dict())
    for layer in batchnorm_layers(b):
        layer.running_mean.fill_(5.0)  # stale statistics: reset first
    for model in (a, b):
        recompute_batchnorm_statistics(model, clips, stage, 7, 2, torch.device("cpu"))
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_a_stage_with_precise_bn_keeps_the_same_weights_and_re_estimated_statistics(tiny_davis, tmp_path):
    """`precise_bn = N` changes what the stage keeps for evaluation (its final checkpoint, its
    snapshots) and nothing it trains; a resumed run keeps the same as a straight one."""
    from mast_bench.harness.training import snapshot_path, train
    from mast_bench.model.checkpoint import load_weights

    clips, variant = FrameFolderClips(tiny_davis), get_variant("mast")
    plain = tiny_preset(iterations=4, checkpoint_every=1, snapshots=(0.5, 1.0))
    precise = tiny_preset(iterations=4, checkpoint_every=1, snapshots=(0.5, 1.0), precise_bn=3)
    train(variant, plain, clips, tmp_path / "plain", progress=False)
    train(variant, precise, clips, tmp_path / "straight", progress=False)
    train(variant, precise, clips, tmp_path / "resumed", progress=False, stop_after=3)
    train(variant, precise, clips, tmp_path / "resumed", progress=False)

    a, b = _weights(tmp_path / "plain" / "checkpoint.pt"), _weights(tmp_path / "straight" / "checkpoint.pt")
    buffers = [k for k in a if "running" in k]
    assert buffers and all(torch.equal(a[k], b[k]) for k in a if k not in buffers and "num_batches" not in k)
    assert not all(torch.equal(a[k], b[k]) for k in buffers)
    expected = MAST(variant)
    load_weights(expected, tmp_path / "plain" / "checkpoint.pt")
    recompute_batchnorm_statistics(expected, clips, precise.stages[0], 0, 3, torch.device("cpu"))
    assert all(torch.equal(expected.state_dict()[k], b[k]) for k in buffers)

    resumed = _weights(tmp_path / "resumed" / "checkpoint.pt")
    assert all(torch.equal(resumed[k], b[k]) for k in b)
    for run in ("straight", "resumed"):
        middle = _weights(snapshot_path(tmp_path / run, 2))
        plain_middle = _weights(snapshot_path(tmp_path / "plain", 2))
        assert not all(torch.equal(middle[k], plain_middle[k]) for k in buffers)  # re-estimated too


def test_precise_bn_is_refused_for_a_variant_that_freezes_batchnorm(tiny_davis, tmp_path):
    from mast_bench.errors import ConfigError
    from mast_bench.harness.training import train
    from mast_bench.variants import derive_variant

    frozen = derive_variant(get_variant("mast"), {"train_batchnorm": "frozen"})
    with pytest.raises(ConfigError, match="precise_bn re-estimates BatchNorm statistics"):
        train(frozen, tiny_preset(precise_bn=2), FrameFolderClips(tiny_davis), tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


def test_the_script_writes_the_re_estimated_weights_and_refuses_a_missing_device(
    tiny_davis, tmp_path, capsys
):
    """benchmarks/precise_bn.py: the file it writes holds what recompute_batchnorm_statistics gives
    for the preset's stage and seed (or the --seed given); a device the machine lacks is refused
    before any work."""
    from support.scripts import benchmark_script

    from mast_bench.harness.presets import get_preset
    from mast_bench.model.checkpoint import read_state_dict

    script = benchmark_script("precise_bn")
    torch.manual_seed(0)
    model = MAST(get_variant("mast"))
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    argv = ["--variant", "mast", "--checkpoint", str(tmp_path / "weights.pt"), "--preset", "smoke"]
    argv += [
        "--stage",
        "1",
        "--data",
        str(tiny_davis),
        "--iterations",
        "2",
        "--out",
        str(tmp_path / "pbn.pt"),
    ]

    if not torch.cuda.is_available():
        assert script.main([*argv, "--device", "cuda"]) == 2
        assert "--device cuda: no CUDA device" in capsys.readouterr().err
    assert script.main([*argv, "--device", "cpu"]) == 0
    smoke = get_preset("smoke")
    recompute_batchnorm_statistics(
        model, FrameFolderClips(tiny_davis), smoke.stages[0], smoke.seed, 2, torch.device("cpu")
    )
    written = read_state_dict(tmp_path / "pbn.pt")
    assert written.keys() == model.state_dict().keys()
    assert all(torch.equal(written[k], v) for k, v in model.state_dict().items())

    assert script.main([*argv, "--device", "cpu", "--seed", str(smoke.seed + 1)]) == 0
    other = read_state_dict(tmp_path / "pbn.pt")
    recompute_batchnorm_statistics(
        model, FrameFolderClips(tiny_davis), smoke.stages[0], smoke.seed + 1, 2, torch.device("cpu")
    )
    assert all(torch.equal(other[k], v) for k, v in model.state_dict().items())
    assert not all(torch.equal(other[k], written[k]) for k in written if "running" in k)


def test_the_statistics_comparison_reports_each_layers_variance_ratio_and_mean_shift(tmp_path, capsys):
    """benchmarks/compare_bn_statistics.py: per BatchNorm layer, the variance ratio and the mean
    shift in units of the reference's standard deviation; unreadable input is one line, status 2."""
    import json

    from support.scripts import benchmark_script

    script = benchmark_script("compare_bn_statistics")
    torch.manual_seed(0)
    model = MAST(get_variant("mast"))
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    first = batchnorm_layers(model)[0]
    variance = first.running_var.clone()
    first.running_var.copy_(4.0 * variance)  # x4 variance
    first.running_mean.add_(2.0 * variance.sqrt())  # 2 sd shift
    torch.save(reference, tmp_path / "reference.pt")
    torch.save(model.state_dict(), tmp_path / "changed.pt")
    argv = ["--checkpoint", str(tmp_path / "changed.pt"), "--against", str(tmp_path / "reference.pt")]

    assert script.main([*argv, "--out", str(tmp_path / "shift.json")]) == 0
    layers = json.loads((tmp_path / "shift.json").read_text())["layers"]
    assert len(layers) == len(batchnorm_layers(model))
    changed, unchanged = layers[0], layers[1:]
    assert changed["variance_ratio_min"] == changed["variance_ratio_max"] == 4.0
    assert changed["mean_shift_sd_median"] == changed["mean_shift_sd_max"] == 2.0
    assert all(r["variance_ratio_max"] == 1.0 and r["mean_shift_sd_max"] == 0.0 for r in unchanged)

    (tmp_path / "bad.pt").write_text("not a checkpoint")
    assert (
        script.main(["--checkpoint", str(tmp_path / "bad.pt"), "--against", str(tmp_path / "reference.pt")])
        == 2
    )
    assert "bad.pt: cannot read as a torch checkpoint" in capsys.readouterr().err


def test_step_weights_are_what_each_steps_calls_leave_in_a_moving_average():
    weights, left = step_weights([2, 3], 0.1)
    assert left == pytest.approx(0.9**5)
    assert weights == pytest.approx([0.9**3 * (1 - 0.9**2), 1 - 0.9**3])
    assert sum(weights) + left == pytest.approx(1.0)


def test_replaying_a_stages_steps_gives_the_statistics_it_ended_with(tiny_davis, tmp_path):
    """With weights that did not move (a learning rate of 1e-30), the replayed encoder calls of the
    second stage's steps (its own batches and dropped channels: its seed and iteration offset) give
    its final statistics, up to what the first stage left, weighted by what the replay says is left."""
    from mast_bench.harness.presets import Preset, TrainStage
    from mast_bench.harness.training import stage_stream, train

    stage = dict(batch_size=2, frame_size=(32, 32), checkpoint_every=2, gaps=(1, 2))
    preset = Preset(
        name="two",
        max_side=None,
        stages=(
            TrainStage(name="pairs", iterations=2, lr=1e-3, **stage),
            TrainStage(name="still", iterations=3, lr=1e-30, **stage),
        ),
    )
    clips, variant = FrameFolderClips(tiny_davis), get_variant("mast")
    train(variant, preset, clips, tmp_path / "run", progress=False)
    before = _weights(tmp_path / "run" / "stages" / "1-pairs" / "checkpoint.pt")
    after = _weights(tmp_path / "run" / "stages" / "2-still" / "checkpoint.pt")
    model = MAST(variant)
    model.load_state_dict(after)

    seed, offset = stage_stream(preset, 1)
    assert offset == 2 and (seed, offset) != stage_stream(preset, 0)
    steps = replay_batchnorm_statistics(
        model, clips, preset.stages[1], seed, range(3), torch.device("cpu"), offset
    )

    assert [s.iteration for s in steps] == [0, 1, 2] and all(s.variances.shape[0] == 2 for s in steps)
    assert all(s.dropped_channel in (1, 2) and len(s.clips) == 2 for s in steps)
    assert all(s.sample_variances.shape[:2] == (2, 2) for s in steps)
    _, left = step_weights([2, 2, 2], 0.1)
    replayed = model.state_dict()
    for key in (k for k in after if k.endswith("running_mean")):
        torch.testing.assert_close(after[key], replayed[key] + left * before[key], rtol=1e-4, atol=1e-5)
    for key in (k for k in after if k.endswith("running_var")):
        torch.testing.assert_close(after[key], replayed[key] + left * (before[key] - 1), rtol=1e-4, atol=1e-5)
    shifted = replay_batchnorm_statistics(
        model, clips, preset.stages[1], seed, range(3), torch.device("cpu"), 0
    )
    assert [s.dropped_channel for s in shifted] != [s.dropped_channel for s in steps] or not all(
        torch.equal(a.variances, b.variances) for a, b in zip(shifted, steps, strict=True)
    )


def test_the_replay_script_accounts_for_each_step_and_refuses_bad_input(tiny_davis, tmp_path, capsys):
    """benchmarks/replay_batchnorm.py: one row per replayed step (weights that sum to 1 with what is
    left before them, the step's clips), the stem against --against, and per layer how the replayed
    statistics compare with the checkpoint's; a step count the stage lacks is one line, status 2."""
    import json

    from support.scripts import benchmark_script

    from mast_bench.model.checkpoint import read_state_dict

    script = benchmark_script("replay_batchnorm")
    torch.manual_seed(0)
    model = MAST(get_variant("mast"))
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    argv = ["--variant", "mast", "--checkpoint", str(tmp_path / "weights.pt"), "--preset", "smoke"]
    argv += ["--stage", "1", "--data", str(tiny_davis), "--device", "cpu"]

    out = ["--out", str(tmp_path / "replay.json"), "--weights-out", str(tmp_path / "replayed.pt")]
    assert script.main([*argv, "--steps", "3", *out]) == 0
    result = json.loads((tmp_path / "replay.json").read_text())
    rows = result["steps"]
    assert [r["iteration"] for r in rows] == [97, 98, 99] and result["replayed_iterations"] == [97, 100]
    assert sum(r["weight"] for r in rows) + result["weight_before_the_replay"] == pytest.approx(1.0, abs=1e-3)
    assert rows[-1]["weight"] > rows[0]["weight"]
    sequences = {p.name for p in (tiny_davis / "JPEGImages" / "480p").iterdir()}
    assert all(len(r["clips"]) == 2 and set(r["clips"]) <= sequences for r in rows)
    assert result["stem"] == "feature_extraction.conv1.1"  # the first BatchNorm layer: the stem's
    by_clip = result["clips"]
    assert sum(r["samples"] for r in by_clip) == 3 * 2 and {r["clip"] for r in by_clip} <= sequences
    assert [r["stem_variance_ratio_median"] for r in by_clip] == sorted(
        r["stem_variance_ratio_median"] for r in by_clip
    )
    layers = result["replayed_vs_checkpoint"]
    assert (
        len(layers) == len(batchnorm_layers(model))
        and result["checkpoint_vs_against"] is None is result["replayed_vs_against"]
    )
    assert "replayed / checkpoint variance" in capsys.readouterr().out
    replayed, original = read_state_dict(tmp_path / "replayed.pt"), model.state_dict()
    assert all(
        torch.equal(replayed[k], v) for k, v in original.items() if "running" not in k and "num_b" not in k
    )
    stem = (
        replayed["feature_extraction.conv1.1.running_var"]
        / original["feature_extraction.conv1.1.running_var"]
    )
    assert float(stem.median()) == pytest.approx(layers[0]["variance_ratio_median"], abs=1e-3)

    assert script.main([*argv, "--steps", "101"]) == 2
    assert "--steps 101: expected 1 to the stage's 100 iterations" in capsys.readouterr().err
    assert script.main([*argv, "--against", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt" in capsys.readouterr().err
    torch.save({"other.running_var": torch.ones(3)}, tmp_path / "other.pt")
    assert script.main([*argv, "--against", str(tmp_path / "other.pt")]) == 2
    assert "other.pt: holds no feature_extraction.conv1.1.running_var" in capsys.readouterr().err
    frozen = [*argv, "--variant", "mast-frozen-bn"]  # the later --variant wins
    assert script.main(frozen) == 2
    assert "keeps BatchNorm frozen in training" in capsys.readouterr().err


def test_the_script_refuses_a_seed_out_of_range_and_reads_a_variants_file(tiny_davis, tmp_path, capsys):
    """--seed -1 was accepted unchecked (training refuses it); a variant of one's own could not be
    named (the script read only the built-in registry)."""
    from support.scripts import benchmark_script

    script = benchmark_script("precise_bn")
    torch.save(MAST(get_variant("mast")).state_dict(), tmp_path / "weights.pt")
    variants = tmp_path / "mine.toml"
    variants.write_text('[variant.mine]\nbase = "mast"\ntest_radius = 9\n')
    argv = ["--checkpoint", str(tmp_path / "weights.pt"), "--preset", "smoke", "--stage", "1"]
    argv += [
        "--data",
        str(tiny_davis),
        "--iterations",
        "1",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "p.pt"),
    ]
    with pytest.raises(SystemExit) as refused:
        script.main([*argv, "--variant", "mast", "--seed", "-1"])
    assert refused.value.code == 2
    assert "argument --seed: expected a seed from 0 to 2**63 - 1, got -1" in capsys.readouterr().err
    assert not (tmp_path / "p.pt").exists()
    assert script.main([*argv, "--variant", "mine", "--variants-file", str(variants)]) == 0
    assert (tmp_path / "p.pt").is_file()
