"""Training sets from videos and frame folders: cuts, weights, manifest, bad input, atomic builds."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from mast_bench.data.clips import PairSampler, plan_pairs
from mast_bench.data.shots import ShotRules, find_cuts, frame_changes, sampling_weight, shot_ranges, signature
from mast_bench.data.training_set import (
    MANIFEST_NAME,
    TrainingSetClips,
    TrainingSetSettings,
    build_training_set,
    load_training_set,
)
from mast_bench.data.video import decode_video
from mast_bench.errors import DataError

from .videos import SIZE, cut_video, resolution_switch_video, rotate_mp4, scene, still_video, write_video


def _messages():
    said: list[str] = []
    return said, said.append


def test_cuts_are_found_where_the_scene_changes_and_not_in_motion():
    frames = [scene(0 if t < 12 else 1, t) for t in range(30)]
    grey, colour = frame_changes([signature(f) for f in frames])
    assert find_cuts(grey, colour) == [12]
    assert shot_ranges(30, [12]) == [(0, 12), (12, 30)]
    moving = [scene(0, 3 * t) for t in range(20)]  # fast motion, one scene: no cut
    assert find_cuts(*frame_changes([signature(f) for f in moving])) == []


def test_weights_follow_motion_between_the_floor_and_one():
    rules = ShotRules(full_motion=2.0, min_weight=0.1)
    assert sampling_weight(0.0, rules) == 0.1 and sampling_weight(1.0, rules) == 0.5
    assert sampling_weight(9.0, rules) == 1.0


def test_videos_become_shots_with_weights_hashes_and_a_manifest(tmp_path):
    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    still_video(videos / "head.avi")
    write_video(videos / "blink.mp4", 5, lambda t: scene(3, t))  # shorter than any shot we keep
    said, tell = _messages()
    made = build_training_set([videos], tmp_path / "set", tell=tell)
    assert [(c.name, c.start, c.stop, c.folder) for c in made.clips] == [
        ("head", 0, 20, "frames/head"),
        ("street-shot0", 0, 12, "frames/street"),
        ("street-shot1", 12, 30, "frames/street"),
    ]
    weights = {c.name: c.weight for c in made.clips}
    assert weights["head"] == ShotRules().min_weight and weights["street-shot1"] == 1.0
    sources = {s["name"]: s for s in made.manifest["sources"]}
    digest = hashlib.sha256((videos / "street.mp4").read_bytes()).hexdigest()
    assert sources["street"]["sha256"] == digest and sources["street"]["cuts"] == [12]
    assert sources["street"]["frames"] == 30 and sources["street"]["declared_frames"] == 30
    assert made.manifest["decoder"] in ("pyav", "opencv")
    assert any("blink.mp4: skipped, no shot of >= 9 frames" in m for m in said)
    clips = TrainingSetClips(tmp_path / "set")
    assert clips.weights == tuple(c.weight for c in made.clips)
    # frames are the decoded frames (JPEG q95): a clip's first frame is its shot's first frame
    first = clips.read_frames(2, [0])[0].astype(int)
    decoded = list(decode_video(videos / "street.mp4"))[12].astype(int)
    assert np.abs(first - decoded).mean() < 3


def test_a_stream_that_switches_frame_size_is_cut_where_it_switches(tmp_path):
    video = resolution_switch_video(tmp_path / "videos" / "broadcast.mpg")
    sizes = [frame.shape[:2] for frame in decode_video(video)]
    switch = next(i for i in range(1, len(sizes)) if sizes[i] != sizes[i - 1])
    assert sizes[0] == SIZE and sizes[-1] == (64, 96) and switch >= 9 and len(sizes) - switch >= 9
    made = build_training_set([video], tmp_path / "set", TrainingSetSettings(min_frames=4))
    assert made.manifest["sources"][0]["cuts"] == [switch]  # one scene: only the size says where
    assert [(c.start, c.stop) for c in made.clips] == [(0, switch), (switch, len(sizes))]
    clips = TrainingSetClips(tmp_path / "set")
    for number, clip in enumerate(made.clips):
        read = clips.read_frames(number, range(clip.stop - clip.start))
        assert {frame.shape[:2] for frame in read} == {sizes[clip.start]}


def test_an_unchanged_set_is_not_built_again_and_a_changed_source_rebuilds_it(tmp_path):
    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    build_training_set([videos], tmp_path / "set")
    manifest = tmp_path / "set" / MANIFEST_NAME
    stamp = manifest.stat().st_mtime_ns
    said, tell = _messages()
    build_training_set([videos], tmp_path / "set", tell=tell)
    assert manifest.stat().st_mtime_ns == stamp and "up to date" in said[0]
    cut_video(videos / "street.mp4", frames=40, cut=20)
    rebuilt = build_training_set([videos], tmp_path / "set")
    assert [(c.start, c.stop) for c in rebuilt.clips] == [(0, 20), (20, 40)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".set-building")]


def test_a_set_made_by_an_older_frame_decoding_is_built_again(tmp_path):
    """Before decoding version 2, PyAV gave a phone video's frames sideways: a set made then has its
    sources and settings unchanged, and used to be reused as up to date with those frames."""
    from PIL import Image

    videos = tmp_path / "videos"
    rotate_mp4(cut_video(videos / "phone.mp4"), 90)
    made = build_training_set([videos], tmp_path / "set")
    assert made.manifest["decoding_version"] == 2
    upright = TrainingSetClips(tmp_path / "set").read_frames(0, [0])[0]
    assert upright.shape[:2] == SIZE[::-1]
    _as_made_before_decoding_version_2(tmp_path / "set")
    for frame in (tmp_path / "set/frames/phone").iterdir():  # as the older decoding wrote them
        with Image.open(frame) as image:
            image.transpose(Image.Transpose.ROTATE_90).save(frame, quality=95)
    said, tell = _messages()
    rebuilt = build_training_set([videos], tmp_path / "set", tell=tell)
    assert rebuilt.manifest["decoding_version"] == 2 and not any("up to date" in m for m in said)
    again = TrainingSetClips(tmp_path / "set").read_frames(0, [0])[0]
    np.testing.assert_array_equal(again, upright)


def _as_made_before_decoding_version_2(root):
    manifest_path = root / MANIFEST_NAME
    old = {k: v for k, v in json.loads(manifest_path.read_text()).items() if k != "decoding_version"}
    manifest_path.write_text(json.dumps(old))


def test_training_on_a_set_of_videos_decoded_by_older_rules_is_said_with_the_remedy(tmp_path):
    """`train --data SET` reads the set's JPEGs as they are: made before decoding version 2, a phone
    video's frames were sideways, and nothing said so (only `data training-set` made them again)."""
    from mast_bench.harness.presets import Preset, TrainStage
    from mast_bench.harness.training import train
    from mast_bench.variants import get_variant

    stage = TrainStage(name="pairs", iterations=1, batch_size=2, lr=1e-3, frame_size=(32, 32), gaps=(1, 2))

    cut_video(tmp_path / "videos" / "street.mp4")
    build_training_set([tmp_path / "videos"], tmp_path / "set")
    assert load_training_set(tmp_path / "set").stale_decoding() is None
    _as_made_before_decoding_version_2(tmp_path / "set")
    said, tell = _messages()
    clips = TrainingSetClips(tmp_path / "set")
    train(get_variant("mast"), Preset("tiny", (stage,)), clips, tmp_path / "run", progress=False, tell=tell)
    (line,) = [m for m in said if "decoding version" in m]  # said once, where it trains
    assert str(tmp_path / "set" / MANIFEST_NAME) in line
    assert "decoding version 1, not the current 2" in line and "`mast-bench data training-set`" in line


def test_a_set_of_frame_folders_made_by_older_rules_is_current(tmp_path):
    """Frame folders are read in place, by today's decoding: their set has nothing to make again."""
    from PIL import Image

    folder = tmp_path / "frames" / "a"
    folder.mkdir(parents=True)
    for t in range(12):
        Image.fromarray(scene(0, t)).save(folder / f"{t:05d}.jpg", quality=95)
    build_training_set([tmp_path / "frames"], tmp_path / "set", TrainingSetSettings(min_frames=4))
    _as_made_before_decoding_version_2(tmp_path / "set")
    assert load_training_set(tmp_path / "set").stale_decoding() is None


@pytest.mark.parametrize(
    "out, said",
    [
        ("videos", "the training set would replace its source {videos}/street.mp4"),
        (".", "the training set would replace its source {videos}/street.mp4"),
        ("notes", "exists and is not a training set (no manifest.json)"),
    ],
)
def test_a_set_never_replaces_its_sources_or_a_folder_that_is_not_a_set(out, said, tmp_path):
    """A set is published by replacing its folder whole: an --out that was a source's folder (or held
    it, or held anything but a set) used to be deleted, the user's videos with it."""
    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("keep me")
    out = tmp_path / out
    with pytest.raises(DataError) as caught:
        build_training_set([videos], out)
    assert str(caught.value).startswith(f"{out}: " + said.format(videos=videos))
    assert sorted(p.name for p in videos.iterdir()) == ["street.mp4"]
    assert (tmp_path / "notes" / "thesis.tex").read_text() == "keep me"


def test_frame_folders_are_read_in_place(tmp_path):
    root = tmp_path / "JPEGImages"
    for name, cut in (("a", 10), ("b", None)):
        folder = root / name
        folder.mkdir(parents=True)
        for t in range(16):
            index = 0 if cut is None or t < cut else 1
            from PIL import Image

            Image.fromarray(scene(index, t)).save(folder / f"{t:05d}.jpg", quality=95)
    made = build_training_set([tmp_path], tmp_path / "set", TrainingSetSettings(min_frames=4))
    assert [(c.name, c.start, c.stop) for c in made.clips] == [
        ("a-shot0", 0, 10),
        ("a-shot1", 10, 16),
        ("b", 0, 16),
    ]
    assert made.clips[0].folder == str((root / "a").resolve())
    assert not (tmp_path / "set" / "frames").exists()


def test_untidy_sources_macos_copies_and_a_frame_of_another_size(tmp_path, monkeypatch):
    from PIL import Image

    import mast_bench.data.training_set as training_set_module

    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    (videos / "._street.mp4").write_bytes(b"\0\5\26\7 AppleDouble")
    made = build_training_set([videos], tmp_path / "set")
    assert [s["name"] for s in made.manifest["sources"]] == ["street"]
    root = tmp_path / "frames"
    for name in ("a", ".ipynb_checkpoints"):
        (root / name).mkdir(parents=True)
        for t in range(12):
            Image.fromarray(scene(0, t)[: 40 if (name, t) == ("a", 7) else None]).save(
                root / name / f"{t:05d}.jpg"
            )
    decoded = []
    monkeypatch.setattr(training_set_module, "read_rgb", lambda path: decoded.append(path))
    with pytest.raises(
        DataError, match=r"frames/a/00007.jpg: size \(H, W\) = \(40, 64\), expected \(48, 64\)"
    ):
        build_training_set([root], tmp_path / "frame-set")
    assert decoded == [] and not (tmp_path / "frame-set").exists()  # refused from headers, before decoding
    monkeypatch.undo()
    Image.fromarray(scene(0, 7)).save(root / "a" / "00007.jpg")
    made = build_training_set([root], tmp_path / "frame-set", TrainingSetSettings(min_frames=4))
    assert [c.name for c in made.clips] == ["a"]  # a hidden folder is no clip


def test_weights_thin_each_clips_pairs_and_leave_the_official_plan_alone():
    lengths = [40, 40]
    official = plan_pairs(lengths, seed=1, epoch=2)
    assert plan_pairs(lengths, seed=1, epoch=2, clip_weights=None) == official
    thinned = plan_pairs(lengths, seed=1, epoch=2, clip_weights=[1.0, 0.0])
    assert {p.clip for p in thinned} == {0}
    assert {p for p in official if p.clip == 0} == set(thinned)  # clip 0 keeps every pair


def test_bad_sources_give_one_error_naming_the_file(tmp_path):
    import mast_bench.data.training_set as training_set_module

    garbage = tmp_path / "bad.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    with pytest.raises(DataError, match=r"bad\.mp4: not a readable video"):
        build_training_set([garbage], tmp_path / "set")
    whole = cut_video(tmp_path / "whole.mp4")
    truncated = tmp_path / "cut" / "truncated.mp4"
    truncated.parent.mkdir()
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(DataError, match=r"truncated\.mp4: not a readable video"):
        build_training_set([truncated.parent], tmp_path / "set")
    mixed = tmp_path / "mixed"  # an unreadable video is named before any other is decoded
    cut_video(mixed / "a-good.mp4")
    (mixed / "z-bad.mp4").write_bytes(b"")
    decoded: list[str] = []
    real = training_set_module.decode_video
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            training_set_module, "decode_video", lambda p, *a: decoded.append(p.name) or real(p, *a)
        )
        with pytest.raises(DataError, match=r"z-bad\.mp4: not a readable video"):
            build_training_set([mixed], tmp_path / "set")
    assert decoded == []
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no videos here")
    with pytest.raises(DataError, match=r"empty: no videos .* and no frame folders"):
        build_training_set([empty], tmp_path / "set")
    # a clip made only of cuts has no shot to train on
    flicker = write_video(tmp_path / "flicker" / "flicker.mp4", 12, lambda t: scene(t % 4, 0))
    with pytest.raises(DataError, match=r"flicker\.mp4: no clip of >= 9 frames \(min_frames\) in any shot"):
        build_training_set([flicker], tmp_path / "set")
    assert not (tmp_path / "set").exists()  # nothing half-written


def test_frames_that_do_not_decode_are_reported_and_the_rest_kept(tmp_path):
    """A container that declares more frames than decode (opencv-doc's tree.avi: 444 and 68)."""
    rng = np.random.default_rng(0)
    noise = [(rng.random((48, 64, 3)) * 255).astype(np.uint8) for _ in range(20)]
    video = write_video(tmp_path / "v" / "noise.avi", 20, lambda t: noise[t], codec="MJPG")
    damaged = bytearray(video.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 3000] = bytes(3000)  # two frames' data lost
    video.write_bytes(bytes(damaged))
    said, tell = _messages()
    made = build_training_set([video], tmp_path / "set", tell=tell)
    source = made.manifest["sources"][0]
    assert source["declared_frames"] == 20 and 9 <= source["frames"] < 20
    assert f"warning: {video}: declares 20 frames, {source['frames']} decode; the rest are left out" in said
    assert [c.stop for c in made.clips] == [source["frames"]]


def test_a_killed_build_leaves_debris_the_next_build_removes(tmp_path):
    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    dead = tmp_path / ".set-building.somehost.999999.abcd"
    from mast_bench.locks import this_host

    dead = tmp_path / f".set-building.{this_host()}.{2**22 + 12345}.abcd"  # a PID that is not running
    (dead / "frames").mkdir(parents=True)
    build_training_set([videos], tmp_path / "set")
    assert not dead.exists()


class _Scans:
    """Stands in for the builder's scan of one source: counts the sources scanned, and stops the
    build (as Ctrl-C does) at the source named ``killed_at``."""

    def __init__(self, monkeypatch) -> None:
        import mast_bench.data.training_set as module

        self.scanned: list[str] = []
        self.killed_at: str | None = None
        self._scan = module._scan
        monkeypatch.setattr(module, "_scan", self)

    def __call__(self, source, *args):
        if source.name == self.killed_at:
            raise KeyboardInterrupt
        self.scanned.append(source.name)
        return self._scan(source, *args)

    def killed_build(self, *args, **kwargs) -> None:
        self.killed_at = "b"
        with pytest.raises(KeyboardInterrupt):
            build_training_set(*args, **kwargs)
        self.killed_at = None


def test_an_interrupted_build_resumes_with_the_sources_not_yet_scanned(tmp_path, monkeypatch):
    """A killed build started again from its first source (hours, on a Kinetics-sized set)."""
    videos = tmp_path / "videos"
    cut_video(videos / "a.mp4")
    cut_video(videos / "b.mp4", frames=40, cut=20)
    whole = build_training_set([videos], tmp_path / "whole")
    scans, (said, tell) = _Scans(monkeypatch), _messages()
    scans.killed_build([videos], tmp_path / "set", tell=tell)
    assert not (tmp_path / "set").exists() and scans.scanned == ["a"]
    assert said[-1] == (f"{tmp_path / '.set-partial'}: 1 source scanned and kept there; the same command "
                        "resumes with the rest (delete the folder to drop them)")  # fmt: skip
    said, tell = _messages()
    made = build_training_set([videos], tmp_path / "set", tell=tell)
    assert scans.scanned == ["a", "b"]
    assert "resuming an interrupted build: 1 of 2 sources scanned already" in said[0]
    assert made.manifest == whole.manifest
    for frame in sorted((tmp_path / "whole" / "frames").rglob("*.jpg")):
        assert (tmp_path / "set" / frame.relative_to(tmp_path / "whole")).read_bytes() == frame.read_bytes()
    assert not (tmp_path / ".set-partial").exists() and not (tmp_path / "set" / "scans").exists()
    # a scan kept under other settings is not reused
    scans.killed_build([videos], tmp_path / "other")
    build_training_set([videos], tmp_path / "other", TrainingSetSettings(jpeg_quality=90))
    assert scans.scanned == ["a", "b", "a", "a", "b"]


def test_a_resumed_build_drops_what_its_sources_no_longer_are(tmp_path, monkeypatch):
    """A video that became a frame folder of the same name left its decoded frames in the set; a
    change of min_frames (which picks clips, never scans) rescanned every source."""
    import shutil

    videos, folders = tmp_path / "videos", tmp_path / "folders"
    cut_video(videos / "a.mp4")
    cut_video(videos / "b.mp4", frames=40, cut=20)
    scans = _Scans(monkeypatch)
    scans.killed_build([videos], tmp_path / "set")
    said, tell = _messages()
    weighed_otherwise = TrainingSetSettings(min_frames=10, rules=ShotRules(full_motion=3.0))
    build_training_set([videos], tmp_path / "set", weighed_otherwise, tell=tell)
    assert scans.scanned == ["a", "b"] and "1 of 2 sources scanned already" in said[0]
    scans.killed_build([videos], tmp_path / "other")
    shutil.copytree(tmp_path / ".other-partial" / "frames" / "a", folders / "a")  # the video, now frames
    (videos / "a.mp4").unlink()
    made = build_training_set([videos, folders], tmp_path / "other")
    assert not (tmp_path / "other" / "frames" / "a").exists()
    assert made.manifest == build_training_set([videos, folders], tmp_path / "straight").manifest
    assert {c["source"]: c["folder"] for c in made.manifest["clips"]}["a"] == str((folders / "a").resolve())
    (tmp_path / "other" / "scans").mkdir()  # a build killed as it published the set, before its cleanup
    build_training_set([videos, folders], tmp_path / "other")
    assert not (tmp_path / "other" / "scans").exists()


def test_a_broken_manifest_says_to_rebuild(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_bytes(b"\x00\xff garbage")
    with pytest.raises(
        DataError, match=r"manifest\.json: not a readable training-set manifest .* rebuild it"
    ):
        load_training_set(folder)
    (folder / MANIFEST_NAME).write_text(json.dumps({"schema": 1, "settings": {}, "sources": [],
                                                    "clips": [{"name": "x", "folder": "frames/x", "start": 0,
                                                               "stop": 5, "motion": 1.0, "weight": 1.0,
                                                               "source": "x"}]}))  # fmt: skip
    with pytest.raises(DataError, match="0 frames, the training set's clip x needs 5"):
        TrainingSetClips(folder).read_frames(0, [0])


@pytest.mark.parametrize(
    "edit, said",
    [
        ({"start": -20}, "clip 'x': frames -20 to 5; expected 0 <= start < stop"),
        ({"start": 6}, "clip 'x': frames 6 to 5; expected 0 <= start < stop"),
        ({"weight": -1.0}, "clip 'x': weight -1.0; expected 0 to 1"),
        ({"weight": float("nan")}, "clip 'x': weight nan; expected 0 to 1"),
        ({"weight": 50.0}, "clip 'x': weight 50.0; expected 0 to 1"),
        (None, "clip 'x' is listed twice"),
    ],
)
def test_an_edited_manifest_with_values_no_build_writes_is_refused(edit, said, tmp_path):
    """start -20 gave an IndexError traceback at the first read; a weight of -1 or NaN dropped the
    clip and one of 50 made it dominate, silently; a clip listed twice was sampled twice as often."""
    folder = tmp_path / "set"
    folder.mkdir()
    clip = {
        "name": "x",
        "folder": "frames/x",
        "start": 0,
        "stop": 5,
        "motion": 1.0,
        "weight": 1.0,
        "source": "x",
    }
    clips = [clip, clip] if edit is None else [{**clip, **edit}]
    (folder / MANIFEST_NAME).write_text(
        json.dumps({"schema": 1, "settings": {}, "sources": [], "clips": clips})
    )
    with pytest.raises(DataError) as refused:
        load_training_set(folder)
    assert str(refused.value) == (
        f"{folder / MANIFEST_NAME}: {said}; rebuild it with `mast-bench data training-set`"
    )


def test_a_folder_of_videos_and_frame_folders_is_refused_not_read_as_videos_only(tmp_path):
    """It trained on '1 clips from 1 sources': the frame folders beside the video were left out."""
    from PIL import Image

    mixed = tmp_path / "mixed"
    cut_video(mixed / "a.mp4")
    (mixed / "walk").mkdir()
    for i in range(10):
        Image.new("RGB", (32, 24), (i * 20, 0, 0)).save(mixed / "walk" / f"{i:05d}.jpg")
    (mixed / "notes").mkdir()  # a folder without images is no frame folder
    Image.new("RGB", (32, 24)).save(mixed / "walk" / "00000.png")  # beside 00000.jpg: still this refusal
    with pytest.raises(DataError) as refused:
        build_training_set([mixed], tmp_path / "set")
    assert str(refused.value) == (
        f"{mixed}: holds videos (a.mp4 ...) and frame folders (walk); move one kind into a folder of its "
        "own and give both folders to `mast-bench data training-set`"
    )
    (tmp_path / "frames").mkdir()
    (mixed / "walk" / "00000.png").unlink()
    (mixed / "walk").rename(tmp_path / "frames" / "walk")
    made = build_training_set([mixed, tmp_path / "frames"], tmp_path / "set")
    assert sorted(c.source for c in made.clips) == ["a", "a", "walk"]


def test_a_second_copy_of_a_video_is_left_out_and_said(tmp_path):
    """Two copies of one clip under two names took half the samples each: the footage counted twice."""
    videos = tmp_path / "videos"
    cut_video(videos / "a.mp4")
    (videos / "copy.mp4").write_bytes((videos / "a.mp4").read_bytes())
    said = []
    made = build_training_set([videos], tmp_path / "set", tell=said.append)
    assert {c.source for c in made.clips} == {"a"}
    assert f"warning: {videos / 'copy.mp4'}: the same bytes as {videos / 'a.mp4'}; left out" in said


def test_a_davis_root_without_its_frames_is_refused_as_holding_no_frame_folders(tmp_path):
    """Its Annotations/ and ImageSets/ were taken for frame folders: 'no clip of >= 9 frames in any shot'."""
    root = tmp_path / "davis"
    (root / "Annotations" / "480p" / "bmx").mkdir(parents=True)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    with pytest.raises(DataError, match=rf"^{root}: no videos \(.*\) and no frame folders in it"):
        build_training_set([root], tmp_path / "set")


def test_frames_too_small_to_train_on_are_said(tmp_path):
    """A 16x12 clip became a training set without a word; every preset stretches it 5x or more."""
    from PIL import Image

    folder = tmp_path / "frames" / "tiny"
    folder.mkdir(parents=True)
    for i in range(10):
        Image.new("RGB", (16, 12), (i * 25, 100, 0)).save(folder / f"{i:05d}.png")
    said = []
    build_training_set([tmp_path / "frames"], tmp_path / "set", tell=said.append)
    assert (
        f"warning: {folder}: frames as small as 16x12 (W x H, under 64 pixels a side): training stretches "
        "them to its frame size"
    ) in said


def test_pairs_from_a_training_set(tmp_path):
    cut_video(tmp_path / "videos" / "street.mp4")
    clips = TrainingSetClips(build_training_set([tmp_path / "videos"], tmp_path / "set").root)
    sampler = PairSampler(clips, gaps=(2,), gap_weights=None, size=(32, 32), clip_weights=clips.weights)
    assert len(sampler) > 0 and all(p.target - p.reference == 2 for p in sampler.pairs)
    reference, target = sampler[0]
    assert reference.shape == target.shape == (32, 32, 3) and reference.dtype == np.float32
    assert os.path.isfile(clips.frame_paths(0)[0])


def test_train_refuses_a_set_whose_frames_went_missing_before_the_first_step(tmp_path, capsys):
    """A clip folder missing frames was found when training first read that clip, after the run had
    claimed its folder (and, on a real set, after hours of training)."""
    from mast_bench.__main__ import main

    videos = tmp_path / "videos"
    cut_video(videos / "a.mp4", frames=40, cut=20)
    made = build_training_set([videos], tmp_path / "set")
    last = made.clips[-1]
    folder = made.folder(last)
    sorted(folder.iterdir())[-1].unlink()
    out = tmp_path / "run"
    argv = [
        "train",
        "--variant",
        "mast",
        "--preset",
        "smoke",
        "--data",
        str(tmp_path / "set"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--quiet"]) == 2
    said = capsys.readouterr().err
    assert f"{folder}: 39 frames, the training set's clip {last.name} needs 40" in said
    assert not (out / "train-data.json").exists()
