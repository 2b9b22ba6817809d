"""benchmarks/read_sharpness.py on real DAVIS frames: Lab pixels read nearly uniformly; bad input exits 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import read_sharpness  # noqa: E402


def test_lab_pixels_read_nearly_uniformly_and_move_little_of_the_mask(davis_mini, tmp_path):
    out = tmp_path / "sharpness.json"
    argv = ["--variant", "mast", "--baseline", "mast-lab-pixels", "--data", str(davis_mini),
            "--max-side", "160", "--pairs", "2", "--out", str(out)]  # fmt: skip
    assert read_sharpness.main(argv) == 0
    report = json.loads(out.read_text())
    (lab,) = report["results"]
    assert report["sequences"] == ["bmx-trees", "car-shadow", "motocross-jump"]
    assert lab["weights"] == "mast-lab-pixels" and lab["pairs"] == 6
    # 160x90 -> a 40x23 grid: a radius-12 window holds at most 25 x 23 = 575 in-image candidates
    assert lab["effective_candidates_median"] <= 575
    assert lab["effective_share_median"] > 0.8
    assert lab["top1_weight_median"] < 0.01
    assert 0 <= lab["one_step_j"] < 30  # a near-uniform read washes most objects out


def test_one_step_jaccard_is_per_object_and_skips_absent_ones():
    truth = np.array([[0, 1, 1], [0, 2, 2]])
    predicted = np.array([[0, 1, 0], [0, 2, 2]])
    assert read_sharpness.one_step_jaccard(predicted, truth, (1, 2, 3)) == [0.5, 1.0]


def test_a_missing_weights_file_is_one_line_and_exit_2(davis_mini, tmp_path, capsys):
    argv = ["--variant", "mast-scaled", "--weights", f"end={tmp_path / 'none.pt'}", "--data", str(davis_mini),
            "--out", str(tmp_path / "x.json")]  # fmt: skip
    assert read_sharpness.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'none.pt'}: weights file not found"]
    assert not (tmp_path / "x.json").exists()


def test_the_committed_lab_pixel_row_comes_out_again(davis_mini, tmp_path):
    """reports/training/read-sharpness.json's training-free row, measured again (the trained rows need
    the run's weights, which are not in the repository)."""
    committed = json.loads((REPO / "reports" / "training" / "read-sharpness.json").read_text())
    (row,) = [r for r in committed["results"] if r["weights"] == "mast-lab-pixels"]
    out = tmp_path / "again.json"
    argv = ["--variant", "mast-scaled", "--baseline", "mast-lab-pixels", "--data", str(davis_mini),
            "--max-side", str(committed["max_side"]), "--out", str(out)]  # fmt: skip
    assert read_sharpness.main(argv) == 0
    assert json.loads(out.read_text())["results"] == [row]


def test_a_sequence_annotated_only_on_its_first_frame_is_refused_before_any_work(
    davis_mini, tmp_path, capsys
):
    root = tmp_path / "first-only"
    for part in ("JPEGImages", "ImageSets"):
        (root / part).mkdir(parents=True)
        for child in (davis_mini / part).iterdir():
            (root / part / child.name).symlink_to(child)
    for sequence in (davis_mini / "Annotations" / "480p").iterdir():
        (root / "Annotations" / "480p" / sequence.name).mkdir(parents=True)
        first = sorted(sequence.iterdir())[0]
        (root / "Annotations" / "480p" / sequence.name / first.name).symlink_to(first)
    argv = [
        "--variant",
        "mast",
        "--baseline",
        "mast-lab-pixels",
        "--data",
        str(root),
        "--out",
        str(tmp_path / "x.json"),
    ]
    assert read_sharpness.main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {root / 'Annotations' / '480p' / 'bmx-trees'}: 1 annotation(s) for ")
    assert line.endswith("one-step J needs every frame's") and not (tmp_path / "x.json").exists()
