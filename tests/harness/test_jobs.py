"""End-to-end jobs on a tiny generated DAVIS layout (24x32 frames, 4 frames per sequence)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mast_bench.data import DavisDataset, read_label_map
from mast_bench.harness.jobs import Job, run_job, run_jobs
from mast_bench.harness.profiling import flop_counter
from mast_bench.harness.store import ResultStore
from mast_bench.metrics import evaluate_semisupervised

from .conftest import make_tiny_davis

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
    job = Job(
        "mast", str(results), str(small_davis), checkpoint=str(peaky_weights), isolate=False, progress=False
    )
    record = run_job(job)

    # identity
    ident = record.identity
    assert ident["checkpoint"]["kind"] == "file" and len(ident["checkpoint"]["sha256"]) == 64
    assert ident["dataset"]["sequences"] == ["one", "two"]
    assert ident["protocol"] == {"task": "semi-supervised", "resolution": "480p", "max_side": 216}
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
    assert record.provenance["packages"]["torch"] == torch.__version__
    table = pd.read_csv(results / "records.csv")
    assert list(table["key"]) == [record.key]

    # identical job: the record is reused, nothing recomputed
    path = results / "records" / f"{record.key}.json"
    stamp = path.stat().st_mtime_ns
    again = run_job(job)
    assert again.key == record.key and path.stat().st_mtime_ns == stamp
    assert again.provenance["created"] == record.provenance["created"]
    # --force recomputes: same masks, new record file
    forced = run_job(Job(**{**job.__dict__, "force": True}))
    assert path.stat().st_mtime_ns != stamp
    assert all(
        np.array_equal(a, b) for a, b in zip(_masks(results, forced).values(), masks.values(), strict=True)
    )
    assert not list((results / "masks").glob(".*partial"))


def test_training_free_baseline_needs_no_checkpoint(small_davis, tmp_path):
    record = run_job(
        Job("mast-lab-pixels", str(tmp_path / "r"), str(small_davis), isolate=False, progress=False)
    )
    assert record.identity["checkpoint"]["kind"] == "none"
    assert record.profile["parameters"] == 0
    assert record.profile["gflops_per_frame"]["encoder"] == 0


@pytest.mark.slow
def test_isolated_worker_measures_its_own_peak(small_davis, tmp_path):
    record = run_job(Job("mast-lab-pixels", str(tmp_path / "r"), str(small_davis), progress=False))
    assert record.profile["peak_memory_kind"] == "cpu-rss-isolated"
    assert 0 < record.profile["peak_memory_bytes"] < 4 * 2**30


@pytest.mark.slow
def test_identical_masks_alone_together_and_in_parallel(small_davis, peaky_weights, tmp_path):
    common = dict(davis=str(small_davis), checkpoint=str(peaky_weights), isolate=False, progress=False)
    together = run_job(Job("mast", str(tmp_path / "a"), **common))
    alone = [run_job(Job("mast", str(tmp_path / "b"), sequences=(s,), **common)) for s in ("one", "two")]
    parallel = run_jobs(
        [Job("mast", str(tmp_path / "c"), sequences=(s,), **common) for s in ("one", "two")], n_jobs=2
    )
    reference = _masks(tmp_path / "a", together)
    for records, root in ((alone, tmp_path / "b"), (parallel, tmp_path / "c")):
        for record, seq in zip(records, ("one", "two"), strict=True):
            got = _masks(root, record, sequences=(seq,))
            assert all(np.array_equal(got[k], reference[k]) for k in got)
    table = ResultStore(tmp_path / "c").table()
    assert sorted(table["sequences"]) == ["one", "two"]


def test_record_json_matches_design_schema(small_davis, tmp_path):
    record = run_job(
        Job("mast-lab-pixels", str(tmp_path / "r"), str(small_davis), isolate=False, progress=False)
    )
    data = json.loads((tmp_path / "r" / "records" / f"{record.key}.json").read_text())
    assert set(data) == {"schema", "key", "identity", "provenance", "metrics", "profile", "train", "masks"}
    assert set(data["identity"]) == {
        "variant",
        "variant_config",
        "checkpoint",
        "dataset",
        "protocol",
        "code_version",
    }
    assert set(data["provenance"]) == {
        "git_revision",
        "git_dirty",
        "packages",
        "device",
        "hostname",
        "seed",
        "created",
        "command",
    }
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
    job = Job(
        "mast",
        str(tmp_path / "r"),
        str(small_davis),
        preset="t",
        presets=str(presets),
        isolate=False,
        progress=False,
    )
    record = run_job(job)
    ckpt = record.identity["checkpoint"]
    assert ckpt["kind"] == "trained" and ckpt["train_preset"] == "t"
    assert (tmp_path / "r" / ckpt["path"]).is_file()
    assert record.train["iterations"] == 2 and len(record.train["loss_curve"]) == 2
    assert record.identity["protocol"]["max_side"] == 24
    # masks at the dataset's size although the network saw 18x24 frames
    assert read_label_map(tmp_path / "r" / record.masks / "two" / "00002.png").shape == SIZE
    assert record.profile["frame_size"] == [18, 24]
    # same job again: reused, no retraining
    stamp = (tmp_path / "r" / ckpt["path"]).stat().st_mtime_ns
    assert run_job(job).key == record.key
    assert (tmp_path / "r" / ckpt["path"]).stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_isolated_jobs_on_a_dask_cluster_of_worker_processes(small_davis, tmp_path):
    distributed = pytest.importorskip("distributed")
    jobs = [
        Job("mast-lab-pixels", str(tmp_path / "r"), str(small_davis), sequences=(s,)) for s in ("one", "two")
    ]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as c:
        records = run_jobs(jobs, backend="dask", scheduler=c.scheduler_address)
    assert [r.identity["dataset"]["sequences"] for r in records] == [["one"], ["two"]]
    assert all(r.profile["peak_memory_kind"] == "cpu-rss-isolated" for r in records)
    assert len(ResultStore(tmp_path / "r").table()) == 2
