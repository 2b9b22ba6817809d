"""Bad input: a clear one-line error, exit status 2, no traceback, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mast_bench.__main__ import main as mast_main
from mast_bench.data import read_label_map
from mast_bench.errors import INTERRUPTED
from mast_bench.propagate import main as propagate_main

from .conftest import make_tiny_davis


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("cli"), {"one": 1}, frames=3, size=(24, 32))


@pytest.fixture(scope="module")
def empty_first_frame(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("empty"), {"blank": 0}, frames=3, size=(24, 32))


def _run(argv, capsys):
    code = mast_main(argv)
    return code, capsys.readouterr().err


def _nothing_recorded(results):
    return not (results / "records").exists() or not list((results / "records").iterdir())


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--variant", "mast-nope"], "unknown variant 'mast-nope'"),
        (["--variant", "mast", "--checkpoint", "/nonexistent/w.pt"], "no such checkpoint file"),
        (["--variant", "mast-lab-pixels", "--checkpoint", "/nonexistent/w.pt"], "has no weights"),
        (["--variant", "mast", "--preset", "turbo"], "unknown preset 'turbo'"),
    ],
)
def test_run_rejects_bad_names_and_files(extra, message, small_davis, tmp_path, capsys):
    code, err = _run(["run", *extra, "--data", str(small_davis), "--results", str(tmp_path / "r")], capsys)
    assert code == 2 and err.startswith("error: ") and message in err
    assert "Traceback" not in err
    assert _nothing_recorded(tmp_path / "r")


def test_checkpoint_of_another_architecture(small_davis, tmp_path, capsys):
    other = tmp_path / "other.pt"
    torch.save({"state_dict": torch.nn.Linear(3, 4).state_dict()}, other)
    argv = ["run", "--variant", "mast", "--checkpoint", str(other), "--data", str(small_davis)]
    code, err = _run([*argv, "--results", str(tmp_path / "r")], capsys)
    assert code == 2 and "missing keys" in err and str(other) in err
    assert _nothing_recorded(tmp_path / "r") and not (tmp_path / "r" / "masks").exists()


def test_dataset_without_davis_layout(tmp_path, capsys):
    (tmp_path / "notdavis").mkdir()
    code, err = _run(
        [
            "run",
            "--variant",
            "mast-lab-pixels",
            "--data",
            str(tmp_path / "notdavis"),
            "--results",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 2 and "not a DAVIS-2017 layout" in err


def test_first_frame_without_objects(empty_first_frame, tmp_path, capsys):
    code, err = _run(
        [
            "run",
            "--variant",
            "mast-lab-pixels",
            "--data",
            str(empty_first_frame),
            "--results",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 2 and "no object" in err
    assert _nothing_recorded(tmp_path / "r")
    code = propagate_main(
        ["--variant", "mast-lab-pixels", "--data", str(empty_first_frame), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and "no object" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_propagate_writes_masks_resumes_and_refuses_another_configuration(small_davis, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--variant", "mast-lab-pixels", "--data", str(small_davis), "--out", str(out), "--quiet"]
    assert propagate_main(argv) == 0
    printed = capsys.readouterr().out
    assert "J&F-Mean" in printed
    masks = sorted((out / "one").glob("*.png"))
    assert [p.name for p in masks] == ["00000.png", "00001.png", "00002.png"]
    assert all(read_label_map(p).shape == (24, 32) for p in masks)
    stamp = masks[1].stat().st_mtime_ns
    assert propagate_main(argv) == 0  # the same configuration: complete sequences are kept
    assert "1 already complete" in capsys.readouterr().out
    assert masks[1].stat().st_mtime_ns == stamp
    assert propagate_main([*argv, "--set", "test_radius=3"]) == 2  # another configuration
    err = capsys.readouterr().err
    assert "another configuration" in err and "--force" in err
    assert masks[1].stat().st_mtime_ns == stamp  # untouched
    assert propagate_main([*argv, "--set", "test_radius=3", "--force"]) == 0
    assert np.array_equal(
        read_label_map(masks[0]), read_label_map(small_davis / "Annotations/480p/one/00000.png")
    )
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_a_forced_propagation_never_leaves_the_old_configurations_masks_looking_new(
    tmp_path, monkeypatch, capsys
):
    """--force into another configuration's folder, interrupted after one video: the rerun without
    --force took the other video, still the old configuration's, as complete. So did a rerun on more
    sequences after a --force on fewer."""
    from mast_bench.harness import resumable

    data, out = (
        make_tiny_davis(tmp_path / "data", {"one": 1, "two": 2}, frames=3, size=(24, 32)),
        tmp_path / "out",
    )
    argv = ["--variant", "mast-lab-pixels", "--data", str(data), "--out", str(out), "--quiet", "--no-score"]
    other = [*argv, "--set", "test_radius=3"]
    assert propagate_main(argv) == 0
    old = {name: (out / name / "00001.png").stat().st_mtime_ns for name in ("one", "two")}
    add = resumable.Ledger.add

    def interrupted_after_one(ledger, video):
        add(ledger, video)
        raise KeyboardInterrupt

    monkeypatch.setattr(resumable.Ledger, "add", interrupted_after_one)
    assert propagate_main([*other, "--force"]) == 130
    monkeypatch.setattr(resumable.Ledger, "add", add)
    capsys.readouterr()
    assert propagate_main(other) == 0
    assert "1 videos propagated (1 already complete)" in capsys.readouterr().out
    assert all((out / name / "00001.png").stat().st_mtime_ns != old[name] for name in old)
    # --force on fewer sequences under a third configuration, then all of them: "two" is recomputed
    third = [*argv, "--set", "test_radius=5"]
    assert propagate_main([*third, "--force", "--sequences", "one"]) == 0
    capsys.readouterr()
    assert propagate_main(third) == 0
    assert "1 videos propagated (1 already complete)" in capsys.readouterr().out


def test_a_video_whose_frames_changed_is_propagated_again_on_resume(tmp_path, capsys):
    """A sequence downloaded again (other pixels) kept the masks of the old frames: the rerun said
    "0 videos propagated (2 already complete)". Each video is listed with its files' fingerprint."""
    import json

    from mast_bench.harness.resumable import STAMP

    data = make_tiny_davis(tmp_path / "data", {"one": 1, "two": 2}, frames=3, size=(24, 32))
    out = tmp_path / "out"
    argv = ["--variant", "mast-lab-pixels", "--data", str(data), "--out", str(out), "--quiet", "--no-score"]
    assert propagate_main(argv) == 0
    old = {name: (out / name / "00001.png").stat().st_mtime_ns for name in ("one", "two")}
    frame = data / "JPEGImages/480p/two/00001.jpg"
    Image.fromarray(255 - np.asarray(Image.open(frame))).save(frame)
    capsys.readouterr()
    assert propagate_main(argv) == 0
    said = capsys.readouterr()
    changed = "two: its frames or annotations changed since its masks were made; propagating it again"
    assert changed in said.err
    assert "1 videos propagated (1 already complete)" in said.out
    assert (out / "one/00001.png").stat().st_mtime_ns == old["one"]
    assert (out / "two/00001.png").stat().st_mtime_ns != old["two"]
    stamp = json.loads((out / STAMP).read_text())
    assert stamp["complete"] == ["one", "two"] and sorted(stamp["inputs"]) == ["one", "two"]
    assert propagate_main(argv) == 0
    assert "0 videos propagated (2 already complete)" in capsys.readouterr().out
    # a stamp written before the fingerprints (no "inputs") keeps trusting its list
    (out / STAMP).write_text(json.dumps({k: v for k, v in stamp.items() if k != "inputs"}))
    Image.fromarray(np.asarray(Image.open(frame)) // 2).save(frame)
    assert propagate_main(argv) == 0
    assert "0 videos propagated (2 already complete)" in capsys.readouterr().out


@pytest.mark.slow
def test_propagate_without_weights_is_refused_unless_random_is_asked(small_davis, tmp_path, capsys):
    argv = ["--variant", "mast", "--data", str(small_davis), "--quiet", "--no-score"]
    assert propagate_main([*argv, "--out", str(tmp_path / "a")]) == 2
    assert "--random-init" in capsys.readouterr().err
    assert propagate_main([*argv, "--out", str(tmp_path / "b"), "--random-init"]) == 0


@pytest.mark.slow
def test_error_exit_from_a_real_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mast_bench", "run", "--variant", "nope", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown variant 'nope'") and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "start",
    [
        "from mast_bench.__main__ import main\nsys.exit(main(ARGV))",
        # python -m mast_bench.evaluate: it imported the command before any handler
        "import runpy\nsys.argv[1:] = ARGV[1:]\nrunpy.run_module('mast_bench.evaluate', run_name='__main__')",
    ],
    ids=["mast-bench", "python-m"],
)
def test_ctrl_c_while_the_command_loads_ends_with_one_line(start):
    """A Ctrl-C in the first half-second (pandas, OpenCV loading) printed a traceback."""
    code = (
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pandas':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "ARGV = ['evaluate', '--data', 'nowhere', '--masks', 'nothing']\n"
        f"{start}\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (130, f"{INTERRUPTED}\n")


def test_a_lost_worker_ends_the_command_with_one_line_and_exit_1(capsys):
    """Not bad input (2), not a bug (a traceback): the worker's death and that a rerun resumes."""
    from mast_bench.commands.base import guarded
    from mast_bench.errors import RESUME, WorkerLost

    def lost(args):
        raise WorkerLost(f"the worker process died (killed by SIGKILL) without a result; {RESUME}")

    assert guarded(lost, None) == 1
    assert capsys.readouterr().err == (
        f"error: the worker process died (killed by SIGKILL) without a result; {RESUME}\n"
    )


def test_backends_that_exclude_each_other_are_refused(capsys):
    """--scheduler, --submitit and --jobs 2 together ran on Dask and ignored the others silently."""
    argv = ["run", "--variant", "mast-lab-pixels"]
    assert mast_main([*argv, "--scheduler", "tcp://h:8786", "--submitit", "logs"]) == 2
    assert "argument --submitit: not allowed with argument --scheduler" in capsys.readouterr().err
    assert mast_main([*argv, "--scheduler", "tcp://h:8786", "--jobs", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: --jobs 2 runs jobs on this machine; with --scheduler")


def test_output_piped_into_a_reader_that_stops_ends_quietly_as_on_sigpipe():
    """`mast-bench ... | head -1`: every command printed a BrokenPipeError traceback and exited 1."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mast_bench", "variants"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # before the interpreter has started: its first line meets a closed pipe
    _, stderr = proc.communicate(timeout=120)
    assert (proc.returncode, stderr.decode()) == (141, "")


def test_unknown_set_field_and_bad_variants_file(small_davis, tmp_path, capsys):
    argv = [
        "run",
        "--variant",
        "mast-lab-pixels",
        "--data",
        str(small_davis),
        "--results",
        str(tmp_path / "r"),
    ]
    code, err = _run([*argv, "--set", "radius=3"], capsys)
    assert (
        code == 2
        and "--set: unknown variant field 'radius' (did you mean 'test_radius'?); allowed fields:" in err
    )
    bad = tmp_path / "v.toml"
    bad.write_text('[variant.x]\nbase = "mast"\ntest_radios = 3\n')
    code, err = _run([*argv, "--variants-file", str(bad)], capsys)
    assert code == 2 and f"{bad}: [variant.x]: unknown key 'test_radios'" in err
    assert _nothing_recorded(tmp_path / "r")


def test_argument_errors_exit_2_without_a_traceback(capsys, tmp_path):
    assert mast_main(["run", "--variant", "mast", "--jobs", "0"]) == 2
    assert "expected a positive integer" in capsys.readouterr().err
    assert mast_main(["frobnicate"]) == 2
    # propagate has no training preset: 'preset' built the model, then failed in it with a traceback
    out = str(tmp_path / "masks")
    assert mast_main(["propagate", "--variant", "mast-lab-pixels", "--out", out, "--max-side", "preset"]) == 2
    assert "--max-side: expected an integer >= 16 or 'full', got 'preset'" in capsys.readouterr().err
    assert not (tmp_path / "masks").exists()
    assert mast_main(["run", "--variant", "mast", "--max-side", "8"]) == 2
    assert "--max-side: expected an integer >= 16, 'full' or 'preset', got '8'" in capsys.readouterr().err


@pytest.mark.parametrize("signal_kind", ["ctrl-c", "sigterm"])
def test_a_cleanup_that_breaks_on_the_interrupt_still_ends_with_one_line(signal_kind, capsys):
    """matplotlib's PDF writer, interrupted mid-file, raises an AttributeError while closing: the
    interrupt ended in a traceback of that error. A bug that no interrupt caused still shows its own."""
    from mast_bench.commands.base import Terminated, guarded

    interrupt = Terminated if signal_kind == "sigterm" else KeyboardInterrupt

    def writing_a_pdf(args):
        try:
            raise interrupt
        finally:
            raise AttributeError("'NoneType' object has no attribute 'write'")

    assert guarded(writing_a_pdf, None) == (143 if signal_kind == "sigterm" else 130)
    assert capsys.readouterr().err == f"{INTERRUPTED}\n"

    def a_bug(args):
        raise AttributeError("no interrupt behind it")

    with pytest.raises(AttributeError, match="no interrupt behind it"):
        guarded(a_bug, None)


def test_a_max_side_below_dinos_multiple_of_64_is_refused_before_any_work(tmp_path, capsys):
    """DINO's route never makes a side shorter than 64: --max-side 16 ran a 16:9 frame at 9x64 while
    its record said max side 16."""
    data = make_tiny_davis(tmp_path / "data", {"one": 1}, frames=3, size=(24, 32))
    said = "error: protocol dino-64: max_side 32: this protocol's network side is a multiple of 64"
    common = ["--variant", "mast-lab-pixels", "--protocol", "dino-64", "--data", str(data), "--quiet"]
    assert mast_main(["propagate", *common, "--max-side", "32", "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.startswith(said)
    assert mast_main(["run", *common, "--max-side", "32", "--results", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.startswith(said)
    assert not (tmp_path / "m").exists() and not (tmp_path / "r").exists()
    out = ["--out", str(tmp_path / "m"), "--no-score"]
    assert mast_main(["propagate", *common, "--max-side", "64", *out]) == 0


def _tiny_training(tmp_path, preset: str, stage: str):
    """Five 24x32 frames and a presets file of one pairs stage ``preset`` (its other keys: ``stage``)."""
    data = make_tiny_davis(tmp_path / "data", {"one": 1}, frames=5, size=(24, 32))
    presets = tmp_path / "presets.toml"
    presets.write_text(
        f'[preset.{preset}]\n[[preset.{preset}.stage]]\nname = "pairs"\nbatch_size = 2\n'
        f"frame_size = [32, 32]\ngaps = [1]\n{stage}"
    )
    return data, presets


def test_a_variant_that_cannot_train_with_the_preset_is_refused_before_any_job_trains(tmp_path, capsys):
    """run --variant mast,mast-frozen-bn with a precise_bn preset trained and recorded mast (an hour
    on the cpu preset) before refusing the frozen-BatchNorm variant."""
    data, presets = _tiny_training(tmp_path, "pbn", "iterations = 2\nlr = 1e-3\nprecise_bn = 2\n")
    results = tmp_path / "results"
    argv = ["run", "--variant", "mast,mast-frozen-bn", "--presets", str(presets), "--preset", "pbn"]
    assert mast_main([*argv, "--data", str(data), "--results", str(results), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: preset pbn: precise_bn re-estimates BatchNorm statistics, which variant 'mast-frozen-bn' "
        "keeps frozen"
    )
    assert not list(results.rglob("*.pt")) and not list(results.rglob("records/*.json"))


def test_a_training_that_diverges_stops_at_the_first_non_finite_loss(tmp_path, capsys):
    """lr = 1e10 trained to NaN weights and exited 0 ('final loss nan'); only a later propagate
    refused the checkpoint, inside run or ablate after the whole training."""
    data, presets = _tiny_training(tmp_path, "hot", "iterations = 6\nlr = 1e10\n")
    out = tmp_path / "run"
    argv = ["train", "--variant", "mast", "--presets", str(presets), "--preset", "hot", "--quiet"]
    assert mast_main([*argv, "--data", str(data / "JPEGImages" / "480p"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stage pairs: non-finite gradients at iteration ")
    assert "training diverged" in err
    assert not (out / "checkpoint.pt").exists()


def test_a_refused_masks_folder_is_refused_before_the_frames_are_hashed(tmp_path, monkeypatch, capsys):
    """The inputs' fingerprints were taken first: a folder of the user's files was refused only after
    the whole split was read (gigabytes for YouTube-VOS), and kept the hash cache and a lock file."""
    from mast_bench.harness import resumable

    data = make_tiny_davis(tmp_path / "data", {"one": 1}, frames=3, size=(24, 32))
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's\n")
    hashed = []
    monkeypatch.setattr(resumable, "video_fingerprints", lambda *args: hashed.append(args) or {})
    argv = ["--variant", "mast-lab-pixels", "--data", str(data), "--out", str(out), "--quiet", "--no-score"]
    assert propagate_main(argv) == 2
    assert "output folder holds other files (notes.txt)" in capsys.readouterr().err
    assert hashed == [] and not (out / resumable.HASHES).exists()
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # no lock file left behind either


def test_run_says_when_its_train_data_is_not_read(small_davis, tmp_path, capsys):
    """--random-init (or --checkpoint) with --train-data of a folder that does not exist ran and
    recorded without a word: the user believed the weights came from that data."""
    argv = ["run", "--variant", "mast", "--random-init", "--data", str(small_davis), "--quiet"]
    argv += ["--results", str(tmp_path / "r"), "--train-data", str(tmp_path / "nothing")]
    code, err = _run(argv, capsys)
    assert code == 0
    assert f"note: --train-data {tmp_path / 'nothing'} is not read: no job trains" in err
    study = tmp_path / "pixels.toml"
    study.write_text(
        '[study]\nname = "pixels"\ntitle = "Pixels"\nreference = "mast-lab-pixels"\n'
        'variants = ["mast-lab-pixels"]\n'
    )
    argv = ["ablate", str(study), "--data", str(small_davis), "--results", str(tmp_path / "r"), "--quiet"]
    code, err = _run([*argv, "--train-data", str(tmp_path / "nothing")], capsys)
    assert code == 0 and err.count("is not read: no job trains") == 1  # the preview prepares the jobs too
