"""Whole-evaluation equality with the straight toolkit port, CSV bytes, and agreement with vos-benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.toolkit_oracle import toolkit_csv_bytes, toolkit_evaluate
from vos_benchmark.benchmark import VideoEvaluator

from mast_bench.metrics import evaluate_semisupervised, write_csvs

from .conftest import DAVIS_MINI_SEQUENCES


def assert_same_as_toolkit(evaluation, root: Path, results: Path, sequences, tmp_path: Path) -> None:
    table_g, table_seq, per_frame = toolkit_evaluate(root, results, list(sequences))
    for seq, (j, f) in per_frame.items():
        rows = evaluation.per_frame[evaluation.per_frame["sequence"] == seq]
        for index in range(j.shape[0]):
            obj = rows[rows["object"] == index + 1]
            np.testing.assert_array_equal(obj["J"].to_numpy(), j[index])  # bit-identical
            np.testing.assert_array_equal(obj["F"].to_numpy(), f[index])
    pd.testing.assert_frame_equal(evaluation.global_table, table_g, check_exact=True)
    pd.testing.assert_frame_equal(evaluation.per_sequence, table_seq, check_exact=True)
    global_csv, per_seq_csv = write_csvs(evaluation, tmp_path / "ours")
    assert global_csv.name == "global_results-val.csv"
    assert global_csv.read_bytes() == toolkit_csv_bytes(table_g, tmp_path, "g.csv")
    assert per_seq_csv.read_bytes() == toolkit_csv_bytes(table_seq, tmp_path, "s.csv")


def test_small_davis_equals_toolkit(small_davis, tmp_path):
    root, results = small_davis
    evaluation = evaluate_semisupervised(root, results, n_jobs=1)
    assert list(evaluation.per_sequence["Sequence"]) == [
        "bmx-trees_1",
        "bmx-trees_2",
        "car-shadow_1",
        "motocross-jump_1",
    ]
    assert len(evaluation.per_frame) == 78 * 2 + 38 + 38
    assert set(evaluation.per_frame["frame"]) == set(range(1, 79))
    assert 0.3 < evaluation.global_metrics()["J&F-Mean"] < 0.99  # a real, imperfect prediction
    assert_same_as_toolkit(evaluation, root, results, DAVIS_MINI_SEQUENCES, tmp_path)


def test_parallel_equals_serial(small_davis):
    root, results = small_davis
    serial = evaluate_semisupervised(root, results, n_jobs=1)
    parallel = evaluate_semisupervised(root, results, n_jobs=2)
    for name in ("global_table", "per_sequence", "per_object", "per_frame"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name), check_exact=True)


def test_per_object_table_and_global_are_consistent(small_davis):
    evaluation = evaluate_semisupervised(*small_davis, n_jobs=1)
    po = evaluation.per_object
    assert list(po.columns) == [
        "sequence",
        "object",
        "J-Mean",
        "J-Recall",
        "J-Decay",
        "F-Mean",
        "F-Recall",
        "F-Decay",
    ]
    g = evaluation.global_metrics()
    assert g["J-Mean"] == pytest.approx(po["J-Mean"].mean())
    assert g["J&F-Mean"] == pytest.approx((po["J-Mean"].mean() + po["F-Mean"].mean()) / 2)
    recall = evaluation.per_frame.groupby(["sequence", "object"], sort=False)["F"].apply(
        lambda x: (x > 0.5).mean()
    )
    np.testing.assert_allclose(po["F-Recall"].to_numpy(), recall.to_numpy())


def vos_benchmark_scores(gt_root: Path, results: Path, sequence: str) -> tuple[dict, dict]:
    _, iou, boundary = VideoEvaluator(str(gt_root), str(results))(sequence)
    return iou, boundary


def test_agrees_with_vos_benchmark_on_davis_mini(small_davis):
    root, results = small_davis
    evaluation = evaluate_semisupervised(root, results, n_jobs=1)
    po = evaluation.per_object
    for seq in DAVIS_MINI_SEQUENCES:
        iou, boundary = vos_benchmark_scores(root / "Annotations" / "480p", results, seq)
        ours = po[po["sequence"] == seq]
        assert sorted(iou) == list(ours["object"])
        for _, row in ours.iterrows():
            assert row["J-Mean"] * 100 == pytest.approx(iou[row["object"]], rel=1e-13, abs=0)
            assert row["F-Mean"] * 100 == pytest.approx(boundary[row["object"]], rel=1e-13, abs=0)


@pytest.mark.slow
def test_full_resolution_davis_mini_equals_toolkit_and_vos_benchmark(
    davis_mini, davis_mini_predictions, tmp_path
):
    evaluation = evaluate_semisupervised(davis_mini, davis_mini_predictions, n_jobs=2)
    assert_same_as_toolkit(evaluation, davis_mini, davis_mini_predictions, DAVIS_MINI_SEQUENCES, tmp_path)
    po = evaluation.per_object
    for seq in DAVIS_MINI_SEQUENCES:
        iou, boundary = vos_benchmark_scores(davis_mini / "Annotations" / "480p", davis_mini_predictions, seq)
        for _, row in po[po["sequence"] == seq].iterrows():
            assert row["J-Mean"] * 100 == pytest.approx(iou[row["object"]], rel=1e-13, abs=0)
            assert row["F-Mean"] * 100 == pytest.approx(boundary[row["object"]], rel=1e-13, abs=0)
