import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.palette import read_label_map, write_label_map
from mast_bench.data.youtube_submission import YouTubeVOSSubmission
from mast_bench.data.youtube_vos import YouTubeVOSDataset
from mast_bench.errors import DataError

FRAMES = ["00000", "00005", "00010", "00015"]
SIZE = (20, 30)


def _masks():
    first = np.zeros(SIZE, np.uint8)
    first[2:8, 3:9] = 1
    later = np.zeros(SIZE, np.uint8)
    later[10:15, 20:28] = 2  # object 2 appears at 00010
    later[2:8, 3:9] = 1  # a PNG may also show objects that started earlier
    return first, later


def _save_frame(path: Path, rng, size=SIZE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


@pytest.fixture
def ytvos(tmp_path: Path) -> Path:
    """valid/ with video 'a' (object 1 from 00000, object 2 from 00010) and video 'b' (one object)."""
    split = tmp_path / "valid"
    rng = np.random.default_rng(1)
    first, later = _masks()
    for video in ("a", "b"):
        for name in FRAMES:
            _save_frame(split / "JPEGImages" / video / f"{name}.jpg", rng)
    write_label_map(split / "Annotations/a/00000.png", first)
    write_label_map(split / "Annotations/a/00010.png", later)
    write_label_map(split / "Annotations/b/00000.png", first)
    meta = {
        "videos": {
            "a": {
                "objects": {
                    "1": {"category": "cat", "frames": FRAMES},
                    "2": {"category": "dog", "frames": FRAMES[2:]},
                }
            },
            "b": {"objects": {"1": {"category": "cat", "frames": FRAMES}}},
        }
    }
    (split / "meta.json").write_text(json.dumps(meta))
    return tmp_path


def _add_all_frames(root: Path, folder: str = "all_frames/valid_all_frames") -> None:
    rng = np.random.default_rng(2)
    for video in ("a", "b"):
        for index in range(18):  # two after the last sparse frame, as a video's 30 fps frames run on
            _save_frame(root / folder / "JPEGImages" / video / f"{index:05d}.jpg", rng)


def _edit_meta(root: Path, change) -> None:
    path = root / "valid" / "meta.json"
    meta = json.loads(path.read_text())
    change(meta["videos"])
    path.write_text(json.dumps(meta))


def test_objects_appearing_later(ytvos: Path):
    dataset = YouTubeVOSDataset(ytvos, "valid")
    assert dataset.video_names() == ("a", "b") and dataset.all_frames_dir is None
    video = dataset.video("a")
    assert video.num_frames == 4 and video.size == SIZE and video.frame_names == tuple(FRAMES)
    assert video.required == tuple(FRAMES) and video.required_indices() == (0, 1, 2, 3)
    assert video.object_ids() == (1, 2) and video.categories() == {1: "cat", 2: "dog"}
    assert video.start_frames() == {0: (1,), 2: (2,)} and video.first_index == 0
    first, later = _masks()
    inputs = list(video.propagation_inputs())
    assert [i.index for i in inputs] == [0, 1, 2, 3] and all(i.required for i in inputs)
    assert [i.annotation is None for i in inputs] == [False, True, False, True]
    assert [i.new_ids for i in inputs] == [(1,), (), (2,), ()]
    np.testing.assert_array_equal(inputs[0].annotation, first)
    np.testing.assert_array_equal(inputs[2].annotation, later)  # as stored: the core takes object 2 from it
    assert inputs[1].rgb.shape == (*SIZE, 3) and inputs[1].rgb.dtype == np.uint8


def test_split_folder_itself_and_no_meta_json(ytvos: Path):
    (ytvos / "valid" / "meta.json").unlink()
    video = YouTubeVOSDataset(ytvos / "valid").video("a")
    assert video.start_frames() == {0: (1,), 2: (2,)}
    assert video.objects[0].category is None


def test_untidy_copies_read_as_the_tidy_split(ytvos: Path):
    tidy = YouTubeVOSDataset(ytvos, "valid").video("a")
    for image in [*ytvos.rglob("*.jpg"), *ytvos.rglob("*.png")]:
        (image.parent / f"._{image.name}").write_bytes(b"\0\5\26\7 AppleDouble")
    (ytvos / "valid/JPEGImages/.ipynb_checkpoints").mkdir()
    meta = ytvos / "valid/meta.json"
    meta.write_bytes(b"\xef\xbb\xbf" + meta.read_bytes())
    untidy = YouTubeVOSDataset(ytvos, "valid")
    assert untidy.video_names() == ("a", "b")
    assert untidy.video("a") == tidy
    meta.unlink()
    assert YouTubeVOSDataset(ytvos, "valid").video_names() == ("a", "b")


@pytest.mark.parametrize("folder", ["all_frames/valid_all_frames", "valid_all_frames"])
def test_all_frames_are_propagated_the_sparse_ones_required(ytvos: Path, folder: str):
    _add_all_frames(ytvos, folder)
    dataset = YouTubeVOSDataset(ytvos, "valid")
    assert dataset.all_frames_dir == ytvos / folder / "JPEGImages"
    video = dataset.video("a")
    assert video.num_frames == 18 and video.required == tuple(FRAMES)
    assert video.required_indices() == (0, 5, 10, 15) and video.start_frames() == {0: (1,), 10: (2,)}
    inputs = list(video.propagation_inputs())
    assert [i.index for i in inputs] == list(range(16))  # not past the last frame the submission needs
    assert [i.name for i in inputs if i.required] == FRAMES
    assert [i.index for i in inputs if i.annotation is not None] == [0, 10]
    assert YouTubeVOSDataset(ytvos, "valid", all_frames=False).video("a").num_frames == 4


def test_all_frames_folder_errors(ytvos: Path):
    with pytest.raises(DataError, match=r"all_frames/valid_all_frames/JPEGImages: all-frames folder missing"):
        YouTubeVOSDataset(ytvos, "valid", all_frames=True)
    _add_all_frames(ytvos)
    (ytvos / "all_frames/valid_all_frames/JPEGImages/a/00010.jpg").unlink()
    with pytest.raises(DataError, match=r"a/00010.jpg: frame missing \(it is in .*valid/JPEGImages/a"):
        YouTubeVOSDataset(ytvos).video("a")


def test_video_starting_after_its_first_frame(ytvos: Path):
    (ytvos / "valid/Annotations/b/00000.png").rename(ytvos / "valid/Annotations/b/00005.png")
    _edit_meta(ytvos, lambda videos: videos["b"]["objects"]["1"].update(frames=FRAMES[1:]))
    video = YouTubeVOSDataset(ytvos).video("b")
    assert video.first_index == 1 and video.required_before_start() == ("00000",)
    assert [i.index for i in video.propagation_inputs()] == [1, 2, 3]


def test_the_zip_leaves_out_the_frames_before_a_videos_first_annotation(ytvos: Path, tmp_path: Path):
    """They went to the server as background masks, which none of STM, STCN, AOT or Cutie submits
    (they write the frames meta.json lists); the results folder keeps them."""
    (ytvos / "valid/Annotations/b/00000.png").rename(ytvos / "valid/Annotations/b/00005.png")
    _edit_meta(ytvos, lambda videos: videos["b"]["objects"]["1"].update(frames=FRAMES[1:]))
    dataset = YouTubeVOSDataset(ytvos)
    submission = YouTubeVOSSubmission(tmp_path / "sub")
    first, _ = _masks()
    for name in ("a", "b"):
        _write_video(submission, dataset.video(name), first)
    assert submission.path("b", "00000").is_file() and dataset.submitted_frames("b") == tuple(FRAMES[1:])
    with zipfile.ZipFile(submission.zip(dataset, tmp_path / "sub.zip")) as archive:
        names = archive.namelist()
    assert names == [f"Annotations/a/{f}.png" for f in FRAMES] + [
        f"Annotations/b/{f}.png" for f in FRAMES[1:]
    ]


def test_meta_json_naming_an_unknown_frame(ytvos: Path):
    _edit_meta(ytvos, lambda videos: videos["a"]["objects"]["2"].update(frames=["00012"]))
    with pytest.raises(
        DataError, match=r"meta.json: videos.a.objects.2 lists frame '00012' not in JPEGImages"
    ):
        YouTubeVOSDataset(ytvos).video("a")


def test_meta_json_naming_a_missing_video_or_a_bad_id(ytvos: Path):
    _edit_meta(ytvos, lambda videos: videos.update(c=videos["b"]))
    with pytest.raises(DataError, match=r"valid/JPEGImages/c: frame folder of video 'c' missing"):
        YouTubeVOSDataset(ytvos).video("c")
    _edit_meta(ytvos, lambda videos: videos["b"]["objects"].update({"255": {"frames": FRAMES}}))
    with pytest.raises(DataError, match=r"videos.b.objects.255 needs an id 1..254"):
        YouTubeVOSDataset(ytvos).video("b")


def test_missing_first_appearance_annotation(ytvos: Path):
    (ytvos / "valid/Annotations/a/00010.png").unlink()
    with pytest.raises(DataError, match=r"a/00010.png: annotation missing \(object 2 first appears"):
        YouTubeVOSDataset(ytvos).video("a")


def test_an_object_absent_from_its_first_annotation_starts_where_one_shows_it(ytvos: Path):
    """Six objects of YouTube-VOS 2019 train are listed from frames that do not show them: the whole
    video was refused. As pytracking's clean-up and the trackers that read objects from pixels do,
    the object starts at the first annotation that shows it, or is left out, and that is said."""
    first, later = _masks()
    write_label_map(ytvos / "valid/Annotations/a/00010.png", np.where(later == 2, 0, later))
    write_label_map(ytvos / "valid/Annotations/a/00015.png", later)  # a fully annotated split (train)
    video = YouTubeVOSDataset(ytvos).video("a")
    assert video.start_frames() == {0: (1,), 3: (2,)}
    folder = ytvos / "valid/Annotations/a"
    assert video.notes == (
        f"{folder}: object 2: meta.json starts it at frame 00010, whose annotation shows no pixel of it; "
        "it starts at 00015, the first annotation that does",
    )
    (ytvos / "valid/Annotations/a/00015.png").unlink()
    video = YouTubeVOSDataset(ytvos).video("a")
    assert (
        video.object_ids() == (1,)
        and "object 2: meta.json lists it from frame 00010, but no" in video.notes[0]
    )
    assert video.notes[0].endswith("shows it; left out")
    for frame in ("00000", "00010"):
        write_label_map(ytvos / f"valid/Annotations/a/{frame}.png", np.zeros(SIZE, np.uint8))
    with pytest.raises(
        DataError, match="a: video 'a' has no object of meta.json with a pixel in its annotations"
    ):
        YouTubeVOSDataset(ytvos).video("a")


def test_a_moved_first_object_keeps_the_frames_meta_json_lists_in_the_submission(ytvos: Path):
    """The server is sent the frames meta.json lists from its first object on: where that object's
    start moves later, the frames in between are sent as background, not left out."""
    write_label_map(ytvos / "valid/Annotations/a/00000.png", np.zeros(SIZE, np.uint8))  # 00010 shows 1
    dataset = YouTubeVOSDataset(ytvos)
    video = dataset.video("a")
    assert video.start_frames() == {2: (1, 2)} and video.required_before_start() == ("00000", "00005")
    assert dataset.submitted_frames("a") == tuple(FRAMES)


def test_id_over_254_and_other_sizes(ytvos: Path):
    first, _ = _masks()
    write_label_map(ytvos / "valid/Annotations/b/00000.png", np.where(first == 1, 1, 255))
    with pytest.raises(DataError, match=r"b/00000.png: id 255; object ids are 1..254"):
        YouTubeVOSDataset(ytvos).video("b")
    _save_frame(ytvos / "valid/JPEGImages/a/00015.jpg", np.random.default_rng(0), size=(20, 31))
    with pytest.raises(DataError, match=r"a/00015.jpg: size \(H, W\) = \(20, 31\), expected \(20, 30\)"):
        YouTubeVOSDataset(ytvos).video("a")


def test_not_a_youtube_vos_layout(tmp_path: Path):
    with pytest.raises(DataError, match="not a YouTube-VOS valid layout, missing JPEGImages, Annotations"):
        YouTubeVOSDataset(tmp_path)
    with pytest.raises(DataError, match="split 'val' unknown"):
        YouTubeVOSDataset(tmp_path, "val")


def _write_video(submission, video, labels, upto=None):
    with submission.video_writer(video) as out:
        for name in video.required[:upto]:
            out.write(name, labels)


def test_submission_publishes_complete_videos_only(ytvos: Path, tmp_path: Path):
    dataset = YouTubeVOSDataset(ytvos)
    submission = YouTubeVOSSubmission(tmp_path / "sub")
    first, _ = _masks()
    video_a, video_b = dataset.video("a"), dataset.video("b")
    with pytest.raises(DataError, match=r"video a: 1 required frame\(s\) not written, first 00015"):
        _write_video(submission, video_a, first, upto=3)
    with pytest.raises(KeyboardInterrupt), submission.video_writer(video_a) as out:
        out.write("00000", first)
        raise KeyboardInterrupt
    assert not submission.is_complete("a") and not (tmp_path / "sub/Annotations").exists()
    _write_video(submission, video_a, first)
    with pytest.raises(DataError, match="frame '00001' is not a required frame"):
        with submission.video_writer(video_a) as out:
            out.write("00001", first)
    assert submission.is_complete("a") and len(submission.missing(dataset)) == 4
    _write_video(submission, video_b, first)
    assert submission.missing(dataset) == []
    _write_video(submission, video_b, np.zeros(SIZE, np.uint8))  # a rerun replaces the video whole
    np.testing.assert_array_equal(read_label_map(tmp_path / "sub/Annotations/b/00005.png"), 0)
    assert sorted(p.name for p in (tmp_path / "sub/Annotations").iterdir()) == ["a", "b"]


def test_zip_holds_exactly_the_required_frames_reproducibly(ytvos: Path, tmp_path: Path):
    dataset = YouTubeVOSDataset(ytvos)
    submission = YouTubeVOSSubmission(tmp_path / "sub")
    first, _ = _masks()
    _write_video(submission, dataset.video("a"), first)
    with pytest.raises(DataError, match=r"b/00000.png: result missing \(4 of"):
        submission.zip(dataset, tmp_path / "sub.zip")
    _write_video(submission, dataset.video("b"), first)
    zip_path = submission.zip(dataset, tmp_path / "sub.zip")
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        np.testing.assert_array_equal(np.asarray(Image.open(archive.open("Annotations/b/00005.png"))), first)
    assert names == [f"Annotations/{v}/{f}.png" for v in ("a", "b") for f in FRAMES]
    again = submission.zip(dataset, tmp_path / "again.zip")
    assert again.read_bytes() == zip_path.read_bytes()
    (tmp_path / "sub/Annotations/a/._00000.png").write_bytes(b"\0\5\26\7 AppleDouble")  # exFAT copies
    assert submission.zip(dataset, tmp_path / "hidden.zip").read_bytes() == zip_path.read_bytes()
    write_label_map(tmp_path / "sub/Annotations/a/00001.png", first)
    with pytest.raises(DataError, match=r"a/00001.png: not a required frame"):
        submission.zip(dataset, tmp_path / "sub.zip")
