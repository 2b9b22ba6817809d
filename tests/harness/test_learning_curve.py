"""Learning curves: the kept weights, their scores beside the baselines, and the training report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from mast_bench.harness.job import DataSpec
from mast_bench.harness.learning_curve import CurveRequest, kept_weights, run_learning_curve
from mast_bench.harness.presets import get_preset
from mast_bench.protocols import get_protocol
from mast_bench.report.stats import block_bootstrap_ci
from mast_bench.report.training import write_training_report
from mast_bench.results import read_curve
from mast_bench.variants import get_variant

from .conftest import make_tiny_davis
from .test_training import CHAIN_TOML


@pytest.fixture(scope="module")
def curve(tmp_path_factory):
    """One tiny learning curve, scored in this process under the MAST protocol."""
    root = tmp_path_factory.mktemp("curve")
    data = make_tiny_davis(root / "data", {"a": 1, "b": 2}, frames=24)
    (root / "p.toml").write_text(CHAIN_TOML.format(memory_iterations=2))
    request = CurveRequest(
        variant=get_variant("mast-scaled"),
        preset=get_preset("chain", root / "p.toml"),
        train_data=str(data),
        train_out=str(root / "run"),
        data=DataSpec(root=str(data)),
        protocols=(get_protocol("mast"),),
        baselines=(get_variant("mast-lab-pixels"),),
        results=str(root / "results"),
        max_side=48,
        progress=False,
        isolate=False,
        command="test",
    )
    manifest = read_curve(run_learning_curve(request, {"cpu_model": "test"}))
    return root, request, manifest


@pytest.mark.slow
def test_every_snapshot_and_stage_end_is_scored_beside_the_baselines(curve):
    root, request, manifest = curve
    kept = kept_weights(request.variant, request.preset, root / "run")
    assert [(w.iteration, w.stage, w.label) for w in kept] == [
        (0, "pairs", "random init"), (2, "pairs", "end of pairs"), (3, "memory", "50 %"),
        (4, "memory", "end of memory"), (6, "final", "end of final"),
    ]  # fmt: skip
    assert [(p.iteration, p.protocol) for p in manifest.points] == [(i, "mast") for i in (0, 2, 3, 4, 6)]
    assert [(b.variant, b.protocol) for b in manifest.baselines] == [("mast-lab-pixels", "mast")]
    records = root / "results" / "records"
    for point in manifest.points:
        record = json.loads((records / f"{point.record}.json").read_text())
        assert record["identity"]["checkpoint"]["kind"] == "file"
        expected = hashlib.sha256(kept[[w.iteration for w in kept].index(point.iteration)].path.read_bytes())
        assert record["identity"]["checkpoint"]["sha256"] == expected.hexdigest()
    assert [s["name"] for s in manifest.train["stages"]] == ["pairs", "memory", "final"]


@pytest.mark.slow
def test_the_training_report_is_self_contained_and_reproducible(curve, tmp_path):
    root, _, manifest = curve
    first = write_training_report(root / "results", manifest, tmp_path / "a").parent
    second = write_training_report(root / "results", manifest, tmp_path / "b").parent
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert (
        Path("report.md") in files and Path("figures/loss.png") in files and Path("figures/jf.png") in files
    )
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)  # same bytes
    text = (first / "report.md").read_text()
    assert "## Verdict" in text and "final (end of final) vs random init" in text
    assert "final vs mast-lab-pixels" in text and "Made by: `test`" in text
    vendored = sorted(p.stem for p in (first / "results" / "records").iterdir())
    assert vendored == sorted({p.record for p in manifest.points} | {b.record for b in manifest.baselines})
    assert read_curve(next((first / "results" / "studies").iterdir())) == manifest


def test_a_report_folder_that_would_replace_the_results_store_is_refused(curve, tmp_path, capsys):
    """`learning-curve --out .` beside the default ./results: the report publishes its own results/
    (the records it cites) whole, and deleted the store's masks, checkpoints and other records."""
    from mast_bench.__main__ import main
    from mast_bench.errors import ConfigError

    root, _, manifest = curve
    before = sorted(p.relative_to(root) for p in (root / "results").rglob("*"))
    with pytest.raises(ConfigError, match=r"report's results/ there would replace the results store"):
        write_training_report(root / "results", manifest, root)
    with pytest.raises(ConfigError, match=r"records: inside the results store's records/"):
        write_training_report(root / "results", manifest, root / "results" / "records")
    assert sorted(p.relative_to(root) for p in (root / "results").rglob("*")) == before
    words = ["learning-curve", "--variant", "mast", "--preset", "cpu", "--train-data", str(tmp_path)]
    assert main([*words, "--results", str(root / "results"), "--out", str(root)]) == 2  # before training
    assert "would replace the results store" in capsys.readouterr().err


def test_a_curve_that_replaces_one_of_other_data_says_so_before_the_work(curve, tmp_path, monkeypatch):
    """A second curve of the variant and preset (other training data, other evaluation) replaced
    the first's manifest and report in the same results, silently."""
    from dataclasses import replace

    import mast_bench.harness.learning_curve as curves

    _, request, _ = curve
    said = []
    monkeypatch.setattr(curves, "tell", said.append)
    curves.say_replaced_curve(request)  # the same curve again: nothing to say
    curves.say_replaced_curve(replace(request, max_side=64, train_data=str(tmp_path)))
    assert (
        len(said) == 1 and said[0].startswith("note: ") and "learning-curve-mast-scaled.chain.json" in said[0]
    )
    assert (
        f"with train_data {request.train_data!r}, max_side 48; this one replaces it and its report" in said[0]
    )


@pytest.mark.parametrize("other", ["variant", "training data"])
def test_a_finished_run_of_other_training_is_refused_not_scored(other, curve, tmp_path):
    """A finished run in the training folder was scored whatever trained it: a curve of another
    variant or on other data published that run's weights under its own labels."""
    from dataclasses import replace

    from mast_bench.errors import UserError
    from mast_bench.harness.learning_curve import train_curve

    _, request, _ = curve
    if other == "variant":
        changed = replace(request, variant=get_variant("mast-rgb"))
        said = "stages/1-pairs/checkpoint.pt: holds a run of another variant/preset; use another run folder"
    else:
        changed = replace(request, train_data=str(make_tiny_davis(tmp_path / "other", {"z": 1}, frames=24)))
        said = (
            "train-data.json: this run trained on other data (2 clips (a, b) there, 1 (z) here); "
            "use another run folder, or the data it was trained on"  # learning-curve's flags are others
        )
    with pytest.raises(UserError) as caught:
        train_curve(changed)
    assert f"{request.train_out}/{said}" in str(caught.value)


TWO_PRESETS = """
[preset.first]
snapshots = [0.0, 0.75, 1.0]
[[preset.first.stage]]
name = "pairs"
iterations = 2
batch_size = 2
lr = 1e-3
frame_size = [32, 32]
gaps = [1, 2]
[[preset.first.stage]]
name = "tune-a"
iterations = 2
batch_size = 2
lr = 1e-3
frame_size = [32, 32]
gaps = [1, 2]

[preset.second]
base = "first"
[[preset.second.stage]]
base = "pairs"
[[preset.second.stage]]
base = "tune-a"
name = "tune-b"
lr = 1e-5
"""


def test_a_snapshot_another_preset_kept_in_the_run_folder_is_trained_again_or_refused(tmp_path):
    """Two presets sharing their first stage trained in one folder: the second kept the first's
    snapshot inside its own later stage (the file was there), and its learning curve scored it."""
    from mast_bench.data.clips import FrameFolderClips
    from mast_bench.errors import DataError
    from mast_bench.harness.training import snapshot_path, train
    from mast_bench.model.checkpoint import read_state_dict, state_dict_sha256

    (tmp_path / "p.toml").write_text(TWO_PRESETS)
    first, second = (get_preset(name, tmp_path / "p.toml") for name in ("first", "second"))
    clips, variant = (
        FrameFolderClips(make_tiny_davis(tmp_path / "clips", {"a": 1}, frames=8)),
        get_variant("mast"),
    )
    for preset, folder in ((first, "shared"), (second, "shared"), (second, "straight")):
        train(variant, preset, clips, tmp_path / folder, progress=False)
    kept = [
        state_dict_sha256(read_state_dict(snapshot_path(tmp_path / f, 3))) for f in ("shared", "straight")
    ]
    assert kept[0] == kept[1]  # the second preset's own weights at iteration 3, not the first's
    assert [w.iteration for w in kept_weights(variant, second, tmp_path / "shared")] == [0, 2, 3, 4]
    train(variant, first, clips, tmp_path / "shared", progress=False)  # complete: trains nothing again
    with pytest.raises(DataError, match=r"iter-0000003.pt: not this run's snapshot at iteration 3"):
        kept_weights(variant, first, tmp_path / "shared")


def test_block_bootstrap_respects_the_blocks():
    rng = np.random.default_rng(0)
    flat = [rng.normal(1.0, 0.1, 40) for _ in range(4)]
    interval = block_bootstrap_ci(flat, block=10)
    assert interval.n == 160 and interval.low < 1.0 < interval.high
    assert interval.estimate == pytest.approx(np.concatenate(flat).mean())
    # one object far off: the interval widens, and an empty input gives NaN
    assert block_bootstrap_ci([*flat[:3], flat[3] + 5], block=10).high - interval.high > 1
    assert np.isnan(block_bootstrap_ci([np.array([])]).estimate)


def test_a_preset_without_snapshots_is_refused(tmp_path, capsys):
    from mast_bench.__main__ import main

    words = ["learning-curve", "--variant", "mast", "--preset", "smoke", "--train-data", str(tmp_path)]
    assert main(words) == 2
    assert "keeps no snapshots" in capsys.readouterr().err


@pytest.mark.parametrize(
    "fault", ["truncated annotation", "first frames only", "pretrained baseline", "dino-64 at 32"]
)
def test_what_would_fail_after_the_training_is_refused_before_it(fault, tmp_path, capsys, monkeypatch):
    """The evaluation set and the baselines are checked first: found after the training, their fault
    would cost the hours the training took (a learning curve trains, then scores)."""
    import mast_bench.harness.learning_curve as curves
    from mast_bench.__main__ import main

    train = make_tiny_davis(tmp_path / "train", {"a": 1}, frames=12)
    data = make_tiny_davis(tmp_path / "eval", {"a": 1, "b": 2}, frames=6)
    culprit = data / "Annotations/480p/b/00003.png"
    baselines = ["--baselines", "resnet18-imagenet"] if fault == "pretrained baseline" else []
    if fault == "dino-64 at 32":
        baselines = ["--protocol", "dino-64", "--max-side", "32"]
    if fault == "truncated annotation":
        culprit.write_bytes(culprit.read_bytes()[:-30])
    elif fault == "first frames only":
        for path in culprit.parent.glob("*.png"):
            if path.stem != "00000":
                path.unlink()
    monkeypatch.setattr(curves, "train_curve", lambda request: pytest.fail("trained before checking"))
    (tmp_path / "p.toml").write_text(CHAIN_TOML.format(memory_iterations=2))
    words = ["learning-curve", "--variant", "mast-scaled", "--presets", str(tmp_path / "p.toml")]
    words += ["--preset", "chain", "--train-data", str(train), "--data", str(data)]
    assert main([*words, *baselines, "--results", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    expected = {
        "truncated annotation": "b/00003.png",
        "first frames only": "1 of 6 frames annotated",
        "pretrained baseline": "baseline 'resnet18-imagenet' reads a pretrained resnet18 trunk",
        "dino-64 at 32": "protocol dino-64: max_side 32: this protocol's network side is a multiple of 64",
    }[fault]
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
