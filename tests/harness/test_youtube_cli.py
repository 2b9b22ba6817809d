"""YouTube-VOS through the commands: the submission layout and zip, local seen/unseen scores, a
record like the DAVIS ones, and its report with the paper's YouTube-VOS row beside it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mast_bench.__main__ import main
from mast_bench.data import YouTubeVOSDataset
from mast_bench.data.embedded_youtube import make_youtube


@pytest.fixture(scope="module")
def youtube(tmp_path_factory):
    root = tmp_path_factory.mktemp("yt") / "data"
    return make_youtube(root, seed=1, size=(48, 80), train_videos=2, valid_videos=2, frames=(20, 21))


def test_propagate_writes_exactly_the_required_frames_and_their_zip(youtube, tmp_path, capsys):
    out = tmp_path / "submission"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--protocol", "crw", "--dataset", "youtube-vos"]
    assert main([*argv, "--data", str(youtube), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "submission zip for the evaluation server" in printed and "overall" in printed
    dataset = YouTubeVOSDataset(youtube, "valid")
    expected = sorted(
        f"Annotations/{v}/{f}.png" for v in dataset.video_names() for f in dataset.required_frames(v)
    )
    written = sorted(str(p.relative_to(out)) for p in (out / "Annotations").rglob("*.png"))
    assert written == expected
    with zipfile.ZipFile(out / "submission.zip") as archive:
        assert sorted(archive.namelist()) == expected
    # a rerun resumes: every video is complete, nothing is recomputed
    assert main([*argv, "--data", str(youtube), "--out", str(out), "--quiet"]) == 0
    assert "2 already complete" in capsys.readouterr().out


def test_run_records_seen_and_unseen_scores_and_the_report_sets_the_paper_row_beside(
    youtube, tmp_path, capsys
):
    results = tmp_path / "results"
    argv = ["run", "--variant", "mast-lab-pixels", "--protocol", "vfs", "--dataset", "youtube-vos"]
    assert main([*argv, "--data", str(youtube), "--results", str(results), "--quiet"]) == 0
    (path,) = (results / "records").glob("*.json")
    record = json.loads(path.read_text())
    assert record["metrics"]["kind"] == "youtube-vos"
    scores = record["metrics"]["global"]
    assert set(scores) >= {"overall", "J_seen", "F_seen", "J_unseen", "F_unseen", "gap"}
    assert scores["overall"] == pytest.approx(
        (scores["J_seen"] + scores["F_seen"] + scores["J_unseen"] + scores["F_unseen"]) / 4
    )
    assert {row["seen"] for row in record["metrics"]["per_object"]} == {True, False}
    assert record["identity"]["dataset"]["kind"] == "youtube-vos"
    capsys.readouterr()
    assert main(["report", "--results", str(results)]) == 0
    report = (results / "reports" / "all" / "report.md").read_text()
    assert "YouTube-VOS 2018 val" in report and "64.2" in report  # the published overall
    assert f"{scores['overall'] * 100:.1f}" in report
    assert "The evaluation server is the authority for valid/test" in report
    assert "NOT comparable to the paper" in report


def test_sparse_frames_are_a_choice_recorded_apart_from_the_all_frames_run(youtube, tmp_path, capsys):
    """The all-frames folder was used wherever it was: MAMP's and CFBI's sparse protocol had no switch."""
    results = tmp_path / "results"
    argv = ["run", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(youtube)]
    argv += ["--results", str(results), "--quiet"]
    assert main(argv) == 0 and main([*argv, "--sparse-frames"]) == 0 and main([*argv, "--all-frames"]) == 0
    records = [json.loads(p.read_text()) for p in (results / "records").glob("*.json")]
    by_frames = {record["identity"]["dataset"]["all_frames"]: record for record in records}
    assert len(records) == 2 and set(by_frames) == {True, False}
    for all_frames, record in by_frames.items():
        dataset = YouTubeVOSDataset(youtube, "valid", all_frames=all_frames)
        frames = sum(len(dataset.video(name).propagation_indices()) for name in dataset.video_names())
        assert record["profile"]["frames"] == frames
    assert by_frames[True]["profile"]["frames"] >= 3 * by_frames[False]["profile"]["frames"]
    assert main(["report", "--results", str(results)]) == 0  # the rows say which frames they ran on
    rows = (results / "reports" / "all" / "report.md").read_text()
    assert "| mast-lab-pixels (data valid, all frames) |" in rows
    assert "| mast-lab-pixels (data valid, sparse frames) |" in rows
    assert "data valid, sparse frames (2 sequences), native" in rows  # and so does its set-up line
    capsys.readouterr()
    assert main(["run", "--variant", "mast-lab-pixels", "--sparse-frames", "--results", str(results)]) == 2
    assert (
        "--all-frames / --sparse-frames choose YouTube-VOS frames; the data is davis"
        in capsys.readouterr().err
    )
    assert main([*argv, "--sparse-frames", "--all-frames"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_check_reads_the_frames_the_run_would(youtube, tiny_davis, tmp_path, capsys):
    """`check` had no --sparse-frames: a sparse run's data was refused for a frame only the all-frames
    folder holds."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(youtube, copy)
    sparse = {p.relative_to(copy / "valid") for p in (copy / "valid" / "JPEGImages").rglob("*.jpg")}
    dense = sorted((copy / "all_frames" / "valid_all_frames").rglob("*.jpg"))
    broken = next(p for p in dense if Path("JPEGImages", p.parent.name, p.name) not in sparse)
    broken.write_bytes(b"not a JPEG")
    assert main(["check", "--data", str(copy)]) == 2
    assert str(broken) in capsys.readouterr().err
    assert main(["check", "--data", str(copy), "--sparse-frames"]) == 0
    assert f"{len(sparse) + len(list((copy / 'valid' / 'Annotations').rglob('*.png')))} files" in (
        capsys.readouterr().out
    )
    assert main(["check", "--data", str(copy), "--all-frames"]) == 2
    capsys.readouterr()
    assert main(["check", "--data", str(tiny_davis), "--sparse-frames"]) == 2
    assert "choose YouTube-VOS frames" in capsys.readouterr().err


def test_an_object_listed_before_its_annotation_shows_it_is_said_once_and_the_run_goes_on(
    youtube, tmp_path, capsys
):
    """Six objects of YouTube-VOS 2019 train are so listed: the whole split was refused."""
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(youtube, moved)
    meta = moved / "valid" / "meta.json"
    data = json.loads(meta.read_text())
    entries = [
        (v, o, e["frames"]) for v, video in data["videos"].items() for o, e in video["objects"].items()
    ]
    video, object_id, frames = next(entry for entry in entries if entry[2][0] != "00000")
    frames.insert(0, "00000")
    meta.write_text(json.dumps(data))
    argv = ["run", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(moved)]
    assert main([*argv, "--results", str(tmp_path / "results"), "--quiet"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert said == [
        f"note: {moved / 'valid' / 'Annotations' / video}: object {object_id}: meta.json starts it at frame "
        f"00000, whose annotation shows no pixel of it; it starts at {frames[1]}, the first annotation "
        "that does"
    ]
    assert main(["check", "--data", str(moved)]) == 0  # the check says it too, as a note
    assert f"  {said[0]}" in capsys.readouterr().out
    # two jobs in two worker processes: said once by the command, not once by each worker
    argv += ["--protocol", "mast,crw", "--jobs", "2", "--results", str(tmp_path / "jobs"), "--quiet"]
    ran = subprocess.run([sys.executable, "-m", "mast_bench", *argv], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert [line for line in ran.stderr.splitlines() if line.startswith("note: ")] == said


def test_bad_youtube_input_is_named_before_any_work(youtube, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(youtube, broken)
    meta = broken / "valid" / "meta.json"
    data = json.loads(meta.read_text())
    video = sorted(data["videos"])[0]
    first_object = sorted(data["videos"][video]["objects"])[0]
    data["videos"][video]["objects"][first_object]["frames"].insert(0, "99999")
    meta.write_text(json.dumps(data))
    out = tmp_path / "out"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(broken)]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "meta.json" in err and "99999" in err and "Traceback" not in err
    assert not out.exists()


def test_run_refuses_a_split_it_cannot_score_before_propagating(youtube, tmp_path, capsys, monkeypatch):
    """Official valid/test have no later annotations and no seen categories here: the server scores
    them, so `run` says so before any work instead of after propagating every video."""
    import shutil

    import mast_bench.harness.runner as runner

    unscorable = tmp_path / "valid-only"
    shutil.copytree(youtube, unscorable)
    (unscorable / "train" / "meta.json").unlink()
    for name in ("run_isolated", "run_propagation"):
        monkeypatch.setattr(runner, name, lambda *a, **k: pytest.fail("propagated before refusing"))
    argv = ["run", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(unscorable)]
    assert main([*argv, "--results", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {unscorable}/valid: no training meta.json to tell seen from unseen categories (none at "
        f"{unscorable}/train/meta.json); pass --seen-meta; `mast-bench propagate` writes the masks without "
        "scoring them"
    )


def test_a_split_without_its_meta_json_is_refused_before_propagating(youtube, tmp_path, capsys, monkeypatch):
    """The reader takes objects from the annotations without it, but scoring reads it: run used to
    propagate every video first, and propagate to exit 2 after its masks and zip."""
    import shutil

    import mast_bench.harness.runner as runner

    data = tmp_path / "no-meta"
    shutil.copytree(youtube, data)
    (data / "valid" / "meta.json").unlink()
    argv = ["--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(data), "--quiet"]
    reason = f"{data}/valid/meta.json: missing, and scoring reads each object's frames and category there"
    with monkeypatch.context() as patch:
        for name in ("run_isolated", "run_propagation"):
            patch.setattr(runner, name, lambda *a, **k: pytest.fail("propagated before refusing"))
        assert main(["run", *argv, "--results", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {reason}; `mast-bench propagate` writes the masks without scoring them"
    )
    assert main(["propagate", *argv, "--out", str(tmp_path / "masks")]) == 0
    assert capsys.readouterr().out.strip().endswith(f"not scored: {reason}")


def test_propagating_some_videos_scores_them_and_writes_no_partial_submission(youtube, tmp_path, capsys):
    """The zip covered the whole split: a run with --sequences exited 2 after its work, unscored."""
    name = YouTubeVOSDataset(youtube, "valid").video_names()[0]
    out = tmp_path / "some"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--protocol", "crw", "--dataset", "youtube-vos"]
    assert main([*argv, "--data", str(youtube), "--out", str(out), "--sequences", name, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert (
        "submission zip: not written (1 of the split's 2 videos; the evaluation server needs every one)"
        in (printed)
    )
    assert "overall" in printed and not (out / "submission.zip").exists()


def test_a_video_meta_json_does_not_list_is_refused_not_left_out_of_the_submission(youtube, tmp_path, capsys):
    """It was silently left out of the zip, which the server then refuses."""
    import shutil

    data = tmp_path / "extra"
    shutil.copytree(youtube, data)
    first = YouTubeVOSDataset(data, "valid").video_names()[0]
    shutil.copytree(data / "valid" / "JPEGImages" / first, data / "valid" / "JPEGImages" / "valid99-extra")
    out = tmp_path / "masks"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(data)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {data}/valid/JPEGImages/valid99-extra: a video {data}/valid/meta.json does not list (the "
        "submission needs masks for every video of JPEGImages)"
    )
    assert not out.exists()


def test_a_selection_with_nothing_to_score_is_refused_before_propagating(
    youtube, tmp_path, capsys, monkeypatch
):
    """One frame, its objects first annotated there: the record's metrics were blank, exit 0."""
    import shutil

    import mast_bench.harness.runner as runner

    data = tmp_path / "short"
    shutil.copytree(youtube, data)
    name = YouTubeVOSDataset(data, "valid").video_names()[0]
    meta = json.loads((data / "valid" / "meta.json").read_text())
    first = sorted((data / "valid" / "JPEGImages" / name).iterdir())[0].stem
    objects = meta["videos"][name]["objects"]
    meta["videos"][name]["objects"] = {
        k: {**v, "frames": [first]} for k, v in objects.items() if first in v["frames"]
    }
    (data / "valid" / "meta.json").write_text(json.dumps(meta))
    for folder in (data / "valid" / "JPEGImages" / name, data / "valid" / "Annotations" / name):
        for path in sorted(folder.iterdir())[1:]:
            path.unlink()
    for path in sorted((data / "all_frames" / "valid_all_frames" / "JPEGImages" / name).iterdir())[1:]:
        path.unlink()
    for entry in ("run_isolated", "run_propagation"):
        monkeypatch.setattr(runner, entry, lambda *a, **k: pytest.fail("propagated before refusing"))
    argv = ["run", "--variant", "mast-lab-pixels", "--dataset", "youtube-vos", "--data", str(data)]
    assert main([*argv, "--sequences", name, "--results", str(tmp_path / "r"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {data}/valid: nothing to score in {name} (no object is annotated after its first frame); "
        "`mast-bench propagate` writes the masks without scoring them"
    )


def test_a_submission_zip_that_no_longer_matches_its_folder_is_removed(youtube, tmp_path, capsys):
    """A whole-split zip stayed beside the masks a --force run on some videos under another
    configuration then changed: uploading it sent the earlier configuration's masks."""
    name = YouTubeVOSDataset(youtube, "valid").video_names()[0]
    out = tmp_path / "masks"
    argv = ["propagate", "--variant", "mast-lab-pixels", "--protocol", "crw", "--dataset", "youtube-vos",
            "--data", str(youtube), "--out", str(out), "--quiet", "--no-score"]  # fmt: skip
    assert main(argv) == 0 and (out / "submission.zip").is_file()
    assert main([*argv, "--sequences", name]) == 0  # nothing changed: the zip still matches
    assert (out / "submission.zip").is_file()
    capsys.readouterr()
    assert main([*argv, "--sequences", name, "--set", "test_radius=3", "--force"]) == 0
    assert f"removed {out / 'submission.zip'}: an earlier run's" in capsys.readouterr().out
    assert not (out / "submission.zip").exists()
