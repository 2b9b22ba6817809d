"""Where the official toolkit and vos-benchmark disagree, pinned: void, first-frame objects, late objects.

Each case is a tiny hand-made sequence whose numbers are computed by hand; our result must equal the
toolkit port (the official semantics) and the vos-benchmark difference is asserted explicitly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.label_sets import make_davis, make_results
from support.toolkit_oracle import ToolkitExit, toolkit_evaluate
from vos_benchmark.benchmark import VideoEvaluator

from mast_bench.errors import DataError
from mast_bench.metrics import evaluate_semisupervised

SHAPE = (12, 16)


def frame(*boxes: tuple[int, int, int, int, int]) -> np.ndarray:
    """Label image with boxes (id, r0, r1, c0, c1) drawn in order."""
    labels = np.zeros(SHAPE, np.uint8)
    for obj, r0, r1, c0, c1 in boxes:
        labels[r0:r1, c0:c1] = obj
    return labels


def run_case(tmp_path: Path, gt: list[np.ndarray], pred: list[np.ndarray], **kwargs):
    root = make_davis(tmp_path / "DAVIS", {"seq": gt})
    results = make_results(tmp_path / "res", {"seq": pred})
    return root, results, evaluate_semisupervised(root, results, n_jobs=1, **kwargs)


def vos(root: Path, results: Path):
    _, iou, boundary = VideoEvaluator(str(root / "Annotations" / "480p"), str(results))("seq")
    return iou, boundary


def test_void_counts_as_background_like_the_toolkit(tmp_path):
    # object 1 = 4x4 box (16 px); a void band (255) of 2x4 px beside it; the prediction covers box + void
    gt_frame = frame((1, 2, 6, 2, 6), (255, 2, 4, 6, 10))
    pred_frame = frame((1, 2, 6, 2, 6), (1, 2, 4, 6, 10))
    root, results, ev = run_case(tmp_path, [gt_frame] * 3, [pred_frame] * 3)
    # toolkit: void read as background, so the 8 predicted void pixels are false positives: J = 16 / 24
    assert ev.per_frame["J"].tolist() == [pytest.approx(16 / 24)]
    table_g, _, _ = toolkit_evaluate(root, results, ["seq"])
    assert ev.global_table.equals(table_g)
    # removing void from both masks instead (the metric functions' intended use) gives a perfect score
    _, _, ev_ignore = run_case(tmp_path / "ignore", [gt_frame] * 3, [pred_frame] * 3, ignore_void=True)
    assert ev_ignore.per_frame["J"].tolist() == [1.0]
    assert ev_ignore.per_frame["F"].tolist() == [1.0]
    # vos-benchmark: the same J for object 1, but void 255 becomes an extra object in its table
    iou, _ = vos(root, results)
    assert sorted(iou) == [1, 255]
    assert iou[1] == pytest.approx(100 * 16 / 24)


def test_object_only_in_first_and_last_frame(tmp_path):
    # object 2 is annotated in frames 0 and 3 only; the prediction shows it (wrongly) in frame 1
    a, b = (1, 0, 4, 0, 4), (2, 6, 10, 6, 10)
    gt = [frame(a, b), frame(a), frame(a), frame(a, b)]
    pred = [frame(a, b), frame(a, b), frame(a), frame(a, b)]
    root, results, ev = run_case(tmp_path, gt, pred)
    po = ev.per_object.set_index("object")
    # toolkit: object 2 exists (first frame); scored frames 1-2: J = F = [0, 1] (false positive, both empty)
    assert po.loc[2, "J-Mean"] == 0.5 and po.loc[2, "F-Mean"] == 0.5
    assert ev.global_table.equals(toolkit_evaluate(root, results, ["seq"])[0])
    iou, _ = vos(root, results)
    assert sorted(iou) == [1]  # vos-benchmark: object 2 is never in a scored annotation, so it is not scored


def test_object_absent_then_reappearing(tmp_path):
    # object 2 is in frame 0, hidden in frames 1-2, back in frames 3-4; the prediction misses it in frame 3
    a, b = (1, 0, 4, 0, 4), (2, 6, 10, 6, 10)
    gt = [frame(a, b), frame(a), frame(a), frame(a, b), frame(a, b), frame(a, b)]
    pred = [frame(a, b), frame(a), frame(a), frame(a), frame(a, b), frame(a, b)]
    root, results, ev = run_case(tmp_path, gt, pred)
    po = ev.per_object.set_index("object")
    # toolkit: scored frames 1..4 -> J of object 2 = [1, 1, 0, 1], mean 0.75
    assert po.loc[2, "J-Mean"] == 0.75
    assert ev.global_table.equals(toolkit_evaluate(root, results, ["seq"])[0])
    iou, _ = vos(root, results)
    assert iou[2] == pytest.approx(100 * 0.5)  # vos-benchmark counts it only from frame 3 on: [0, 1]


def test_object_appearing_after_the_first_frame(tmp_path):
    # id 2 first appears in frame 2: not an object (objects come from the first frame)
    a, b = (1, 0, 4, 0, 4), (2, 6, 10, 6, 10)
    gt = [frame(a), frame(a), frame(a, b), frame(a, b), frame(a, b)]
    root, results, ev = run_case(tmp_path, gt, [frame(a)] * 5)
    assert list(ev.per_object["object"]) == [1]
    assert ev.per_frame["J"].tolist() == [1.0, 1.0, 1.0]  # the unscored id 2 is background for object 1
    assert ev.global_table.equals(toolkit_evaluate(root, results, ["seq"])[0])
    iou, _ = vos(root, results)
    assert sorted(iou) == [1, 2] and iou[2] == 0.0  # vos-benchmark scores it from its first appearance
    # predicting it: the toolkit aborts (exit status 0) and we refuse with an error naming the file
    pred = [frame(a), frame(a), frame(a, b), frame(a, b), frame(a, b)]
    with pytest.raises(DataError, match=r"00002\.png: predicted mask contains id 2 but sequence 'seq' has 1"):
        run_case(tmp_path / "with2", gt, pred)
    with pytest.raises(ToolkitExit):
        toolkit_evaluate(tmp_path / "with2" / "DAVIS", tmp_path / "with2" / "res", ["seq"])


def test_prediction_that_loses_an_object_is_scored(tmp_path):
    a, b = (1, 0, 4, 0, 4), (2, 6, 10, 6, 10)
    gt = [frame(a, b)] * 4
    root, results, ev = run_case(tmp_path, gt, [frame(a)] * 4)
    po = ev.per_object.set_index("object")
    assert po.loc[2, "J-Mean"] == 0.0 and po.loc[2, "F-Mean"] == 0.0 and po.loc[2, "J-Recall"] == 0.0
    assert ev.global_metrics()["J&F-Mean"] == 0.5
    with pytest.raises(ToolkitExit):  # the toolkit stops on "an index higher than the number of objects"
        toolkit_evaluate(root, results, ["seq"])
