"""benchmarks/label_grid_ceiling.py: the true masks through MAST's label grid, scored as the toolkit does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import label_grid_ceiling  # noqa: E402

COMMITTED = REPO / "reports" / "training-480p" / "sizes" / "label-grid-ceiling.json"


def test_blocks_on_the_grid_come_back_but_their_corners_and_a_thin_line_between_samples_are_lost():
    truth = np.zeros((16, 24), np.uint8)
    truth[4:12, 8:16] = 1  # two by two cells of the stride-4 grid
    truth[13, :] = 2  # one pixel thick, on no sampled row (0, 4, 8, 12)
    back = label_grid_ceiling.grid_labels(truth, (1, 2), (16, 24), 4)
    # bilinear then argmax: an edge pixel holds 0.625 of its cell, a corner pixel 0.625 ** 2 < 0.5
    lost = np.argwhere((back == 1) != (truth == 1)).tolist()
    assert lost == [[4, 8], [4, 15], [11, 8], [11, 15]]
    assert not (back == 2).any()
    # void (255) and ids outside the objects count as background; a smaller network size keeps less
    truth[0, 0] = 255
    half = label_grid_ceiling.grid_labels(truth, (1,), (8, 12), 4)
    assert half.shape == truth.shape and set(np.unique(half)) <= {0, 1}


def test_the_committed_320_ceiling_comes_out_again(davis_mini, tmp_path):
    out = tmp_path / "ceiling.json"
    assert label_grid_ceiling.main(["--data", str(davis_mini), "--max-side", "320", "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())["sizes"]
    committed = {r["max_side"]: r for r in json.loads(COMMITTED.read_text())["sizes"]}
    assert row == committed[320]
    assert (
        committed[320]["J&F"] < committed[480]["J&F"] < committed[640]["J&F"] < committed["full"]["J&F"] < 100
    )


def test_a_missing_dataset_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "x.json"
    argv = ["--data", str(tmp_path / "none"), "--max-side", "320", "--out", str(out)]
    assert label_grid_ceiling.main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'none'}") and not out.exists()
