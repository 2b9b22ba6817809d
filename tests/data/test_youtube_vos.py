import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.palette import read_label_map, write_label_map
from mast_bench.data.youtube_vos import YouTubeVOSDataset, YouTubeVOSSubmission
from mast_bench.errors import DataError

FRAMES = ["00000", "00005", "00010", "00015"]
SIZE = (20, 30)


def _masks():
    first = np.zeros(SIZE, np.uint8)
    first[2:8, 3:9] = 1
    later = np.zeros(SIZE, np.uint8)
    later[10:15, 20:28] = 2  # object 2 appears at 00010; its PNG holds only the new object
    return first, later


@pytest.fixture
def ytvos(tmp_path: Path) -> Path:
    """valid/ with video 'a' (object 1 from 00000, object 2 from 00010) and video 'b' (one object)."""
    split = tmp_path / "valid"
    rng = np.random.default_rng(1)
    first, later = _masks()
    for video in ("a", "b"):
        for name in FRAMES:
            path = split / "JPEGImages" / video / f"{name}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)).save(path)
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


def test_objects_appearing_later(ytvos: Path):
    dataset = YouTubeVOSDataset(ytvos, "valid")
    assert dataset.video_names() == ("a", "b")
    video = dataset.video("a")
    assert video.num_frames == 4 and video.size == SIZE and video.frame_names == tuple(FRAMES)
    assert video.object_ids() == (1, 2)
    assert video.start_frames() == {0: (1,), 2: (2,)}
    assert [o.category for o in video.objects] == ["cat", "dog"]
    first, later = _masks()
    inputs = list(video.propagation_inputs())
    assert [sorted(new) for _, new in inputs] == [[1], [], [2], []]
    np.testing.assert_array_equal(inputs[0][1][1], first == 1)
    np.testing.assert_array_equal(inputs[2][1][2], later == 2)
    assert inputs[1][0].shape == (*SIZE, 3) and inputs[1][0].dtype == np.uint8


def test_split_folder_itself_and_no_meta_json(ytvos: Path):
    (ytvos / "valid" / "meta.json").unlink()
    video = YouTubeVOSDataset(ytvos / "valid").video("a")
    assert video.start_frames() == {0: (1,), 2: (2,)}
    assert video.objects[0].category is None


def test_meta_json_naming_an_unknown_frame(ytvos: Path):
    meta_path = ytvos / "valid" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["videos"]["a"]["objects"]["2"]["frames"] = ["00012"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(
        DataError, match=r"meta.json: videos.a.objects.2 lists frame '00012' not in JPEGImages"
    ):
        YouTubeVOSDataset(ytvos).video("a")


def test_missing_first_appearance_annotation(ytvos: Path):
    (ytvos / "valid/Annotations/a/00010.png").unlink()
    with pytest.raises(DataError, match=r"a/00010.png: annotation missing \(object 2 first appears"):
        YouTubeVOSDataset(ytvos).video("a")


def test_object_absent_from_its_first_annotation(ytvos: Path):
    write_label_map(ytvos / "valid/Annotations/a/00010.png", np.zeros(SIZE, np.uint8))
    video = YouTubeVOSDataset(ytvos).video("a")
    with pytest.raises(DataError, match="object 2 of video a should first appear here"):
        video.new_objects(2)


def test_not_a_youtube_vos_layout(tmp_path: Path):
    with pytest.raises(DataError, match="not a YouTube-VOS valid layout, missing JPEGImages, Annotations"):
        YouTubeVOSDataset(tmp_path)


def test_submission_needs_every_frame_then_zips(ytvos: Path, tmp_path: Path):
    dataset = YouTubeVOSDataset(ytvos)
    submission = YouTubeVOSSubmission(tmp_path / "sub")
    assert len(submission.missing(dataset)) == 8
    first, _ = _masks()
    for video in ("a", "b"):
        for name in FRAMES[:3]:
            submission.write(video, name, first)
    with pytest.raises(DataError, match=r"a/00015.png: result missing \(2 of"):
        submission.zip(dataset, tmp_path / "sub.zip")
    for video in ("a", "b"):
        submission.write(video, FRAMES[3], first)
    zip_path = submission.zip(dataset, tmp_path / "sub.zip")
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    assert names == [f"Annotations/{v}/{f}.png" for v in ("a", "b") for f in FRAMES]
    np.testing.assert_array_equal(read_label_map(tmp_path / "sub/Annotations/b/00005.png"), first)
