"""A corpus of broken inputs: each exits 2 with one `error:` naming the culprit, no traceback, no output."""

from __future__ import annotations

import json
import pickle
import shutil

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mast_bench.__main__ import main
from mast_bench.data.palette import write_label_map

from .conftest import make_tiny_davis


def _rgb_mask(root):
    Image.new("RGB", (32, 24)).save(root / "Annotations/480p/one/00002.png")
    return "one/00002.png"


def _grey_mask(root):
    Image.new("L", (32, 24)).save(root / "Annotations/480p/one/00002.png")
    return "one/00002.png"


def _annotation_size(root):
    write_label_map(root / "Annotations/480p/two/00003.png", np.zeros((20, 30), np.uint8))
    return "two/00003.png"


def _frame_size(root):
    Image.new("RGB", (30, 20)).save(root / "JPEGImages/480p/two/00004.jpg")
    return "two/00004.jpg"


def _missing_frame(root):
    (root / "JPEGImages/480p/one/00003.jpg").unlink()
    return "one/00003.jpg"


def _empty_jpeg(root):
    (root / "JPEGImages/480p/one/00004.jpg").write_bytes(b"")
    return "one/00004.jpg"


def _truncated_png(root):
    path = root / "Annotations/480p/two/00005.png"
    path.write_bytes(path.read_bytes()[:-30])
    return "two/00005.png"


def _missing_split(root):
    (root / "ImageSets/2017/val.txt").unlink()
    return "ImageSets/2017/val.txt"


def _unknown_sequence(root):
    (root / "ImageSets/2017/val.txt").write_text("one\nghost\n")
    return "ghost"


def _first_frame_void(root):
    write_label_map(root / "Annotations/480p/one/00000.png", np.full((24, 32), 255, np.uint8))
    return "one/00000.png"


def _orphan_annotation(root):
    write_label_map(root / "Annotations/480p/one/00099.png", np.zeros((24, 32), np.uint8))
    return "one/00099.png"


BROKEN = [
    _rgb_mask,
    _grey_mask,
    _annotation_size,
    _frame_size,
    _missing_frame,
    _empty_jpeg,
    _truncated_png,
    _missing_split,
    _unknown_sequence,
    _first_frame_void,
    _orphan_annotation,
]


@pytest.mark.parametrize("command", ["propagate", "run"])
@pytest.mark.parametrize("break_it", BROKEN, ids=lambda f: f.__name__.strip("_"))
def test_broken_datasets(break_it, command, tmp_path, capsys):
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=6, size=(24, 32))
    culprit = break_it(root)
    target = tmp_path / "out"
    where = ["--out", str(target)] if command == "propagate" else ["--results", str(target)]
    assert main([command, "--variant", "mast-lab-pixels", "--data", str(root), *where, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and culprit in err and "Traceback" not in err
    assert not target.exists() or not any(p for p in target.rglob("*") if p.suffix in (".png", ".json"))


class _Evil:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def _checkpoints(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"state_dict": torch.nn.Linear(3, 4).state_dict()}, other)
    truncated = tmp_path / "truncated.pt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"state_dict": _Evil()}))
    (tmp_path / "folder.pt").mkdir()
    return {
        "other": (other, "does not fit"),
        "truncated": (truncated, "cannot read"),
        "evil": (evil, "cannot read"),
        "folder": (tmp_path / "folder.pt", "a folder, not a checkpoint file"),
    }


@pytest.mark.parametrize("case", ["other", "truncated", "evil", "folder"])
def test_bad_checkpoints(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    path, message = _checkpoints(tmp_path)[case]
    argv = ["propagate", "--variant", "mast", "--checkpoint", str(path), "--data", str(root), "--out", "out"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["run", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos"], "use --dataset davis"),
        (["run", "--variant", "mast-lab-pixels", "--protocol", "stm"], "unknown protocol 'stm'"),
        (
            ["run", "--variant", "mast-lab-pixels", "--set", "memory=everything"],
            "--set.memory: got 'everything'",
        ),
        (["train", "--variant", "mast-lab-pixels"], "has no trainable encoder"),
        (["run", "--variant", "resnet18-imagenet"], "pass --checkpoint PATH"),
    ],
)
def test_bad_names_and_settings(argv, message, tmp_path, capsys):
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    assert (
        main([*argv, "--data", str(root), *(["--results", str(tmp_path / "r")] if argv[0] == "run" else [])])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("*.json"))


def test_run_refuses_first_frame_only_annotations_before_propagating(tmp_path, capsys, monkeypatch):
    """DAVIS test-dev annotates first frames only: `run` scores every job, so it says so before any
    propagation (it used to propagate every sequence, then fail on the metric's minimum)."""
    import mast_bench.harness.runner as runner

    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=6, size=(24, 32))
    for path in (root / "Annotations/480p/two").glob("*.png"):
        if path.stem != "00000":
            path.unlink()
    for name in ("run_isolated", "run_propagation"):
        monkeypatch.setattr(runner, name, lambda *a, **k: pytest.fail("propagated before refusing"))
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(root), "--results", str(tmp_path / "r")]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {root}/Annotations/480p/two: 1 of 6 frames annotated, and scoring needs them all (a DAVIS "
        "test-dev split?); `mast-bench propagate` writes the masks without scoring them"
    )
    out = tmp_path / "masks"
    assert (
        main(["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--quiet"])
        == 0
    )
    assert len(list((out / "two").glob("*.png"))) == 6


def test_run_refuses_a_sequence_too_short_to_score_and_propagate_says_why(tmp_path, capsys, monkeypatch):
    """The toolkit scores neither the first frame nor the last: a fully annotated 2-frame sequence
    used to be propagated, then fail in the metric (`propagate` too, after writing every mask)."""
    import mast_bench.harness.runner as runner

    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=6, size=(24, 32))
    for folder, suffix in (("JPEGImages", "jpg"), ("Annotations", "png")):
        for index in range(2, 6):
            (root / f"{folder}/480p/two/{index:05d}.{suffix}").unlink()
    with monkeypatch.context() as patch:
        for name in ("run_isolated", "run_propagation"):
            patch.setattr(runner, name, lambda *a, **k: pytest.fail("propagated before refusing"))
        argv = ["run", "--variant", "mast-lab-pixels", "--data", str(root), "--results", str(tmp_path / "r")]
        assert main([*argv, "--quiet"]) == 2
    reason = (
        f"{root}/Annotations/480p/two: 2 frame(s), and scoring needs at least 3 (the first and the last "
        "frame are not scored)"
    )
    assert capsys.readouterr().err.strip() == (
        f"error: {reason}; `mast-bench propagate` writes the masks without scoring them"
    )
    out = tmp_path / "masks"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip().endswith(f"not scored: {reason}")
    assert len(list((out / "two").glob("*.png"))) == 2


@pytest.mark.parametrize("inside", ["Annotations/480p", "JPEGImages/480p/two", "JPEGImages/480p/two/x", "."])
def test_propagate_never_writes_over_the_dataset_even_forced(inside, tmp_path, capsys):
    """A sequence's masks folder replaces the one there: --out at the dataset's annotations used to
    overwrite the ground truth with predictions (then score them against themselves: J&F 1.0), and
    --out at its frames deleted every JPEG."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=4, size=(24, 32))
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    out = root / inside
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out)]
    assert main([*argv, "--force", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out}: the output folder overlaps the dataset's {root}/")
    assert err.endswith("choose an --out outside the dataset's frame and annotation folders")
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before


@pytest.mark.parametrize(
    "device, message",
    [
        ("mps", "--device mps: mast-bench runs on cpu or cuda (cuda:N), not mps"),
        ("meta", "--device meta: mast-bench runs on cpu or cuda (cuda:N), not meta"),
        ("nonsense", "--device 'nonsense': not a torch device (cpu, cuda, cuda:1 ...)"),
    ],
)
def test_a_device_it_cannot_run_on_is_refused_before_the_output_is_touched(device, message, tmp_path, capsys):
    """mps, xla, meta ... parsed as torch devices and failed later with a traceback, after the output
    folder had its stamp and lock."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out)]
    assert main([*argv, "--device", device, "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"
    assert not out.exists()


def test_a_sequence_named_twice_is_one_sequence(tmp_path, capsys):
    """`--sequences one,one` propagated `one` twice, keyed its record as three videos and stamped the
    folder so that `--sequences one` was refused as another configuration."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=4, size=(24, 32))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--no-score"]
    assert main([*argv, "--sequences", "one,one", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("1 videos propagated (0 already complete)")
    assert main([*argv, "--sequences", "one", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("0 videos propagated (1 already complete)")


def test_a_cuda_index_past_the_machine_s_devices_is_refused(monkeypatch):
    from mast_bench.commands.base import resolve_device
    from mast_bench.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(
        ConfigError, match=r"^--device cuda:7: this machine has 2 CUDA device\(s\), cuda:0..cuda:1$"
    ):
        resolve_device("cuda:7")


def test_frame_names_whose_text_and_number_orders_differ_are_refused(tmp_path, capsys):
    """9.jpg, 10.jpg: the official code and the toolkit read names as text (10 before 2), the reader
    as numbers, so propagation and scoring disagreed on which frame is last; now it is said first."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=11, size=(24, 32))
    for folder in ("JPEGImages/480p/one", "Annotations/480p/one"):
        for path in (root / folder).iterdir():
            path.rename(path.with_name(f"{int(path.stem)}{path.suffix}"))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: {root}: 1 problem in 1 sequence(s)")
        and (
            f"{root}/JPEGImages/480p/one: frame names sort differently as text (10.jpg before 2.jpg) and as "
            "numbers; the official code and the toolkit read them as text: zero-pad them (00000.jpg, "
            "00001.jpg ...)"
        )
        in err
    )
    assert not out.exists()


def _spoilt(state, key, change):
    return {**state, key: change(state[key])}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.to_sparse(), "a torch.sparse_coo tensor, expected a dense one"),
        (lambda t: torch.full_like(t, float("nan")), "non-finite values (NaN or inf): diverged weights?"),
        (lambda t: t.bool(), "dtype torch.bool, expected torch.float32"),
        (lambda t: t.to(torch.complex64), "dtype torch.complex64, expected torch.float32"),
    ],
    ids=["sparse", "nan", "bool", "complex"],
)
def test_checkpoint_tensors_it_cannot_use_are_named(change, message, tmp_path, capsys, monkeypatch):
    """A sparse tensor failed with a traceback in load_state_dict; NaN, bool and complex weights were
    loaded (cast without a word) and scored, exit 0."""
    from mast_bench import create_model

    monkeypatch.chdir(tmp_path)
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    key = "feature_extraction.conv1.1.bias"
    state = create_model("mast", seed=0).state_dict()
    assert key in state
    path = tmp_path / "spoilt.pt"
    torch.save({"state_dict": _spoilt(state, key, change)}, path)
    argv = ["propagate", "--variant", "mast", "--checkpoint", str(path), "--data", str(root), "--out", "out"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}: {key}: {message}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "spoil, said",
    [
        (lambda r: (r / "records").write_text("x"), "records: exists and is not a folder"),
        (
            lambda r: (r / "records.csv").mkdir(),
            "records.csv: is a folder (expected the records table, a file)",
        ),
    ],
    ids=["records-a-file", "table-a-folder"],
)
def test_a_results_folder_that_cannot_take_the_record_is_refused_before_propagating(
    spoil, said, tmp_path, capsys, monkeypatch
):
    """Both were found after the propagation (the record published, then the table failed)."""
    import mast_bench.harness.runner as runner

    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=3, size=(24, 32))
    results = tmp_path / "r"
    results.mkdir()
    spoil(results)
    for name in ("run_isolated", "run_propagation"):
        monkeypatch.setattr(runner, name, lambda *a, **k: pytest.fail("propagated before refusing"))
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(root), "--results", str(results), "--quiet"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {results}/{said}")


def test_sequences_must_be_in_the_split_the_record_names(tmp_path, capsys):
    """With --sequences, --split was never read: a split that does not exist, or one that does not
    list the sequence, was written into the record's identity as if it had been evaluated."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 1}, frames=3, size=(24, 32))
    (root / "ImageSets/2017/train.txt").write_text("two\n")
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(root), "--results", str(tmp_path / "r")]
    assert main([*argv, "--sequences", "one", "--split", "nosplit", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {root}/ImageSets/2017/nosplit.txt: split list missing (available splits: train, val)"
    )
    assert main([*argv, "--sequences", "one", "--split", "train", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {root}/ImageSets/2017/train.txt: the split lists no sequence 'one'; pass the --split whose "
        "list has it"
    )
    assert not (tmp_path / "r" / "records").exists()


def test_a_first_frame_of_another_size_is_the_one_named(tmp_path, capsys):
    """Sizes were compared with the first frame: an odd first frame had every other file blamed."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1}, frames=5, size=(24, 32))
    odd = root / "JPEGImages/480p/one/00000.jpg"
    Image.new("RGB", (16, 12)).save(odd)
    assert main(["check", "--data", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"{odd}: size (H, W) = (12, 16), expected (24, 32) like {odd.with_name('00001.jpg')}" in err
    assert "00002.jpg: size" not in err and "00002.png: size" not in err


def test_a_masks_folder_grows_by_runs_on_more_sequences_and_says_what_differs(tmp_path, capsys):
    """The stamp held the chosen sequences: adding one to a folder was refused as 'another
    configuration', saying nothing of what differed."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=4, size=(24, 32))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--no-score"]
    assert main([*argv, "--sequences", "one", "--quiet"]) == 0
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("1 videos propagated (1 already complete)")
    assert main([*argv, "--set", "test_radius=3", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {out}: output folder already holds results of another configuration (one, two; its "
        "variant differs); choose another --out or --force"
    )


def test_propagate_removes_an_earlier_evaluation_s_csvs_when_it_changes_the_masks(tmp_path, capsys):
    """evaluate writes the toolkit's CSVs into the masks folder; a later propagate that added a
    sequence left them, and the official toolkit reuses CSVs it finds instead of scoring."""
    root = make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=4, size=(24, 32))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--data", str(root), "--out", str(out), "--no-score"]
    assert main([*argv, "--sequences", "one", "--quiet"]) == 0
    assert main(["evaluate", "--data", str(root), "--masks", str(out), "--sequences", "one"]) == 0
    (out / "my-notes.csv").write_text("mine")
    scores = ["global_results-val.csv", "per-sequence_results-val.csv"]
    assert main([*argv, "--sequences", "one", "--quiet"]) == 0  # nothing changed: the scores stand
    assert all((out / name).is_file() for name in scores)
    capsys.readouterr()
    assert main([*argv, "--quiet"]) == 0
    assert f"removed {', '.join(scores)} from {out}: an earlier evaluation's, and" in capsys.readouterr().err
    assert not any((out / name).exists() for name in scores) and (out / "my-notes.csv").read_text() == "mine"


@pytest.mark.parametrize("case", ["other files", "inside the data"])
def test_train_refuses_a_run_folder_of_other_files_or_inside_its_data(case, tmp_path, capsys):
    """A folder of other files had its checkpoint.pt and train.json written over; a run inside its
    training set was deleted with it when the set was made again."""
    data = make_tiny_davis(tmp_path / "frames", {"a": 1}, frames=12, size=(24, 32))
    if case == "other files":
        out = tmp_path / "mine"
        out.mkdir()
        (out / "checkpoint.pt").write_text("my own")
        said = f"{out}: holds other files (checkpoint.pt) and no training run (train-data.json, stages/)"
    else:
        out = data / "run"
        said = f"{out}: the run folder overlaps its training data {data}; choose a run folder outside it"
    argv = ["train", "--variant", "mast", "--preset", "smoke", "--data", str(data), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {said}")
    assert case != "other files" or (out / "checkpoint.pt").read_text() == "my own"
    assert case != "inside the data" or not out.exists()


def test_learning_curve_refuses_a_report_folder_that_is_a_file_before_training(tmp_path, capsys):
    """It trained and scored everything, then failed writing figures into the file."""
    data = make_tiny_davis(tmp_path / "frames", {"a": 1}, frames=12, size=(24, 32))
    (tmp_path / "afile").write_text("x")
    argv = ["learning-curve", "--variant", "mast", "--preset", "cpu", "--train-data", str(data)]
    assert main([*argv, "--out", str(tmp_path / "afile"), "--results", str(tmp_path / "r"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 'afile'}: exists and is not a folder (expected the report's folder)"
    )
    assert not (tmp_path / "r").exists()


def test_a_stage_the_clips_cannot_feed_is_refused_before_the_first_stage_trains(tmp_path, capsys):
    """Its refusal came when it started, after the earlier stages had trained (40 minutes of the cpu
    preset on short shots), and named neither the stage nor the preset."""
    data = make_tiny_davis(tmp_path / "frames", {"a": 1}, frames=12, size=(24, 32))
    presets = tmp_path / "p.toml"
    presets.write_text(
        "[preset.far]\n"
        "[[preset.far.stage]]\nname = 'pairs'\niterations = 2\nbatch_size = 1\nlr = 1e-3\n"
        "frame_size = [16, 16]\n"
        "[[preset.far.stage]]\nname = 'memory'\nsampling = 'memory'\niterations = 2\nbatch_size = 1\n"
        "lr = 1e-3\nframe_size = [16, 16]\nlong_term = 1\nlong_term_range = [40, 60]\n"
    )
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--presets", str(presets), "--preset", "far", "--data", str(data)]
    assert main([*argv, "--out", str(out), "--quiet", "--device", "cpu"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: preset far, stage memory: no clip is long enough for this stage: its references reach 40 "
        "frames back, the longest clip has 12 frames"
    )
    assert not (out / "stages").exists()


def test_train_refuses_a_frame_of_another_size_before_the_first_iteration(tmp_path, capsys):
    """Frame folders were checked a clip at a time as training first read them: a frame of another
    size in a later clip stopped a run part-way, checkpoints written, hours in on a real set."""
    data = make_tiny_davis(tmp_path / "frames", {"a": 1, "b": 1, "c": 1}, frames=12, size=(24, 32))
    odd = data / "JPEGImages" / "480p" / "c" / "00007.jpg"
    Image.new("RGB", (40, 30)).save(odd)
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--preset", "smoke", "--data", str(data), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {odd}: size (H, W) = (30, 40), expected (24, 32) like {odd.with_name('00000.jpg')}"
    )
    assert not out.exists()  # refused before any work, the run folder not made


@pytest.mark.parametrize("command", ["train", "data training-set"])
def test_label_maps_given_as_training_frames_are_refused_naming_one(command, tmp_path, capsys):
    """A DAVIS Annotations/ folder given as frames trained on its label colours, silently."""
    davis = make_tiny_davis(tmp_path / "davis", {"a": 1, "b": 1}, frames=12, size=(24, 32))
    labels = davis / "Annotations" / "480p"
    out = tmp_path / "out"
    if command == "train":
        argv = ["train", "--variant", "mast", "--preset", "smoke", "--data", str(labels), "--out", str(out)]
        argv.append("--quiet")
    else:
        argv = ["data", "training-set", str(labels), "--out", str(out)]
    assert main(argv) == 2
    first = labels / "a" / "00000.png"
    assert capsys.readouterr().err.strip() == (
        f"error: {first}: a palette image, as label maps are (Annotations/), not a camera frame; give the "
        "frames' folder (JPEGImages/), or convert palette frames to RGB"
    )
    assert not out.exists()


@pytest.mark.parametrize("odd", ["a label map among the frames", "a broken link", "a link to itself"])
def test_a_frame_that_is_no_camera_frame_is_refused_wherever_it_is_in_its_clip(odd, tmp_path, capsys):
    """Only a clip's first frame was checked for a label map, and a broken link was skipped (the clip
    read one frame short, so a pair 2 apart was 3): both trained, silently."""
    data = make_tiny_davis(tmp_path / "frames", {"a": 1, "b": 1}, frames=12, size=(24, 32))
    frame = data / "JPEGImages" / "480p" / "b" / "00004.jpg"
    frame.unlink()
    if odd == "a label map among the frames":
        shutil.copy(data / "Annotations" / "480p" / "b" / "00004.png", frame)
        said = f"{frame}: a palette image, as label maps are (Annotations/), not a camera frame"
    else:
        frame.symlink_to(frame if odd == "a link to itself" else tmp_path / "gone.jpg")
        said = f"{frame}: a symbolic link to nothing (broken, or a loop); expected an image file"
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--preset", "smoke", "--data", str(data), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {said}") and err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried"
        ),
        cv2.error(
            "OpenCV(5.1.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate 1200 bytes"
        ),
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
    ],
)
def test_a_stage_that_runs_out_of_memory_says_so_in_one_line(error, tmp_path, capsys, monkeypatch):
    """A batch or frame size the machine cannot hold ended in a traceback (cv2, the CPU allocator, CUDA)."""
    import mast_bench.harness.training as training

    def out_of_memory(*args, **kwargs):
        raise error

    monkeypatch.setattr(training, "_step", out_of_memory)
    data = make_tiny_davis(tmp_path / "frames", {"a": 1}, frames=12, size=(24, 32))
    argv = ["train", "--variant", "mast", "--preset", "smoke", "--data", str(data)]
    argv += ["--out", str(tmp_path / "r")]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: preset smoke, stage pairs: out of memory on cpu (batch_size 2, frame_size 64x64, "
        "1 reference(s) a sample): lower batch_size or frame_size, or train where there is more memory; "
        "what ran out: "
    )
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_run_folder_of_another_variant_is_refused_before_the_clips_are_opened(
    tmp_path, capsys, monkeypatch
):
    """The refusal came after a folder of videos had been decoded into a training set (minutes of a
    real set's decoding, then 'holds a run of another variant/preset')."""
    import mast_bench.harness.batches as batches

    data = make_tiny_davis(tmp_path / "frames", {"a": 1}, frames=12, size=(24, 32))
    presets = tmp_path / "p.toml"
    presets.write_text("[preset.t]\niterations = 1\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\n")
    out = tmp_path / "run"
    argv = ["train", "--presets", str(presets), "--preset", "t", "--data", str(data), "--out", str(out)]
    assert main([*argv, "--variant", "mast", "--quiet"]) == 0
    monkeypatch.setattr(batches, "open_clip_source", lambda *a, **k: pytest.fail("opened the clips first"))
    assert main([*argv, "--variant", "mast-rgb", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"error: {out}/stages/1-pairs/checkpoint.pt: holds a run of another variant/preset; use another run "
        "folder or delete it\n"
    )


def test_a_run_that_stopped_before_its_first_checkpoint_takes_other_data(tmp_path, capsys):
    """train-data.json was written before the first step: after a failure there, the same run folder
    refused the corrected data as 'this run trained on other data', though nothing had trained."""
    bad = make_tiny_davis(tmp_path / "bad", {"a": 1}, frames=12, size=(24, 32))
    cut = bad / "JPEGImages" / "480p" / "a" / "00000.jpg"
    cut.write_bytes(cut.read_bytes()[: len(cut.read_bytes()) // 2])  # header intact, data cut short
    good = make_tiny_davis(tmp_path / "good", {"a": 1, "b": 1}, frames=12, size=(24, 32))
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--preset", "smoke", "--out", str(out), "--stop-after", "2"]
    assert main([*argv, "--data", str(bad), "--quiet"]) == 2
    assert str(cut) in capsys.readouterr().err and (out / "train-data.json").is_file()
    assert main([*argv, "--data", str(good), "--quiet"]) == 0
    assert json.loads((out / "train-data.json").read_text())["clips"] == [["a", 12], ["b", 12]]


def test_a_run_killed_between_a_snapshot_and_its_checkpoint_keeps_its_data(tmp_path, capsys):
    """A snapshot is written at its step, before that step's checkpoint: a run killed between the two
    holds weights trained on its data, so other data is refused, not recorded over them."""
    first = make_tiny_davis(tmp_path / "first", {"a": 1}, frames=12, size=(24, 32))
    other = make_tiny_davis(tmp_path / "other", {"a": 1, "b": 1}, frames=12, size=(24, 32))
    presets = tmp_path / "presets.toml"
    presets.write_text(
        '[preset.tiny]\nsnapshots = [0.0, 0.5, 1.0]\n[[preset.tiny.stage]]\nname = "pairs"\n'
        "iterations = 4\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1]\n"
    )
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--presets", str(presets), "--preset", "tiny", "--out", str(out)]
    assert main([*argv, "--data", str(first), "--stop-after", "2", "--quiet"]) == 0
    assert (out / "snapshots" / "iter-0000002.pt").is_file()
    for checkpoint in out.rglob("checkpoint.pt"):
        checkpoint.unlink()  # killed after the snapshot of step 2, before its checkpoint
    assert main([*argv, "--data", str(other), "--quiet"]) == 2
    assert "this run trained on other data" in capsys.readouterr().err
