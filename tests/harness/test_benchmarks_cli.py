"""JHMDB keypoints and VIP parts through the commands: records with PCK and mIoU equal to the metrics
floor's scores of the written predictions, resumable propagation, their reports, and a study that
runs every row on DAVIS, JHMDB and VIP with one features x protocol x benchmark table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mast_bench.__main__ import main
from mast_bench.data.embedded_people import make_people
from mast_bench.data.keypoint_files import read_keypoints
from mast_bench.metrics.part_iou import evaluate_vip
from mast_bench.metrics.pck import evaluate_jhmdb

PEOPLE = dict(size=(72, 96), videos=2, frames=(4, 5))


@pytest.fixture(scope="module")
def jhmdb(tmp_path_factory):
    return make_people("jhmdb", tmp_path_factory.mktemp("jhmdb") / "data", seed=2, **PEOPLE)


@pytest.fixture(scope="module")
def vip(tmp_path_factory):
    return make_people(
        "vip", tmp_path_factory.mktemp("vip") / "data", seed=2, **PEOPLE, people=(1, 2), step=25
    )


def _run_lab_pixels(protocol, kind, root, results) -> int:
    """``mast-bench run`` of the Lab-pixel features on a small benchmark set, in this process."""
    argv = ["run", "--variant", "mast-lab-pixels", "--protocol", protocol, "--dataset", kind]
    return main(
        [*argv, "--max-side", "64", "--data", str(root), "--results", str(results), "--quiet", "--no-isolate"]
    )


def _record(results):
    (path,) = (results / "records").glob("*.json")
    return json.loads(path.read_text())


def test_jhmdb_run_records_pck_of_the_written_keypoints_and_reports_them(jhmdb, tmp_path, capsys):
    results = tmp_path / "results"
    assert _run_lab_pixels("crw", "jhmdb", jhmdb, results) == 0
    record = _record(results)
    assert record["metrics"]["kind"] == "jhmdb" and record["identity"]["evaluation"]["task"] == "keypoints"
    masks = results / record["masks"]
    expected = evaluate_jhmdb(jhmdb, masks, "val").metrics()
    assert record["metrics"]["global"]["PCK@0.1"] == pytest.approx(expected["PCK@0.1"])
    assert 0 < expected["PCK@0.2"] <= 1 and len(record["metrics"]["per_joint"]) == 15
    name = record["identity"]["dataset"]["sequences"][0]
    assert read_keypoints(masks, name).shape[:2] == (2, 15)
    capsys.readouterr()
    assert main(["report", "--results", str(results)]) == 0
    report = (results / "reports" / "all" / "report.md").read_text()
    assert "## JHMDB: PCK@0.1 per joint" in report and "JHMDB split 1 test" in report and "59.3" in report


def test_jhmdb_propagate_resumes_and_vip_runs_with_miou(jhmdb, vip, tmp_path, capsys):
    out = tmp_path / "keypoints"
    argv = [
        "propagate",
        "--variant",
        "mast-lab-pixels",
        "--protocol",
        "dino",
        "--dataset",
        "jhmdb",
        "--quiet",
    ]
    assert main([*argv, "--data", str(jhmdb), "--out", str(out)]) == 0
    assert "PCK@0.1" in capsys.readouterr().out
    assert main([*argv, "--data", str(jhmdb), "--out", str(out)]) == 0
    assert "2 already complete" in capsys.readouterr().out
    results = tmp_path / "results"
    assert _run_lab_pixels("vfs", "vip", vip, results) == 0
    record = _record(results)
    scores = evaluate_vip(vip, results / record["masks"], "val").metrics()
    assert record["metrics"]["kind"] == "vip" and record["metrics"]["global"]["mIoU"] == pytest.approx(
        scores["mIoU"]
    )
    assert len(record["metrics"]["per_class"]) == 20 and np.isfinite(scores["mIoU"])


def test_a_study_runs_every_row_on_each_benchmark_and_reports_them_side_by_side(
    jhmdb, vip, tiny_davis, tmp_path
):
    study = tmp_path / "bench.toml"
    study.write_text(
        '[study]\nname = "bench"\ntitle = "Benchmarks"\nreference = "mast-lab-pixels@mast"\n'
        'variants = ["mast-lab-pixels"]\nprotocols = ["mast", "crw"]\n'
        'benchmarks = ["davis", "jhmdb", "vip"]\n'
    )
    results = tmp_path / "results"
    argv = [
        "ablate",
        str(study),
        "--data",
        str(tiny_davis),
        "--results",
        str(results),
        "--quiet",
        "--no-isolate",
    ]
    roots = ["--benchmark", f"jhmdb={jhmdb}", "--benchmark", f"vip={vip}"]
    assert main([*argv, *roots]) == 0
    manifest = json.loads((results / "studies" / "bench.smoke.json").read_text())
    assert set(manifest["benchmarks"]) == {"jhmdb", "vip"} and manifest["dataset"] == "davis"
    assert set(manifest["benchmarks"]["jhmdb"]) == {"mast-lab-pixels@mast", "mast-lab-pixels@crw"}
    report = (results / "reports" / "bench" / "report.md").read_text()
    assert "## Features x protocol x benchmark" in report and "DAVIS J&F" in report
    assert "JHMDB PCK@0.1" in report and "VIP mIoU" in report and "NOT comparable to the papers" in report
    table = (results / "reports" / "bench" / "tables" / "benchmarks.csv").read_text()
    assert table.count("mast-lab-pixels") == 2
    assert main([*argv, "--benchmark", "youtube-vos=/nowhere"]) == 2  # not one of the study's benchmarks


def _csv_row(path) -> dict:
    import pandas as pd

    return pd.read_csv(path).iloc[0].to_dict()


def test_evaluate_scores_jhmdb_keypoint_files_and_writes_csvs(jhmdb, tmp_path, capsys):
    """Perfect keypoints but one joint of one video thrown far off: that joint alone loses PCK."""
    from mast_bench.data.jhmdb import JhmdbDataset

    dataset, predictions = JhmdbDataset(jhmdb, "val"), tmp_path / "keypoints"
    names = dataset.video_names()
    for index, name in enumerate(names):
        joints = dataset.sequence(name).joints().copy()
        if index == 0:
            joints[:, 3, 1:] += 50.0  # joint 3 (of 15), every scored frame, 50 pixels off
        path = predictions.joinpath(*name.split("/")).with_suffix(".npy")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, joints)
    assert main(["evaluate", "--dataset", "jhmdb", "--data", str(jhmdb), "--masks", str(predictions)]) == 0
    out = capsys.readouterr().out
    assert "jhmdb val: global" in out and "jhmdb val: per-joint" in out
    expected = evaluate_jhmdb(jhmdb, predictions, "val")
    row = _csv_row(predictions / "jhmdb-val-global.csv")
    assert row["PCK@0.1"] == pytest.approx(expected.metrics()["PCK@0.1"], abs=5e-4) and row["videos"] == len(
        names
    )
    per_joint = expected.per_joint.set_index("joint")["PCK@0.2"]
    assert per_joint.drop(per_joint.index[3]).eq(1.0).all() and per_joint.iloc[3] < 1.0
    assert (predictions / "jhmdb-val-per-video.csv").is_file()


def test_evaluate_scores_vip_masks_as_the_run_did_and_refuses_davis_flags(vip, tmp_path, capsys):
    out = tmp_path / "parts"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--protocol", "vfs", "--dataset", "vip", "--quiet"]
    assert main([*argv, "--max-side", "64", "--data", str(vip), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--dataset", "vip", "--data", str(vip), "--masks", str(out)]) == 0
    assert "vip val: per-class" in capsys.readouterr().out
    row = _csv_row(out / "vip-val-global.csv")
    assert row["mIoU"] == pytest.approx(evaluate_vip(vip, out, "val").metrics()["mIoU"], abs=5e-4)
    assert 0 < row["mIoU"] < 1 and len(list(out.glob("vip-val-*.csv"))) == 3
    bad = ["evaluate", "--dataset", "vip", "--data", str(vip), "--masks", str(out), "--ignore-void"]
    assert main(bad) == 2
    assert "--ignore-void: DAVIS only (not --dataset vip)" in capsys.readouterr().err
    assert main([*argv, "--max-side", "64", "--data", str(vip), "--out", str(out), "--force"]) == 0
    assert not list(out.glob("vip-val-*.csv"))  # they scored the masks --force made again


def test_evaluate_names_a_root_of_another_kind(vip, tmp_path, capsys):
    """It was read as the asked kind: 'ImageSets/2017/val.txt: split list missing' for a VIP root."""
    from mast_bench.data.embedded_youtube import make_youtube

    assert main(["evaluate", "--data", str(vip), "--masks", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {vip}: a VIP layout (Images and Annotations/Category_ids inside); use --dataset vip"
    )
    youtube = make_youtube(
        tmp_path / "yt", seed=1, size=(48, 80), train_videos=1, valid_videos=1, frames=(20, 21)
    )
    assert main(["evaluate", "--data", str(youtube), "--masks", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {youtube}: a YouTube-VOS layout (<split>/meta.json inside); `mast-bench run --dataset "
        "youtube-vos` scores it"
    )


def test_a_vip_part_class_outside_the_twenty_is_refused(vip, tmp_path, capsys):
    """Class 25 in a first frame was propagated as a part and written into the masks, exit 0."""
    import shutil

    from PIL import Image

    data = tmp_path / "vip"
    shutil.copytree(vip, data)
    video = sorted((data / "Annotations" / "Category_ids").iterdir())[0]
    first = sorted(video.glob("*.png"))[0]
    labels = np.array(Image.open(first))
    labels[:4, :4] = 25
    Image.fromarray(labels).save(first)
    out = tmp_path / "masks"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--dataset", "vip", "--data", str(data)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{first}: part class 25, expected 0..19 (or 255, not scored)" in err and not out.exists()
