"""YouTube-VOS-style scoring on 10x10 masks whose J and F can be worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mast_bench.data.palette import write_label_map
from mast_bench.errors import DataError
from mast_bench.metrics import categories_of, evaluate_youtube, write_youtube_csvs
from mast_bench.metrics.measures import db_eval_boundary

FRAMES = ["00000", "00005", "00010"]


def square(rows: slice, cols: slice, value: int = 1) -> np.ndarray:
    mask = np.zeros((10, 10), np.uint8)
    mask[rows, cols] = value
    return mask


# v1: object 1 (cat, seen) in every frame; object 3 (zebra, unseen) enters at 00005, gone at 00010.
# v2: object 2 (dog, seen) in every frame; object 5 (cat) annotated only on the last frame.
GT = {
    "v1": [
        square(slice(0, 4), slice(0, 4)),
        square(slice(0, 4), slice(0, 4)) + square(slice(6, 8), slice(0, 5), 3),
        square(slice(0, 4), slice(0, 4)),
    ],
    "v2": [
        square(slice(2, 6), slice(2, 6), 2),
        square(slice(2, 6), slice(2, 6), 2),
        square(slice(2, 6), slice(2, 6), 2) + square(slice(8, 10), slice(8, 10), 5),
    ],
}
PRED = {
    "v1": {  # 00000 is never read: it is the input frame of object 1
        "00005": square(slice(0, 4), slice(2, 6)),  # object 1 shifted: 8 / 24 -> J = 1/3; object 3 missed
        "00010": square(slice(0, 4), slice(0, 4)) + square(slice(9, 10), slice(0, 3), 3),  # ghost of 3
    },
    "v2": {"00005": square(slice(2, 6), slice(2, 6), 2), "00010": np.zeros((10, 10), np.uint8)},
}
META = {
    "v1": {"1": ("cat", FRAMES), "3": ("zebra", FRAMES[1:2])},
    "v2": {"2": ("dog", FRAMES), "5": ("cat", FRAMES[2:])},
}


def _meta(videos: dict) -> dict:
    return {
        "videos": {
            v: {"objects": {k: {"category": c, "frames": f} for k, (c, f) in objs.items()}}
            for v, objs in videos.items()
        }
    }


@pytest.fixture
def youtube_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    gt = tmp_path / "heldout"
    for video, masks in GT.items():
        for name, mask in zip(FRAMES, masks, strict=True):
            write_label_map(gt / "Annotations" / video / f"{name}.png", mask)
    (gt / "meta.json").write_text(json.dumps(_meta(META)))
    results = tmp_path / "results"
    for video, masks in PRED.items():
        for name, mask in masks.items():
            write_label_map(results / video / f"{name}.png", mask)
    train_meta = tmp_path / "train_meta.json"
    train_meta.write_text(json.dumps(_meta({"t": {"1": ("cat", ["00000"]), "2": ("dog", ["00000"])}})))
    return gt, results, train_meta


def test_per_object_rules_by_hand(youtube_folders):
    gt, results, train_meta = youtube_folders
    evaluation = evaluate_youtube(gt, results, train_meta)
    table = evaluation.per_object.set_index(["video", "object"])
    assert list(evaluation.per_object.columns) == ["video", "object", "category", "seen", "J", "F", "frames"]
    shifted_f = db_eval_boundary(GT["v1"][1] == 1, PRED["v1"]["00005"] == 1)
    # object 1: 00005 (J 1/3) and the last frame 00010 (exact: 1), not its input frame 00000
    assert table.loc[("v1", 1), "frames"] == 2
    assert table.loc[("v1", 1), "J"] == pytest.approx((1 / 3 + 1) / 2)
    assert table.loc[("v1", 1), "F"] == pytest.approx((shifted_f + 1) / 2) and 0 < shifted_f < 1
    # object 3: scored only at 00010, where it is gone but predicted (a ghost): J = F = 0
    assert table.loc[("v1", 3), ["J", "F", "frames"]].tolist() == [0.0, 0.0, 1]
    assert not table.loc[("v1", 3), "seen"] and table.loc[("v1", 1), "seen"]
    # object 2: exact at 00005, missed at the last frame (J = F = 0 there)
    assert table.loc[("v2", 2), ["J", "F"]].tolist() == [0.5, 0.5]
    # object 5 appears on the last frame only: nothing to score
    assert table.loc[("v2", 5), "frames"] == 0 and math.isnan(table.loc[("v2", 5), "J"])
    frames = evaluation.per_frame
    assert frames[frames["object"] == 1]["frame"].tolist() == ["00005", "00010"]


def test_seen_unseen_overall_and_gap(youtube_folders):
    gt, results, train_meta = youtube_folders
    summary = evaluate_youtube(gt, results, {"cat", "dog"}).metrics()
    shifted_f = db_eval_boundary(GT["v1"][1] == 1, PRED["v1"]["00005"] == 1)
    j_seen, f_seen = ((1 / 3 + 1) / 2 + 0.5) / 2, ((shifted_f + 1) / 2 + 0.5) / 2
    assert summary["J_seen"] == pytest.approx(j_seen) and summary["F_seen"] == pytest.approx(f_seen)
    assert summary["J_unseen"] == 0.0 and summary["F_unseen"] == 0.0
    assert summary["overall"] == pytest.approx((j_seen + f_seen) / 4)
    assert summary["gap"] == pytest.approx((j_seen + f_seen) / 2)
    assert (summary["objects_seen"], summary["objects_unseen"]) == (2, 1)  # object 5 has no frame
    assert summary == evaluate_youtube(gt, results, train_meta).metrics()
    assert categories_of(train_meta) == {"cat", "dog"}


def test_no_unseen_object_gives_nan_overall(youtube_folders):
    gt, results, _ = youtube_folders
    summary = evaluate_youtube(gt, results, {"cat", "dog", "zebra"}).metrics()
    assert (
        summary["objects_unseen"] == 0 and math.isnan(summary["J_unseen"]) and math.isnan(summary["overall"])
    )


def test_submission_layout_and_a_video_subset(youtube_folders, tmp_path):
    gt, results, train_meta = youtube_folders
    nested = tmp_path / "submission"
    nested.mkdir()
    results.rename(nested / "Annotations")  # the zip's layout
    evaluation = evaluate_youtube(gt, nested, train_meta, videos=["v2"])
    assert evaluation.per_object["video"].tolist() == ["v2", "v2"]


def test_bad_inputs_name_the_file(youtube_folders):
    gt, results, train_meta = youtube_folders
    (results / "v1" / "00010.png").unlink()
    with pytest.raises(DataError, match=r"results/v1/00010.png: predicted mask not found"):
        evaluate_youtube(gt, results, train_meta)
    write_label_map(results / "v1" / "00010.png", np.zeros((10, 11), np.uint8))
    with pytest.raises(DataError, match=r"v1/00010.png: predicted mask is 11x10, expected 10x10"):
        evaluate_youtube(gt, results, train_meta)
    with pytest.raises(DataError, match=r"meta.json: video 'v9' not listed"):
        evaluate_youtube(gt, results, train_meta, videos=["v9"])


def test_an_object_listed_from_a_frame_that_does_not_show_it_is_scored_from_one_that_does(youtube_folders):
    """Six objects of YouTube-VOS 2019 train are listed from frames without a pixel of them: scoring
    refused the video. They start at their first annotation with pixels, as propagation starts them."""
    gt, results, train_meta = youtube_folders
    (gt / "meta.json").write_text(
        json.dumps(_meta({**META, "v1": {"1": ("cat", FRAMES), "3": ("zebra", FRAMES)}}))
    )
    table = evaluate_youtube(gt, results, train_meta).per_object.set_index(["video", "object"])
    assert table.loc[("v1", 3), ["J", "F", "frames"]].tolist() == [0.0, 0.0, 1]  # from 00005 on, as before
    write_label_map(gt / "Annotations" / "v1" / "00005.png", GT["v1"][0])  # object 3 shown nowhere
    table = evaluate_youtube(gt, results, train_meta).per_object.set_index(["video", "object"])
    assert table.loc[("v1", 3), "frames"] == 0 and math.isnan(table.loc[("v1", 3), "J"])
    assert table.loc[("v1", 1), "frames"] == 2  # the video's other objects are scored as before


def test_csvs_beside_the_davis_ones(youtube_folders, tmp_path):
    gt, results, train_meta = youtube_folders
    evaluation = evaluate_youtube(gt, results, train_meta)
    summary_path, per_object_path = write_youtube_csvs(evaluation, tmp_path / "out", "heldout")
    assert summary_path.name == "youtube_summary-heldout.csv"
    assert per_object_path.name == "youtube_per-object-heldout.csv"
    back = pd.read_csv(per_object_path)
    assert back["J"].round(3).tolist()[:2] == [0.667, 0.0] and len(back) == 4
    assert pd.read_csv(summary_path)["J_unseen"].tolist() == [0.0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [per_object_path.name, summary_path.name]


def test_each_ground_truth_png_is_read_once(youtube_folders, monkeypatch):
    """The start rule read each object's first annotation, and scoring read it again."""
    import mast_bench.metrics.youtube as module

    gt, results, train_meta = youtube_folders
    reads, read = [], module._truth
    monkeypatch.setattr(module, "_truth", lambda path: reads.append(path) or read(path))
    evaluate_youtube(gt, results, train_meta)
    assert sorted(reads) == sorted(gt.glob("Annotations/*/*.png"))
