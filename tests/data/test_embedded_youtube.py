import json
from pathlib import Path

import numpy as np
import pytest

import mast_bench.data.embedded_youtube as embedded_youtube
from mast_bench.data.embedded_youtube import (
    YouTubeSpec,
    default_youtube_root,
    ensure_youtube,
    make_youtube,
    seen_categories,
    youtube_photos,
    youtube_videos,
)
from mast_bench.data.palette import read_label_map
from mast_bench.data.synthetic import TEXTURE_PHOTOS, UNSEEN_TEXTURE_PHOTOS, render_frame, scaled_background
from mast_bench.data.youtube_vos import YouTubeVOSDataset
from mast_bench.errors import DataError

TINY = dict(size=(48, 80), train_videos=2, valid_videos=3, frames=(20, 23))


@pytest.fixture(scope="module")
def tiny_youtube(tmp_path_factory) -> Path:
    return make_youtube(tmp_path_factory.mktemp("youtube") / "data", seed=3, **TINY)


@pytest.fixture(scope="module")
def recipe():
    return youtube_videos(YouTubeSpec(seed=3, **TINY))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path, tiny_youtube: Path):
    again = make_youtube(tmp_path / "again", seed=3, **TINY)
    first, second = _files(tiny_youtube), _files(again)
    assert first.keys() == second.keys() and len(first) > 100
    assert [name for name in first if first[name] != second[name]] == []
    other = _files(make_youtube(tmp_path / "other", seed=4, **TINY))
    assert any(other.get(name) != data for name, data in first.items() if name.endswith(".jpg"))


def test_layout_is_a_readable_youtube_vos_dataset(tiny_youtube: Path, recipe):
    for split in ("train", "valid"):
        dataset = YouTubeVOSDataset(tiny_youtube, split)
        assert dataset.all_frames_dir == tiny_youtube / "all_frames" / f"{split}_all_frames" / "JPEGImages"
        assert dataset.video_names() == tuple(sorted(recipe[split]))
        for name, video in recipe[split].items():
            opened = dataset.video(name)
            assert opened.num_frames == video.scene.num_frames and opened.size == (48, 80)
            assert opened.required == tuple(f"{f:05d}" for f in range(0, opened.num_frames, 5))
            assert {i: o.first_frame for i, o in zip(opened.object_ids(), opened.objects, strict=True)} == (
                video.starts
            )
            dense = dataset.all_frames_dir / name
            for frame in opened.required:  # the sparse frames are the same JPEG files
                assert (dense / f"{frame}.jpg").read_bytes() == (
                    dataset.root / "JPEGImages" / name / f"{frame}.jpg"
                ).read_bytes()


def test_annotations_are_exact_on_every_sparse_frame(tiny_youtube: Path, recipe):
    photos = youtube_photos()
    for split in ("train", "valid"):
        dataset = YouTubeVOSDataset(tiny_youtube, split)
        for name, video in recipe[split].items():
            opened = dataset.video(name)
            background = scaled_background(video.scene, photos)
            for index in range(0, video.scene.num_frames, 5):
                rgb, labels = render_frame(video.scene, index, photos, background)
                np.testing.assert_array_equal(read_label_map(opened.annotation_paths[f"{index:05d}"]), labels)
                assert np.abs(opened.frame(index).astype(int) - rgb.astype(int)).mean() < 8


def test_valid_objects_enter_late_leave_and_include_unseen_categories(tiny_youtube: Path, recipe):
    stamp = json.loads((tiny_youtube / "youtube.json").read_text())
    seen, unseen = set(stamp["categories"]["seen"]), set(stamp["categories"]["unseen"])
    assert seen <= set(TEXTURE_PHOTOS) and unseen and unseen <= set(UNSEEN_TEXTURE_PHOTOS)
    assert seen_categories(tiny_youtube) == seen
    train_meta = json.loads((tiny_youtube / "train/meta.json").read_text())["videos"]
    assert {o["category"] for v in train_meta.values() for o in v["objects"].values()} == seen
    valid = YouTubeVOSDataset(tiny_youtube, "valid")
    late = left = 0
    for name in valid.video_names():
        video = valid.video(name)
        categories = set(video.categories().values())
        assert categories & seen and categories & unseen  # each valid video mixes both
        for info in video.objects:
            masks = [read_label_map(p) == info.object_id for _, p in sorted(video.annotation_paths.items())]
            shown = [bool(m.any()) for m in masks]
            start = info.first_frame // 5
            assert shown[start] and not any(shown[:start])  # nothing of it before its annotation
            late += start > 0
            left += not all(shown[start:])
    assert late >= len(valid.video_names()) and left >= 2


def test_meta_frames_follow_youtube_vos(tiny_youtube: Path):
    for split in ("train", "valid"):
        meta = json.loads((tiny_youtube / split / "meta.json").read_text())["videos"]
        for name, entry in meta.items():
            sparse = sorted(p.stem for p in (tiny_youtube / split / "Annotations" / name).glob("*.png"))
            for key, obj in entry["objects"].items():
                shown = [
                    f
                    for f in sparse
                    if (
                        read_label_map(tiny_youtube / split / "Annotations" / name / f"{f}.png") == int(key)
                    ).any()
                ]
                if split == "train":  # the frames where it is visible
                    assert obj["frames"] == shown
                else:  # every annotated frame from its first appearance on
                    assert obj["frames"] == [f for f in sparse if f >= shown[0]]


def test_interrupted_generation_leaves_nothing(tmp_path: Path, monkeypatch):
    calls = []
    original = embedded_youtube._write_video

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(embedded_youtube, "_write_video", failing)
    with pytest.raises(KeyboardInterrupt):
        make_youtube(tmp_path / "data", seed=1, **TINY)
    assert list(tmp_path.iterdir()) == []


def test_ensure_youtube(tmp_path: Path, tiny_youtube: Path, monkeypatch):
    monkeypatch.setenv("MAST_BENCH_YOUTUBE_DATA", str(tmp_path / "cache"))
    assert default_youtube_root() == tmp_path / "cache"
    before = _files(tiny_youtube)
    assert ensure_youtube(tiny_youtube, seed=3, **TINY) == tiny_youtube and _files(tiny_youtube) == before
    with pytest.raises(DataError, match="youtube.json: embedded-youtube-v1 dataset made with"):
        ensure_youtube(tiny_youtube, seed=4, **TINY)
    root = ensure_youtube(seed=2, **TINY)
    assert root == tmp_path / "cache" and json.loads((root / "youtube.json").read_text())["spec"]["seed"] == 2
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    with pytest.raises(DataError, match="not a complete embedded-youtube-v1 dataset"):
        ensure_youtube(tmp_path / "junk", **TINY)
    with pytest.raises(DataError, match="unknown parameter"):
        make_youtube(tmp_path / "x", colour="red")
    with pytest.raises(DataError, match="objects"):
        make_youtube(tmp_path / "x", objects=(1, 2))
    with pytest.raises(DataError, match="already exists and is not empty"):
        make_youtube(tmp_path / "junk", **TINY)


def test_default_recipe_matches_the_documented_shape():
    recipe = youtube_videos(YouTubeSpec())
    assert len(recipe["train"]) == 6 and len(recipe["valid"]) == 6
    for split, videos in recipe.items():
        for video in videos.values():
            assert video.scene.size == (240, 432) and 26 <= video.scene.num_frames <= 36
            assert 2 <= len(video.scene.sprites) <= 3
            assert all(frame % 5 == 0 for frame in video.starts.values())
            assert (max(video.starts.values()) > 0) == (split == "valid")
