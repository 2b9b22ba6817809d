"""Folders as they arrive from other machines: macOS's hidden ``._`` copies beside every PNG, a split
list saved with a byte-order mark. The toolkit's ``glob('*.png')`` skips hidden files, so the scores
equal those of the tidy folders; a BOM-marked list names the same sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from support.label_sets import make_davis, make_results

from mast_bench.metrics import evaluate_semisupervised


def _labels(t: int) -> np.ndarray:
    out = np.zeros((10, 14), np.uint8)
    out[1 + t % 3 : 5 + t % 3, 2:9] = 1
    out[6:9, 1 + t : 6 + t] = 2
    return out


def _shifted(t: int) -> np.ndarray:
    return np.roll(_labels(t), 1, axis=1)


def _untidy(root: Path) -> None:
    for png in list(root.rglob("*.png")):
        (png.parent / f"._{png.name}").write_bytes(b"\0\5\26\7 AppleDouble resource fork")
    for folder in {png.parent for png in root.rglob("*.png")}:
        (folder / ".DS_Store").write_bytes(b"Bud1")


def test_hidden_copies_and_a_bom_change_nothing(tmp_path):
    truth = {"a": [_labels(t) for t in range(5)], "b": [_labels(t + 2) for t in range(4)]}
    guesses = {name: [_shifted(t) for t in range(len(frames))] for name, frames in truth.items()}
    tidy = evaluate_semisupervised(
        make_davis(tmp_path / "tidy", truth), make_results(tmp_path / "tidy-res", guesses), n_jobs=1
    )
    root, results = make_davis(tmp_path / "untidy", truth), make_results(tmp_path / "untidy-res", guesses)
    _untidy(root)
    _untidy(results)
    split = root / "ImageSets/2017/val.txt"
    split.write_bytes(b"\xef\xbb\xbf" + split.read_bytes().replace(b"\n", b"\r\n"))
    untidy = evaluate_semisupervised(root, results, n_jobs=1)
    assert 0.3 < tidy.global_metrics()["J&F-Mean"] < 0.99
    assert untidy.global_metrics() == tidy.global_metrics()
    assert untidy.per_sequence.equals(tidy.per_sequence)
