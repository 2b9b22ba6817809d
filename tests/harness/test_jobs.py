"""End-to-end jobs on a tiny generated DAVIS layout (24x32 frames, 4 frames per sequence)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mast_bench.config import to_dict
from mast_bench.data import DavisDataset, read_label_map
from mast_bench.harness.presets import load_presets
from mast_bench.harness.preview import record_seconds
from mast_bench.harness.profiling import flop_counter
from mast_bench.harness.runner import plan_job, run_job, run_jobs, training_identity_of
from mast_bench.metrics import evaluate_semisupervised
from mast_bench.model.checkpoint import read_state_dict, state_dict_sha256
from mast_bench.protocols import get_protocol
from mast_bench.results import COPIED_FROM, ResultRecord, ResultStore
from mast_bench.variants import VariantConfig, derive_variant, get_variant

from .conftest import make_job, make_tiny_davis, tiny_preset

SIZE = (24, 32)


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("small"), {"one": 1, "two": 2}, frames=4, size=SIZE)


@pytest.fixture(scope="module")
def peaky_weights(shared_dir):
    # official-layout checkpoint whose affinities are peaky enough to track (README of the reference)
    return shared_dir / "reference" / "mast-official-cpu" / "weights_seed0_scaled.pt"


def _masks(results, record, sequences=("one", "two"), frames=4):
    root = results / record.masks
    return {(s, f): read_label_map(root / s / f"{f:05d}.png") for s in sequences for f in range(frames)}


@pytest.mark.slow
def test_job_with_official_checkpoint_writes_record_masks_and_profile(small_davis, peaky_weights, tmp_path):
    results = tmp_path / "res"
    job = make_job("mast", results, small_davis, checkpoint=str(peaky_weights), isolate=False)
    record = run_job(job)

    # identity
    ident = record.identity
    assert ident["checkpoint"]["kind"] == "file" and len(ident["checkpoint"]["sha256"]) == 64
    assert ident["dataset"]["sequences"] == ["one", "two"]
    assert ident["evaluation"] == {"task": "semi-supervised", "resolution": "480p", "max_side": 216}
    assert ident["protocol"]["name"] == "mast" and ident["protocol"]["config"]["name"] == "mast"
    assert ident["environment"]["device_type"] == "cpu" and ident["environment"]["threads"] >= 1
    # masks: DAVIS layout, dataset size, frame 0 = the annotation, objects tracked (not all background)
    masks = _masks(results, record)
    assert all(m.shape == SIZE for m in masks.values())
    first = DavisDataset(small_davis).sequence("two").first_labels()
    assert np.array_equal(masks[("two", 0)], first)
    assert set(np.unique(masks[("two", 3)])) == {0, 1, 2}
    # metrics equal an independent evaluation of the stored masks
    direct = evaluate_semisupervised(small_davis, results / record.masks, "val", ["one", "two"], n_jobs=1)
    assert record.metrics["global"]["J&F-Mean"] == pytest.approx(direct.global_metrics()["J&F-Mean"])
    assert record.metrics["global"]["J&F-Mean"] > 0.3
    assert {(o["sequence"], o["object"]) for o in record.metrics["per_object"]} == {
        ("one", 1),
        ("two", 1),
        ("two", 2),
    }
    assert len(record.metrics["per_frame"]) == 3 * 2  # frames 1..2 of each object (toolkit drops first/last)
    # profile: encoder FLOPs per frame = an independent count of one encode at this size
    from mast_bench.model import MAST
    from mast_bench.variants import get_variant

    with flop_counter() as counter, torch.inference_mode():
        MAST(get_variant("mast")).eval().encode(torch.zeros(1, 3, *SIZE))
    prof = record.profile
    assert prof["parameters"] == 5_291_648
    assert prof["gflops_per_frame"]["encoder"] == pytest.approx(counter.get_total_flops() / 1e9)
    assert prof["gflops_per_frame"]["memory_read"] > 0
    assert prof["frames"] == 8 and prof["frame_size"] == list(SIZE)
    assert prof["peak_memory_kind"] == "cpu-rss-isolated" and prof["peak_memory_bytes"] > 0
    assert 0 < prof["encoder_seconds_per_frame"] < prof["seconds_per_frame"]
    assert 0 < prof["matmul_fraction"] < 1.5
    # provenance and the table
    # the build imported (PyPI's CUDA wheel: "2.11.0+cu130", where its metadata says "2.11.0")
    assert record.provenance["packages"]["torch"] == torch.__version__
    assert record.provenance["packages"].get("cuda") == torch.version.cuda
    assert record.provenance["weights_sha256"] == state_dict_sha256(read_state_dict(peaky_weights))
    table = pd.read_csv(results / "records.csv")
    assert list(table["key"]) == [record.key]

    # identical job: the record is reused, nothing recomputed
    path = results / "records" / f"{record.key}.json"
    stamp = path.stat().st_mtime_ns
    again = run_job(job)
    assert again.key == record.key and path.stat().st_mtime_ns == stamp
    assert again.provenance["created"] == record.provenance["created"]
    # --force recomputes: same masks, new record file
    forced = run_job(replace(job, force=True))
    assert path.stat().st_mtime_ns != stamp
    assert all(
        np.array_equal(a, b) for a, b in zip(_masks(results, forced).values(), masks.values(), strict=True)
    )
    assert not list((results / "masks").glob(".*partial"))


def test_training_free_baseline_needs_no_checkpoint(small_davis, tmp_path):
    record = run_job(make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False))
    assert record.identity["checkpoint"]["kind"] == "none"
    assert record.profile["parameters"] == 0
    assert record.profile["gflops_per_frame"]["encoder"] == 0


@pytest.mark.slow
def test_the_same_weights_in_another_file_reuse_the_record(small_davis, peaky_weights, tmp_path, monkeypatch):
    """A moved checkpoint, or one retrained bit for bit (another file: it holds more than the
    weights), gets a record of its own path with the first one's results, not recomputed."""
    from mast_bench.harness import runner

    results = tmp_path / "res"
    first = run_job(make_job("mast", results, small_davis, checkpoint=str(peaky_weights), isolate=False))
    moved = tmp_path / "moved" / "weights.pt"
    moved.parent.mkdir()
    moved.write_bytes(peaky_weights.read_bytes())
    retrained = tmp_path / "retrained.pt"
    weights = torch.load(peaky_weights, weights_only=True)
    torch.save({"state_dict": weights, "seconds": 12.5}, retrained)

    def computed(*_args, **_kwargs):
        raise RuntimeError("computed again")

    monkeypatch.setattr(runner, "compute_record", computed)
    for path in (moved, retrained):
        again = run_job(make_job("mast", results, small_davis, checkpoint=str(path), isolate=False))
        assert again.key != first.key and again.identity["checkpoint"]["path"] == str(path.resolve())
        assert again.provenance["same_weights_as"] == first.key and again.metrics == first.metrics
        assert again.masks != first.masks
        assert all(
            np.array_equal(a, b)
            for a, b in zip(_masks(results, again).values(), _masks(results, first).values(), strict=True)
        )
        assert (
            run_job(make_job("mast", results, small_davis, checkpoint=str(path), isolate=False)).key
            == again.key
        )
    assert len(pd.read_csv(results / "records.csv")) == 3

    weights = dict(weights)
    name = next(iter(weights))
    weights[name] = weights[name] + 1e-3
    torch.save(weights, tmp_path / "other.pt")
    with pytest.raises(RuntimeError, match="computed again"):  # other weights are computed
        run_job(make_job("mast", results, small_davis, checkpoint=str(tmp_path / "other.pt"), isolate=False))


@pytest.mark.slow
def test_isolated_worker_measures_its_own_peak(small_davis, tmp_path):
    record = run_job(make_job("mast-lab-pixels", tmp_path / "r", small_davis))
    assert record.profile["peak_memory_kind"] == "cpu-rss-isolated"
    assert 0 < record.profile["peak_memory_bytes"] < 4 * 2**30


@pytest.mark.slow
def test_identical_masks_alone_together_and_in_parallel(small_davis, peaky_weights, tmp_path):
    common = dict(checkpoint=str(peaky_weights), isolate=False, threads=1)
    together = run_job(make_job("mast", tmp_path / "a", small_davis, **common))
    alone = [
        run_job(make_job("mast", tmp_path / "b", small_davis, sequences=(s,), **common))
        for s in ("one", "two")
    ]
    parallel = run_jobs(
        [make_job("mast", tmp_path / "c", small_davis, sequences=(s,), **common) for s in ("one", "two")],
        n_jobs=2,
    )
    reference = _masks(tmp_path / "a", together)
    for records, root in ((alone, tmp_path / "b"), (parallel, tmp_path / "c")):
        for record, seq in zip(records, ("one", "two"), strict=True):
            got = _masks(root, record, sequences=(seq,))
            assert all(np.array_equal(got[k], reference[k]) for k in got)
    table = ResultStore(tmp_path / "c").table()
    assert sorted(table["sequences"]) == ["one", "two"]


def test_record_json_matches_design_schema(small_davis, tmp_path):
    record = run_job(make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False))
    data = json.loads((tmp_path / "r" / "records" / f"{record.key}.json").read_text())
    assert set(data) == {"schema", "key", "identity", "provenance", "metrics", "profile", "train", "masks"}
    assert set(data["identity"]) == {
        "variant",
        "variant_config",
        "protocol",
        "checkpoint",
        "dataset",
        "evaluation",
        "environment",
        "code_version",
    }
    assert set(data["identity"]["environment"]) == {"device_type", "threads", "torch", "kernels"}
    assert set(data["provenance"]) == {
        "git_revision",
        "git_dirty",
        "packages",
        "device",
        "hostname",
        "seed",
        "created",
        "command",
        "data_root",
        "weights_sha256",
    }
    assert data["provenance"]["weights_sha256"] is None  # a weight-free baseline
    assert "root" not in data["identity"]["dataset"]  # contents (the fingerprint) identify the data
    assert set(data["metrics"]["global"]) >= {
        "J&F-Mean",
        "J-Mean",
        "J-Recall",
        "J-Decay",
        "F-Mean",
        "F-Recall",
    }
    assert set(data["profile"]) == {
        "parameters",
        "gflops_per_frame",
        "flops_unit",
        "seconds_per_frame",
        "encoder_seconds_per_frame",
        "frames_per_second",
        "peak_memory_bytes",
        "peak_memory_kind",
        "cuda_max_reserved_bytes",
        "matmul_fraction",
        "frames",
        "frame_size",
    }


@pytest.mark.slow
def test_trainable_variant_without_checkpoint_is_trained_then_reused(small_davis, tmp_path):
    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
        "checkpoint_every = 1\nmax_side = 24\n"
    )
    job = make_job("mast", tmp_path / "r", small_davis, preset=load_presets(presets)["t"], isolate=False)
    record = run_job(job)
    ckpt = record.identity["checkpoint"]
    assert ckpt["kind"] == "trained" and ckpt["train_preset"] == "t"
    assert (tmp_path / "r" / ckpt["path"]).is_file()
    assert record.train["iterations"] == 2 and len(record.train["loss_curve"]) == 2
    assert record.identity["evaluation"]["max_side"] == 24
    # masks at the dataset's size although the network saw 18x24 frames
    assert read_label_map(tmp_path / "r" / record.masks / "two" / "00002.png").shape == SIZE
    assert record.profile["frame_size"] == [18, 24]
    # same job again: reused, no retraining
    stamp = (tmp_path / "r" / ckpt["path"]).stat().st_mtime_ns
    assert run_job(job).key == record.key
    assert (tmp_path / "r" / ckpt["path"]).stat().st_mtime_ns == stamp


def test_variants_that_differ_only_at_test_time_share_one_training(small_davis, tmp_path, monkeypatch):
    """`ablate radius` trained three identical models: the test window never reaches training."""
    import mast_bench.harness.runner as runner_module

    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.t]\niterations = 2\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
        "checkpoint_every = 1\nmax_side = 24\n"
    )
    preset, said = load_presets(presets)["t"], []
    monkeypatch.setattr(runner_module, "tell", said.append)
    jobs = {
        name: make_job(name, tmp_path / "r", small_davis, preset=preset, isolate=False)
        for name in ("mast", "mast-r6", "mast-first-short", "mast-rgb")
    }
    first = run_job(jobs["mast"])
    trained = tmp_path / "r" / first.identity["checkpoint"]["path"]
    stage = next((trained.parent / "stages").rglob("checkpoint.pt")).relative_to(trained.parent)
    killed = plan_job(jobs["mast-r6"]).train_dir / stage  # its own run, killed before the take
    killed.parent.mkdir(parents=True)
    killed.write_bytes(b"iteration 25 of a killed run")
    (killed.parents[2] / "tensorboard").mkdir()
    (killed.parents[2] / "tensorboard" / "events.out.tfevents.killed").write_bytes(b"its curves")
    for name in ("mast-r6", "mast-first-short"):
        record = run_job(jobs[name])
        taken = tmp_path / "r" / record.identity["checkpoint"]["path"]
        assert taken != trained and os.path.samefile(taken, trained)  # a link to the same weights
        assert record.train["weights_taken_from"] == trained.parent.name
        assert record.train["loss_curve"] == first.train["loss_curve"]
        assert record.identity["variant_config"] == to_dict(jobs[name].variant)  # its own record, its own key
        assert os.path.samefile(taken.parent / stage, trained.parent / stage)  # every stage's weights too
        assert not (taken.parent / "tensorboard" / "events.out.tfevents.killed").exists()
    assert "test_radius: 12 there, 6 here only" in said[0]
    assert "schedule: 'official' there, 'first-short' here only" in said[1]
    assert record_seconds(record) == record.profile["seconds_per_frame"] * record.profile["frames"]
    other = run_job(jobs["mast-rgb"])  # RGB input is trained: its own run
    assert "weights_taken_from" not in other.train and len(said) == 2
    (taken.parent / "train.json").unlink()  # a take killed after its stage links, before its end
    (taken.parent / "checkpoint.pt").unlink()
    again = run_job(replace(jobs["mast-first-short"], force=True))  # the next one finishes the take
    assert again.train["weights_taken_from"] == trained.parent.name and len(said) == 3
    (trained.parent / "identity.json").unlink()  # only taken folders are found now: the source is named
    chained = run_job(make_job("mast-r9", tmp_path / "r", small_davis, preset=preset, isolate=False))
    assert chained.train["weights_taken_from"] == trained.parent.name


def test_the_memory_arms_share_a_pairs_only_training(small_davis, tmp_path, monkeypatch):
    """`ablate offset_bug`, `dilation` and `memory` trained each arm on the smoke preset, whose
    pairs never reach the long-term read; the full memory reads every reference, and trains."""
    import mast_bench.harness.runner as runner_module

    said = []
    monkeypatch.setattr(runner_module, "tell", said.append)
    records = {
        name: run_job(make_job(name, tmp_path / "r", small_davis, preset=tiny_preset(), isolate=False))
        for name in ("mast", "mast-official", "mast-dil1", "mast-full-memory")
    }
    trained = Path(records["mast"].identity["checkpoint"]["path"]).parent.name
    assert [records[n].train.get("weights_taken_from") for n in records] == [None, trained, trained, None]
    assert "offset_bug: 'fixed' there, 'official' here only" in said[0]
    assert "dilation_set: [2, 3, 4] there, [1] here" in said[1]
    assert records["mast-official"].train["loss_curve"] == records["mast"].train["loss_curve"]
    assert records["mast-full-memory"].train["loss_curve"] != records["mast"].train["loss_curve"]


@pytest.fixture(scope="module")
def long_davis(tmp_path_factory):
    """Sequences long enough for the memory stages' long-term references (24 frames)."""
    return make_tiny_davis(tmp_path_factory.mktemp("long"), {"a": 1, "b": 2}, frames=24, size=SIZE)


def _chain(tmp_path: Path):
    from .test_training import CHAIN_TOML

    (tmp_path / "chain.toml").write_text(CHAIN_TOML.format(memory_iterations=2))
    return load_presets(tmp_path / "chain.toml")["chain"]


def _stage_weights(record: ResultRecord, results: Path, stage: str) -> str:
    """A digest of the stage's trained tensors (the file holds the variant's name and the seconds too)."""
    folder = results / Path(record.identity["checkpoint"]["path"]).parent
    return state_dict_sha256(read_state_dict(folder / "stages" / stage / "checkpoint.pt"))


@pytest.mark.slow
def test_the_memory_arms_train_their_pairs_stage_once(long_davis, tmp_path):
    """`ablate dilation --preset cpu` trained the 1500-iteration pairs stage once per arm, though it
    never reads the long-term search: the second arm now copies it and trains the memory stages."""
    jobs = [
        make_job(n, tmp_path / "r", long_davis, preset=_chain(tmp_path), isolate=False)
        for n in ("mast", "mast-dil1")
    ]
    first, second = (run_job(job) for job in jobs)
    source = Path(first.identity["checkpoint"]["path"]).parent.name
    assert [stage.get(COPIED_FROM) for stage in second.train["stages"]] == [source, None, None]
    assert _stage_weights(second, tmp_path / "r", "1-pairs") == _stage_weights(
        first, tmp_path / "r", "1-pairs"
    )
    straight = run_job(replace(jobs[1], results=str(tmp_path / "straight")))  # the arm trained alone
    assert straight.train["loss_curve"] == second.train["loss_curve"]
    assert _stage_weights(straight, tmp_path / "straight", "3-final") == _stage_weights(
        second, tmp_path / "r", "3-final"
    )
    assert _stage_weights(second, tmp_path / "r", "3-final") != _stage_weights(
        first, tmp_path / "r", "3-final"
    )
    own = sum(stage["seconds"] for stage in second.train["stages"][1:])  # the copied stage is not its time
    propagation = second.profile["seconds_per_frame"] * second.profile["frames"]
    assert record_seconds(second) == pytest.approx(propagation + own)


@pytest.mark.slow
def test_memory_arms_run_at_once_train_their_pairs_stage_once(long_davis, tmp_path):
    jobs = [
        make_job(n, tmp_path / "r", long_davis, preset=_chain(tmp_path), isolate=False)
        for n in ("mast", "mast-dil1")
    ]
    records = run_jobs(jobs, n_jobs=2)
    copied = [record.train["stages"][0].get(COPIED_FROM) for record in records]
    assert sorted(copied, key=str) == sorted(
        [None, Path(records[copied.index(None)].identity["checkpoint"]["path"]).parent.name], key=str
    )
    assert len({_stage_weights(record, tmp_path / "r", "1-pairs") for record in records}) == 1


def test_jobs_that_would_wait_for_another_ones_training_run_after_the_rest(
    small_davis, long_davis, tmp_path, monkeypatch
):
    """`run --variant mast,mast-rgb --protocol mast,crw --jobs 2` held a worker idle: mast under crw
    waited for mast's training while mast-rgb's waited its turn. Records still come back in order."""
    import mast_bench.harness.runner as runner_module

    def names(jobs):
        return [f"{job.variant.name} {job.protocol.name}" for job in jobs]

    ran = []

    def run_in_order(fn, items, *rest):
        ran.extend(items)
        return names(items)

    monkeypatch.setattr(runner_module, "map_jobs", run_in_order)
    crw, preset = get_protocol("crw"), tiny_preset()
    pairs = [
        make_job(name, tmp_path / "r", small_davis, preset=preset, **({"protocol": crw} if crw_too else {}))
        for name in ("mast", "mast-rgb", "mast-lab-pixels")
        for crw_too in (False, True)
    ]
    given = names(pairs)
    assert training_identity_of(pairs[0]) == plan_job(pairs[0]).train_identity  # without the data check
    assert run_jobs(pairs, n_jobs=2) == given
    assert names(ran) == [given[i] for i in (0, 2, 4, 5, 1, 3)]
    ran.clear()
    assert run_jobs(pairs, n_jobs=1) == given and names(ran) == given  # one at a time: as given
    arms = [  # the memory arms share their pairs stage: the second waits for the first's
        make_job(name, tmp_path / "r", long_davis, preset=_chain(tmp_path))
        for name in ("mast", "mast-dil1", "mast-rgb")
    ]
    ran.clear()
    run_jobs(arms, n_jobs=2)
    assert [job.variant.name for job in ran] == ["mast", "mast-rgb", "mast-dil1"]


@pytest.mark.slow
def test_a_kill_after_the_pairs_stage_is_copied_leaves_no_snapshot_behind(long_davis, tmp_path, monkeypatch):
    """The stage checkpoint was copied before its snapshots: a kill between the two left the arm
    without them for good (its learning curve refused the run), the rerun finding the stage there."""
    import mast_bench.harness.branch as branch_module

    jobs = [
        make_job(n, tmp_path / "r", long_davis, preset=_chain(tmp_path), isolate=False)
        for n in ("mast", "mast-dil1")
    ]
    run_job(jobs[0])
    copy = branch_module._copy

    def killed_after_a_stage(source: Path, target: Path) -> bool:
        copy(source, target)
        if target.parent.parent.name == "stages":
            raise KeyboardInterrupt
        return True

    monkeypatch.setattr(branch_module, "_copy", killed_after_a_stage)
    with pytest.raises(KeyboardInterrupt):
        run_job(jobs[1])
    monkeypatch.setattr(branch_module, "_copy", copy)
    arm = run_job(jobs[1])
    straight = run_job(replace(jobs[1], results=str(tmp_path / "straight")))
    snapshots = [
        sorted(
            p.name for p in (results / Path(r.identity["checkpoint"]["path"]).parent / "snapshots").iterdir()
        )
        for r, results in ((arm, tmp_path / "r"), (straight, tmp_path / "straight"))
    ]
    assert snapshots[0] == snapshots[1] and arm.train["loss_curve"] == straight.train["loss_curve"]


@pytest.mark.slow
def test_presets_that_keep_other_snapshots_in_the_pairs_stage_do_not_share_it(long_davis, tmp_path):
    """The copier got only the snapshots the source had kept: one its own preset asked for was missing."""
    chain = _chain(tmp_path)
    other = replace(chain, snapshots=(0.0, 0.25, 1.0))  # iteration 2 falls in the pairs stage
    run_job(make_job("mast", tmp_path / "r", long_davis, preset=chain, isolate=False))
    arm = run_job(make_job("mast-dil1", tmp_path / "r", long_davis, preset=other, isolate=False))
    assert all(COPIED_FROM not in stage for stage in arm.train["stages"])
    folder = tmp_path / "r" / Path(arm.identity["checkpoint"]["path"]).parent / "snapshots"
    assert sorted(p.name for p in folder.iterdir()) == [f"iter-{i:07d}.pt" for i in (0, 2, 6)]


def _killed_after(job, iterations: int, monkeypatch) -> list[str]:
    """Run ``job`` until a kill after ``iterations`` training steps; the returned list then names the
    folder of every training started (the killed one first)."""
    import mast_bench.harness.training as training_module

    trained_in, train = [], training_module.train

    def killed(config, preset, clips, out_dir, device, progress, **_):
        trained_in.append(Path(out_dir).name)
        train(config, preset, clips, out_dir, device, progress, stop_after=iterations)
        raise KeyboardInterrupt

    monkeypatch.setattr(training_module, "train", killed)
    with pytest.raises(KeyboardInterrupt):
        run_job(job)
    monkeypatch.setattr(
        training_module, "train", lambda *a, **k: trained_in.append(Path(a[3]).name) or train(*a, **k)
    )
    return trained_in


@pytest.mark.slow
def test_after_a_kill_in_the_shared_pairs_stage_the_arm_that_comes_first_resumes_it(
    long_davis, tmp_path, monkeypatch
):
    jobs = [
        make_job(n, tmp_path / "r", long_davis, preset=_chain(tmp_path), isolate=False)
        for n in ("mast", "mast-dil1")
    ]
    trained_in = _killed_after(jobs[0], 1, monkeypatch)
    arm = run_job(jobs[1])  # the other arm gets here first: the pairs stage goes on in mast's folder
    mast_folder = trained_in[0]
    assert trained_in[:2] == [mast_folder, mast_folder] and arm.train["stages"][0][COPIED_FROM] == mast_folder
    straight = run_job(replace(jobs[1], results=str(tmp_path / "straight")))
    assert straight.train["loss_curve"] == arm.train["loss_curve"]
    again = run_job(jobs[0])  # mast goes on after its pairs stage
    assert COPIED_FROM not in again.train["stages"][0]
    assert again.train["loss_curve"][:2] == arm.train["loss_curve"][:2]


def test_twins_run_at_once_train_once(small_davis, tmp_path):
    """With --jobs 2 each twin looked for a complete twin before either had trained, and both trained."""
    jobs = [
        make_job(name, tmp_path / "r", small_davis, preset=tiny_preset(), isolate=False)
        for name in ("mast", "mast-r6")
    ]
    records = run_jobs(jobs, n_jobs=2)
    taken = [record.train.get("weights_taken_from") for record in records]
    trained = [Path(record.identity["checkpoint"]["path"]).parent.name for record in records]
    assert sorted(taken, key=str) == sorted([None, trained[taken.index(None)]], key=str)
    assert records[0].train["loss_curve"] == records[1].train["loss_curve"]


def test_after_a_kill_the_twin_that_comes_first_resumes_the_stopped_run(small_davis, tmp_path, monkeypatch):
    """Twins rerun at once after a kill: the one that got the lock first trained from the first step
    in its own folder, and the killed run's progress was thrown away."""
    jobs = [
        make_job(name, tmp_path / "r", small_davis, preset=tiny_preset(), isolate=False)
        for name in ("mast", "mast-r6")
    ]
    trained_in = _killed_after(jobs[0], 2, monkeypatch)
    record = run_job(jobs[1])  # the twin gets here first: the run goes on in mast's folder, then is taken
    assert trained_in == [trained_in[0]] * 2 and record.train["weights_taken_from"] == trained_in[0]
    assert run_job(jobs[0]).train["loss_curve"] == record.train["loss_curve"]
    straight = run_job(replace(jobs[0], results=str(tmp_path / "straight")))
    assert straight.train["loss_curve"] == record.train["loss_curve"]  # resumed as a straight run trains


def test_a_refused_training_leaves_no_training_folder(small_davis, tmp_path):
    """The training folder's identity was written before training's own refusals."""
    from mast_bench.errors import DataError

    labels = small_davis / "Annotations" / "480p"
    job = make_job(
        "mast", tmp_path / "r", small_davis, preset=tiny_preset(), isolate=False, train_data=str(labels)
    )
    with pytest.raises(DataError, match="a palette image"):
        run_job(job)
    assert not list((tmp_path / "r" / "checkpoints").glob("*"))


@pytest.mark.slow
def test_isolated_jobs_on_a_dask_cluster_of_worker_processes(small_davis, tmp_path):
    distributed = pytest.importorskip("distributed")
    jobs = [make_job("mast-lab-pixels", tmp_path / "r", small_davis, sequences=(s,)) for s in ("one", "two")]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as c:
        records = run_jobs(jobs, backend="dask", scheduler=c.scheduler_address)
    assert [r.identity["dataset"]["sequences"] for r in records] == [["one"], ["two"]]
    assert all(r.profile["peak_memory_kind"] == "cpu-rss-isolated" for r in records)
    assert len(ResultStore(tmp_path / "r").table()) == 2


def test_a_variant_made_at_run_time_runs_in_the_isolated_worker(small_davis, tmp_path):
    """The job carries the config itself: the worker never looks a name up in a registry."""
    mine = VariantConfig(name="my-pixels", features="lab-pixels", channel_dropout=False, test_radius=3)
    record = run_job(make_job(mine, tmp_path / "r", small_davis))
    assert record.identity["variant"] == "my-pixels"
    assert record.identity["variant_config"]["test_radius"] == 3
    assert record.profile["peak_memory_kind"] == "cpu-rss-isolated"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["dask", "submitit"])
def test_a_variant_made_at_run_time_runs_on_dask_and_submitit(backend, small_davis, tmp_path):
    """Neither a Dask worker process nor a submitit job has this variant registered: it travels in the job."""
    mine = VariantConfig(name="my-pixels", features="lab-pixels", channel_dropout=False, test_radius=3)
    job = make_job(mine, tmp_path / "r", small_davis, sequences=("one",))
    if backend == "dask":
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as c:
            (record,) = run_jobs([job], backend="dask", scheduler=c.scheduler_address)
    else:
        pytest.importorskip("submitit")
        (record,) = run_jobs([job], backend="submitit", folder=tmp_path / "logs", cluster="local")
    assert record.identity["variant"] == "my-pixels"
    assert record.identity["variant_config"]["test_radius"] == 3
    assert record.key == run_job(replace(job, isolate=False)).key  # the same identity as in-process


def test_identical_jobs_run_once_and_a_derived_variant_keeps_its_config(small_davis, tmp_path):
    derived = derive_variant(get_variant("mast-lab-pixels"), {"test_radius": 4})
    assert derived.name == "mast-lab-pixels+test_radius=4"
    job = make_job(derived, tmp_path / "r", small_davis, isolate=False)
    first, second = run_jobs([job, job])
    assert first.key == second.key
    assert len(list((tmp_path / "r" / "records").glob("*.json"))) == 1
    assert first.identity["variant_config"]["test_radius"] == 4


def test_the_protocol_reaches_the_isolated_worker(small_davis, tmp_path):
    """The masks of a CRW job are those of a CRW propagation here, and differ from MAST's."""
    from mast_bench.data.splits import DataSpec, open_split
    from mast_bench.harness.segmentation import segment_split
    from mast_bench.model import create_model
    from mast_bench.protocols import get_protocol

    crw, mast = get_protocol("crw"), get_protocol("mast")
    records = run_jobs(
        [make_job("mast-lab-pixels", tmp_path / "r", small_davis, protocol=p) for p in (crw, mast)]
    )
    assert [r.identity["protocol"]["name"] for r in records] == ["crw", "mast"]
    split = open_split(DataSpec(root=str(small_davis)))
    model = create_model("mast-lab-pixels")
    segment_split(model, split, tmp_path / "here", crw, max_side=216, progress=False)
    by_job = _masks(tmp_path / "r", records[0])
    here = {(s, f): read_label_map(tmp_path / "here" / s / f"{f:05d}.png") for s, f in by_job}
    assert all(np.array_equal(by_job[k], here[k]) for k in by_job)
    assert any(not np.array_equal(by_job[k], v) for k, v in _masks(tmp_path / "r", records[1]).items())


def test_evaluation_propagates_in_ieee_fp32_whatever_the_caller_set(small_davis, tmp_path, monkeypatch):
    """CUDA labels equal the CPU's only without TF32, so the evaluation loop turns it off (and back)."""
    from mast_bench.data.splits import DataSpec, open_split
    from mast_bench.harness import segmentation
    from mast_bench.model import create_model
    from mast_bench.model.precision import _switches, fp32_precision
    from mast_bench.protocols import get_protocol

    def state() -> list[object]:
        return [getattr(owner, name) for owner, name, _ in _switches()]

    seen = []
    monkeypatch.setattr(segmentation, "_segment_video", lambda *args: seen.append(state()))
    split = open_split(DataSpec(root=str(small_davis)))
    with fp32_precision("tf32"):
        tf32 = state()
        segmentation.segment_split(
            create_model("mast-lab-pixels"), split, tmp_path, get_protocol("mast"), progress=False
        )
        assert state() == tf32
    assert seen and all(s != tf32 and s in (["ieee"] * 2, [False] * 2) for s in seen)
