"""JHMDB PCK and VIP mIoU against straight references of the originals' scoring (tests/support)."""

from __future__ import annotations

import numpy as np
import pytest
from support.benchmark_oracles import miou_oracle, pck_oracle

from mast_bench.metrics.names import JHMDB_METRICS
from mast_bench.metrics.part_iou import PartCounts, class_iou, confusion, frame_counts, score_counts
from mast_bench.metrics.pck import normalised_distances, pck_per_joint, score_videos


def random_videos(seed: int, count: int = 4):
    rng = np.random.default_rng(seed)
    videos = []
    for _ in range(count):
        frames = int(rng.integers(2, 12))
        truth = rng.uniform(0, 320, (2, 15, frames))
        predicted = truth + rng.normal(0, rng.uniform(2, 30), truth.shape)
        predicted[0][rng.random((15, frames)) < 0.1] = -1.0  # heatmaps with no mass
        videos.append((predicted, truth))
    return videos


@pytest.mark.parametrize("seed", range(5))
def test_pck_equals_the_reference_per_joint_and_in_the_mean(seed):
    videos = random_videos(seed)
    scores = score_videos({f"v{i}": pair for i, pair in enumerate(videos)})
    expected = pck_oracle(videos)
    for metric, threshold in zip(JHMDB_METRICS, (0.1, 0.2), strict=True):
        shares, mean = expected[threshold]
        np.testing.assert_allclose(scores.per_joint[metric] * 100, shares, rtol=0, atol=1e-9)
        assert scores.metrics()[metric] * 100 == pytest.approx(mean, abs=1e-9)
    assert scores.metrics()["videos"] == 4 and len(scores.per_joint) == 15


def test_pck_skips_the_first_frame_and_invisible_joints_and_scales_by_the_visible_box():
    truth = np.zeros((2, 2, 3))
    truth[:, 1] = [[3.0, 3.0, 3.0], [4.0, 4.0, 4.0]]  # joint 1 at (3, 4): the box diagonal is 5
    predicted = truth.copy()
    predicted[0, 0, 1] += 0.3 * 5  # frame 1: joint 0 off by 0.3 x 5 pixels -> 0.3 / 0.6 = 0.5
    predicted[0, 1, 2] = -1.0  # frame 2: joint 1 invisible, so the box shrinks to a point
    distances = normalised_distances(predicted, truth)
    assert not distances.scored[:, 0].any() and not distances.scored[1, 2]
    assert distances.distances[0, 1] == pytest.approx(0.5)
    # a box of size 0 (one visible joint) gives 0 / 0 = NaN: scored, never within a threshold
    assert np.isnan(distances.distances[0, 2]) and distances.scored[0, 2]
    np.testing.assert_array_equal(pck_per_joint([distances], 0.6), [0.5, 1.0])


@pytest.mark.parametrize("seed", range(4))
def test_miou_equals_the_reference_over_frames_with_void_and_absent_classes(seed):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(3):
        truth = rng.choice([0, 2, 4, 8, 13, 15, 255], size=(12, 17))
        predicted = np.where(
            rng.random(truth.shape) < 0.7, truth % 255, rng.choice([0, 2, 4, 19], size=truth.shape)
        )
        pairs.append((truth.astype(np.uint8), predicted.astype(np.uint8)))
    expected_iou, expected_miou = miou_oracle(pairs)
    counts = [frame_counts(t, p) for t, p in pairs]
    scores = score_counts({"a": counts[0] + counts[1], "b": counts[2]}, frames=3)
    np.testing.assert_allclose(scores.per_class["IoU"], expected_iou, rtol=0, atol=1e-12)
    assert scores.metrics()["mIoU"] == pytest.approx(expected_miou, abs=1e-12)
    assert scores.metrics()["frames"] == 3 and np.isnan(scores.per_class["IoU"][1])  # hat: absent


def test_confusion_counts_rows_by_truth_and_ignores_void():
    truth = np.array([[0, 1, 1], [255, 2, 2]])
    predicted = np.array([[0, 1, 2], [1, 2, 25]])  # 25: no class, counts against the truth's class
    matrix = confusion(truth, predicted, classes=3)
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    counts = frame_counts(truth, predicted, classes=3)
    assert isinstance(counts, PartCounts) and counts.truth.tolist() == [1, 2, 2]
    np.testing.assert_allclose(class_iou(counts.matrix, counts.truth), [1.0, 1 / 2, 1 / 3])


def test_vip_scoring_refuses_a_mask_of_another_shape_and_reads_grey_ids(tmp_path):
    """A transposed mask (same pixel count) was scored as if it fitted, and a grey-id PNG, which the
    DAVIS and YouTube-VOS scoring read, was refused; a missing mask now says which frames need one."""
    from PIL import Image

    from mast_bench.data.embedded_people import make_people
    from mast_bench.data.vip import VipDataset
    from mast_bench.errors import DataError
    from mast_bench.metrics.part_iou import evaluate_vip

    root = make_people("vip", tmp_path / "vip", seed=2, size=(64, 72), videos=1, frames=(3, 3), step=25)
    video = VipDataset(root).sequence(VipDataset(root).sequence_names("val")[0])
    masks = tmp_path / "masks" / video.name
    masks.mkdir(parents=True)
    for index, frame in enumerate(video.frame_names):
        Image.fromarray(video.labels(index), mode="L").save(masks / f"{frame}.png")
    assert evaluate_vip(root, tmp_path / "masks", "val").metrics()["mIoU"] == 1.0
    last = masks / f"{video.frame_names[-1]}.png"
    Image.fromarray(np.ascontiguousarray(video.labels(len(video.frame_names) - 1).T), mode="L").save(last)
    with pytest.raises(DataError, match=rf"{last}: predicted mask is 64x72, expected 72x64"):
        evaluate_vip(root, tmp_path / "masks", "val")
    last.unlink()
    with pytest.raises(DataError, match=rf"{last}: predicted mask not found \(every frame needs one\)"):
        evaluate_vip(root, tmp_path / "masks", "val")
