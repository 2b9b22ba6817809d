from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from mast_bench.data.clips import FrameFolderClips, PairIndex, PairSampler, plan_pairs
from mast_bench.data.embedded import train_clips_dir
from mast_bench.data.images import resize_float
from mast_bench.data.video import VideoFileClips
from mast_bench.errors import ConfigError, DataError

VIDEO_FRAMES = 30


def _frame_pattern(index: int) -> np.ndarray:
    """64x96 frame whose grey level encodes its index (survives lossy coding)."""
    frame = np.full((64, 96, 3), 20 + 7 * index, np.uint8)
    frame[:, : 4 + index] = 255 - 7 * index
    return frame


@pytest.fixture(scope="module")
def video_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"g": "8", "bf": "2", "crf": "10"}  # keyframe every 8 frames, B-frames
        for index in range(VIDEO_FRAMES):
            frame = av.VideoFrame.from_ndarray(_frame_pattern(index), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _plan(lengths, gap):
    return sorted((p.clip, p.reference, p.target) for p in plan_pairs(lengths, gaps=(gap,), gap_weights=None))


def test_plan_pairs_by_hand():
    assert _plan([10], 2) == [(0, 0, 2), (0, 4, 6)]  # starts 0 2 4 6 8: odd last dropped
    assert _plan([10], 5) == [(0, 0, 5)]
    assert _plan([11], 5) == [(0, 0, 5)]  # 0, 5, 10: odd last dropped
    assert _plan([16], 5) == [(0, 0, 5), (0, 10, 15)]
    assert _plan([5], 5) == []  # frames 0..4: only one start
    assert _plan([3, 7], 2) == [(0, 0, 2), (1, 0, 2), (1, 4, 6)]


def test_plan_pairs_official_rule_on_many_clips():
    lengths = list(range(3, 120)) * 20
    pairs = plan_pairs(lengths, seed=7, epoch=1)
    by_clip: dict[int, list[PairIndex]] = {}
    for pair in pairs:
        by_clip.setdefault(pair.clip, []).append(pair)
    gap_counts = Counter()
    for clip, clip_pairs in by_clip.items():
        gaps = {p.target - p.reference for p in clip_pairs}
        assert len(gaps) == 1 and gaps <= {2, 5, 8}  # one gap per clip and epoch
        gap = gaps.pop()
        gap_counts[gap] += 1
        starts = sorted(p.reference for p in clip_pairs)
        assert starts == [2 * gap * k for k in range(len(starts))]  # disjoint consecutive pairs
        assert len(starts) == len(range(0, lengths[clip], gap)) // 2
        assert max(p.target for p in clip_pairs) < lengths[clip]
    total = sum(gap_counts.values())
    for gap, weight in zip((2, 5, 8), (0.4, 0.4, 0.2), strict=True):
        assert abs(gap_counts[gap] / total - weight) < 0.03
    assert plan_pairs(lengths, seed=7, epoch=1) == pairs
    assert plan_pairs(lengths, seed=7, epoch=2) != pairs
    assert plan_pairs(lengths, seed=8, epoch=1) != pairs


# Bilinear resizing of float32 values in [0, 1] (cv2.INTER_LINEAR): each output is
# b0 * (a0 * p + a1 * q) + b1 * (a0 * r + a1 * s) with weights in [0, 1] summing to 1, i.e. at most six
# float32 roundings of numbers no larger than about 1, each off by at most half an ulp of [1, 2), 2**-24.
# OpenCV evaluates a channel in a SIMD lane or in scalar code (with or without fused multiply-adds)
# depending on the CPU and on where the channel sits in the pixel, so the same value resized in RGB
# and in BGR order may be rounded differently: by at most 2 * 6 * 2**-24 (about 7e-7).
CHANNEL_ORDER_TOLERANCE = 12 * 2.0**-24


def test_resize_is_channel_order_independent():
    rng = np.random.default_rng(0)
    bgr = rng.random((37, 53, 3), dtype=np.float32)
    resized_bgr = cv2.resize(bgr, (256, 256))
    resized_rgb = resize_float(np.ascontiguousarray(bgr[..., ::-1]), (256, 256))
    np.testing.assert_allclose(resized_rgb, resized_bgr[..., ::-1], rtol=0, atol=CHANNEL_ORDER_TOLERANCE)
    assert np.abs(resized_rgb - resized_bgr).max() > 0.5  # the channels really were swapped


def test_pairs_from_davis_frames_match_the_official_loader(davis_mini: Path):
    clips = FrameFolderClips(davis_mini)
    assert clips.clip_names == ("bmx-trees", "car-shadow", "motocross-jump")
    assert [clips.num_frames(i) for i in range(3)] == [80, 40, 40]
    sampler = PairSampler(clips, seed=1)
    for index in (0, len(sampler) - 1):
        reference, target = sampler[index]
        pair = sampler.pairs[index]
        assert pair.target - pair.reference in (2, 5, 8)
        for image, frame in ((reference, pair.reference), (target, pair.target)):
            path = clips.frame_paths(pair.clip)[frame]
            official = cv2.resize(np.float32(cv2.imread(str(path))) / 255.0, (256, 256))  # YTVOSTrainLoader
            assert image.shape == (256, 256, 3) and image.dtype == np.float32
            np.testing.assert_allclose(image, official[..., ::-1], rtol=0, atol=CHANNEL_ORDER_TOLERANCE)


def test_sampler_is_deterministic_per_seed_and_epoch(tiny_embedded: Path):
    clips = FrameFolderClips(train_clips_dir(tiny_embedded))
    assert clips.clip_names == ("clip000", "clip001") and clips.num_frames(0) == 12
    a, b = PairSampler(clips, size=(32, 40), seed=5), PairSampler(clips, size=(32, 40), seed=5)
    assert a.pairs == b.pairs and len(a) > 0
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert a[0][0].shape == (32, 40, 3) and 0 <= a[0][0].min() and a[0][0].max() <= 1
    b.set_epoch(1)
    plans = {PairSampler(clips, seed=5, epoch=e).pairs for e in range(6)}
    assert len(plans) > 1


def test_sampler_in_a_dataloader_with_workers(tiny_embedded: Path):
    torch = pytest.importorskip("torch")
    sampler = PairSampler(FrameFolderClips(tiny_embedded / "train_clips"), size=(16, 16), seed=2)
    loader = torch.utils.data.DataLoader(sampler, batch_size=2, num_workers=2)
    batches = list(loader)
    references = torch.cat([b[0] for b in batches]).numpy()
    expected = np.stack([sampler[i][0] for i in range(len(sampler))])
    np.testing.assert_array_equal(references, expected)


def test_video_file_frames_by_seeking(video_file: Path):
    clips = VideoFileClips([video_file])
    assert clips.clip_names == ("clip",) and clips.num_frames(0) == VIDEO_FRAMES
    with av.open(str(video_file)) as container:
        sequential = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(sequential) == VIDEO_FRAMES
    for indices in ([0, 2], [17, 25], [29], [23, 9, 12]):
        frames = clips.read_frames(0, indices)
        for index, frame in zip(indices, frames, strict=True):
            np.testing.assert_array_equal(frame, sequential[index])
            assert abs(float(frame[:, -1].mean()) - (20 + 7 * index)) < 3  # the frame we encoded there
    sampler = PairSampler(clips, gaps=(5,), gap_weights=None, size=(32, 32))
    assert sorted((p.reference, p.target) for p in sampler.pairs) == [(0, 5), (10, 15), (20, 25)]
    reference, target = sampler[0]
    assert reference.shape == target.shape == (32, 32, 3)


def test_video_folder_and_bad_videos(video_file: Path, tmp_path: Path):
    assert VideoFileClips(video_file.parent).clip_names == ("clip",)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"definitely not a video")
    with pytest.raises(DataError, match="bad.mp4: unreadable video"):
        VideoFileClips([bad])
    with pytest.raises(DataError, match="missing.mp4: video file missing"):
        VideoFileClips([tmp_path / "missing.mp4"])
    with pytest.raises(DataError, match="no video files"):
        VideoFileClips([])
    (tmp_path / "no_videos").mkdir()
    with pytest.raises(DataError, match="no video files"):
        VideoFileClips(tmp_path / "no_videos")


def test_bad_clip_sources_and_parameters(tmp_path: Path, tiny_embedded: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no clips"):
        FrameFolderClips(tmp_path / "empty")
    clips = FrameFolderClips(tiny_embedded / "train_clips")
    with pytest.raises(ConfigError, match="gaps"):
        PairSampler(clips, gaps=(0, 2))
    with pytest.raises(ConfigError, match="gap_weights"):
        PairSampler(clips, gaps=(2, 5), gap_weights=(1.0,))
    with pytest.raises(
        DataError,
        match=r"no training pair: no clip is longer than the smallest gap \(gaps \(20,\)",
    ):
        PairSampler(clips, gaps=(20,), gap_weights=None)
    with pytest.raises(DataError, match=r"smallest gap \(gaps \(2, 20\)"):  # 2 is never drawn
        PairSampler(clips, gaps=(2, 20), gap_weights=(0.0, 1.0))


def test_frame_folder_layouts(tmp_path: Path):
    from PIL import Image

    for root in (tmp_path / "plain", tmp_path / "ytvos" / "JPEGImages"):
        for video, frames in (("v1", 3), ("v2", 12)):
            folder = root / video
            folder.mkdir(parents=True)
            for i in range(frames):
                Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(folder / f"{i * 5:05d}.jpg")
    (tmp_path / "plain" / "notes.txt").write_text("not a clip")
    for root in (tmp_path / "plain", tmp_path / "ytvos"):
        clips = FrameFolderClips(root)
        assert clips.clip_names == ("v1", "v2") and clips.num_frames(1) == 12
        assert [p.name for p in clips.frame_paths(1)][:3] == ["00000.jpg", "00005.jpg", "00010.jpg"]
        assert clips.read_frames(1, [2])[0].shape == (8, 8, 3)
    Image.fromarray(np.zeros((8, 6, 3), np.uint8)).save(tmp_path / "plain" / "v2" / "00015.jpg")
    with pytest.raises(DataError, match=r"v2/00015.jpg: size \(H, W\) = \(8, 6\), expected \(8, 8\)"):
        FrameFolderClips(tmp_path / "plain").read_frames(1, [0, 3])  # one stretched against the other
    with pytest.raises(DataError, match=r"v2/00015.jpg: size \(H, W\) = \(8, 6\), expected \(8, 8\)"):
        FrameFolderClips(tmp_path / "plain").read_frames(1, [0])  # training reads a frame at a time
