"""Bad input gives one clear error naming the file (exit status 2 from the CLI); the CLI writes fresh CSVs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.label_sets import make_davis, make_results, write_labels

from mast_bench.data.palette import read_label_map
from mast_bench.errors import DataError
from mast_bench.evaluate import main
from mast_bench.metrics import evaluate_semisupervised

REPO = Path(__file__).resolve().parents[2]


def labels(obj_ids=(1, 2), shape=(10, 14)) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    for k, obj in enumerate(obj_ids):
        out[1 + 4 * k : 4 + 4 * k, 2:9] = obj
    return out


@pytest.fixture
def dataset(tmp_path) -> tuple[Path, Path]:
    frames = [labels()] * 4
    root = make_davis(tmp_path / "DAVIS", {"a": frames, "b": frames})
    results = make_results(tmp_path / "res", {"a": frames, "b": frames})
    return root, results


def expect_error(root, results, pattern, **kwargs):
    with pytest.raises(DataError, match=pattern):
        evaluate_semisupervised(root, results, n_jobs=1, **kwargs)


def test_valid_dataset_scores_perfectly(dataset):
    assert evaluate_semisupervised(*dataset, n_jobs=1).global_metrics()["J&F-Mean"] == 1.0


def test_missing_folders(dataset, tmp_path):
    root, results = dataset
    expect_error(root, tmp_path / "nope", r"nope: results folder not found")
    expect_error(tmp_path / "nodavis", results, r"nodavis: DAVIS root not found")
    expect_error(
        root,
        results,
        r"ImageSets/2017/test-dev\.txt: split list missing \(available splits: val\)",
        split="test-dev",
    )
    expect_error(
        root,
        results,
        r"Annotations/480p/zzz: annotation folder of sequence 'zzz' not found",
        sequences=["zzz"],
    )
    for png in (results / "b").glob("*.png"):
        png.unlink()
    (results / "b").rmdir()
    expect_error(
        root, results, r"res/b: results folder of sequence 'b' not found \(expected <results>/<seq>/\)$"
    )


def test_results_one_level_too_high_say_where_the_sequences_are(dataset):
    root, results = dataset
    (results / "val").mkdir()
    for name in ("a", "b"):
        (results / name).rename(results / "val" / name)
    expect_error(
        root, results, r"res/a: results folder of sequence 'a' not found .*; it is in .*res/val: pass"
    )


def test_missing_frame(dataset):
    root, results = dataset
    (results / "b" / "00002.png").unlink()
    expect_error(root, results, r"res/b/00002\.png: predicted mask not found")
    (results / "a" / "00000.png").unlink()  # first and last frames are never read, as in the toolkit
    (results / "a" / "00003.png").unlink()
    assert evaluate_semisupervised(root, results, sequences=["a"], n_jobs=1).global_metrics()["J-Mean"] == 1.0


def test_wrong_size_rgb_ids_and_unreadable(dataset):
    root, results = dataset
    target = results / "a" / "00001.png"
    write_labels(target, labels(shape=(10, 15)))
    expect_error(root, results, r"a/00001\.png: predicted mask is 15x10, expected 14x10")
    Image.fromarray(np.zeros((10, 14, 3), np.uint8)).save(target)
    expect_error(root, results, r"a/00001\.png: predicted mask PNG has mode 'RGB'; expected an indexed")
    write_labels(target, labels((1, 255)))
    expect_error(root, results, r"a/00001\.png: predicted mask contains id 255 but sequence 'a' has 2 object")
    target.write_bytes(b"not a png at all")
    expect_error(root, results, r"a/00001\.png: unreadable predicted mask PNG")
    write_labels(target, labels())
    write_labels(root / "Annotations" / "480p" / "b" / "00002.png", labels(shape=(11, 14)))
    expect_error(root, results, r"b/00002\.png: annotation is 14x11, expected 14x10")


def test_grey_png_accepted(tmp_path):
    path = write_labels(tmp_path / "grey.png", labels(), mode="L")
    np.testing.assert_array_equal(read_label_map(path, allow_grey=True), labels())


def test_one_bit_and_sixteen_bit_masks_score_as_the_toolkit_reads_them(tmp_path):
    """The toolkit reads any one-id-per-pixel PNG with np.array: a tracker's 1-bit mask of one object,
    or 16-bit grey ids, score as their palette copies do; an id above 255 is refused naming the file."""
    truth = [labels((1,), shape=(10, 14))] * 4
    guess = [np.roll(frame, 1, axis=1) for frame in truth]
    root = make_davis(tmp_path / "DAVIS", {"a": truth})
    palette = evaluate_semisupervised(root, make_results(tmp_path / "p", {"a": guess}), n_jobs=1)
    for mode in ("1", "I;16"):
        results = tmp_path / mode.replace(";", "")
        for t, frame in enumerate(guess):
            (results / "a").mkdir(parents=True, exist_ok=True)
            image = (
                Image.fromarray(frame.astype(bool))
                if mode == "1"
                else Image.fromarray(frame.astype(np.uint16))
            )
            assert image.mode == mode
            image.save(results / "a" / f"{t:05d}.png")
        scores = evaluate_semisupervised(root, results, n_jobs=1)
        assert scores.global_metrics() == palette.global_metrics()
    Image.fromarray(np.full((10, 14), 300, np.uint16)).save(tmp_path / "I16" / "a" / "00001.png")
    expect_error(root, tmp_path / "I16", r"a/00001\.png: predicted mask PNG holds id 300; ids are 0\.\.255")


def test_empty_sequence_lists_and_short_sequences(dataset, tmp_path):
    root, results = dataset
    (root / "ImageSets" / "2017" / "val.txt").write_text("\n  \n")
    expect_error(root, results, r"val\.txt: empty sequence list")
    expect_error(root, results, r"list of sequences to evaluate is empty", sequences=[])
    short = make_davis(tmp_path / "short", {"s": [labels()] * 2})
    make_results(results, {"s": [labels()] * 2})
    expect_error(short, results, r"Annotations/480p/s: 2 annotation PNG\(s\); a sequence needs at least 3")


def test_cli_accepts_toolkit_flags_and_overwrites_stale_csvs(dataset, capsys):
    root, results = dataset
    stale = results / "global_results-val.csv"
    stale.write_text(
        "J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n0.1,0.1,0.1,0.1,0.1,0.1,0.1\n"
    )
    (results / "per-sequence_results-val.csv").write_text("stale\n")
    argv = [
        "--davis_path",
        str(root),
        "--results_path",
        str(results),
        "--set",
        "val",
        "--task",
        "semi-supervised",
    ]
    assert main(argv + ["--jobs", "1"]) == 0
    assert stale.read_text() == "J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n" + (
        "1.000,1.000,1.000,0.000,1.000,1.000,0.000\n"
    )
    assert (results / "per-sequence_results-val.csv").read_text() == (
        "Sequence,J-Mean,F-Mean\na_1,1.000,1.000\na_2,1.000,1.000\nb_1,1.000,1.000\nb_2,1.000,1.000\n"
    )
    out = capsys.readouterr().out
    assert "--------------------------- Global results for val ---------------------------" in out
    assert "---------- Per sequence results for val ----------" in out
    assert list(results.glob(".*.tmp")) == []  # atomic writes leave no temp file behind


def test_cli_bad_input_exits_2_with_message(dataset, capsys):
    root, results = dataset
    (results / "a" / "00001.png").unlink()
    assert main(["--data", str(root), "--masks", str(results), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "a/00001.png: predicted mask not found" in err
    assert not (results / "global_results-val.csv").exists()
    assert main(["--data", str(root), "--masks", str(results), "--task", "unsupervised"]) == 2


def test_cli_module_entry_point(dataset):
    root, results = dataset
    (results / "b").rename(results / "b_gone")
    proc = subprocess.run(
        [sys.executable, "-m", "mast_bench.evaluate", "--data", str(root), "--masks", str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "results folder of sequence 'b' not found" in proc.stderr and "Traceback" not in proc.stderr


def test_metrics_never_import_torch_and_workers_skip_pandas():
    code = (
        "import sys\n"
        "import mast_bench.metrics.sequence\n"
        "assert 'pandas' not in sys.modules, 'sequence workers import pandas'\n"
        "readers = sorted(m for m in sys.modules if m.startswith('mast_bench.data.'))\n"
        "assert readers == ['mast_bench.data.davis', 'mast_bench.data.images', 'mast_bench.data.inputs',"
        " 'mast_bench.data.palette', 'mast_bench.data.plain_names'], readers\n"
        "import mast_bench.evaluate, mast_bench.metrics.evaluation, mast_bench.metrics.toolkit_csv\n"
        "from mast_bench.metrics import evaluate_semisupervised, db_eval_iou\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith(('mast_bench.model',"
        " 'mast_bench.ops', 'mast_bench.harness'))]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
