"""J, F, seg2bmap and the disk: hand-computed cases, a brute-force F, bit-equality with the toolkit port."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.morphology import disk as skimage_disk
from support.toolkit_oracle import toolkit_boundary, toolkit_f_measure, toolkit_iou, toolkit_seg2bmap

from mast_bench.metrics import boundary_radius, db_eval_boundary, db_eval_iou, disk, seg2bmap


def block(shape, rows, cols):
    m = np.zeros(shape, bool)
    m[rows[0] : rows[1], cols[0] : cols[1]] = True
    return m


def test_iou_hand_computed():
    gt = block((4, 4), (0, 2), (0, 2))
    pred = block((4, 4), (0, 2), (1, 3))
    assert db_eval_iou(gt, pred) == pytest.approx(2 / 6)
    void = block((4, 4), (0, 4), (2, 3))  # removes the 2 predicted pixels of column 2
    assert db_eval_iou(gt, pred, void) == pytest.approx(2 / 4)
    empty = np.zeros((4, 4), bool)
    assert db_eval_iou(empty, empty) == 1.0
    assert db_eval_iou(gt, empty) == 0.0
    assert db_eval_iou(gt, pred, gt | pred) == 1.0  # everything void: union 0


def test_iou_stack_matches_frames():
    rng = np.random.default_rng(1)
    gt, pred = rng.random((2, 5, 7, 9)) > 0.6
    gt[2] = pred[2] = False
    j = db_eval_iou(gt, pred)
    assert j.shape == (5,)
    assert j[2] == 1.0
    np.testing.assert_array_equal(j, toolkit_iou(gt, pred))
    assert [db_eval_iou(gt[t], pred[t]) for t in range(5)] == list(j)


def test_seg2bmap_hand_computed():
    seg = block((4, 4), (1, 3), (1, 3))
    expected = np.array([[1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(seg2bmap(seg), expected)
    # a mask covering the whole frame has no boundary under this rule
    assert not seg2bmap(np.ones((5, 6), bool)).any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2), (9, 13), (31, 17)])
def test_seg2bmap_equals_toolkit_rule(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for density in (0.0, 0.2, 0.5, 0.9, 1.0):
        seg = rng.random(shape) < density
        np.testing.assert_array_equal(seg2bmap(seg), toolkit_seg2bmap(seg))


def test_disk_equals_skimage_and_radius_rule():
    for radius in [0, 1, 2, 3, 7, 8, 8.0, 12]:
        np.testing.assert_array_equal(disk(radius), skimage_disk(radius))
    assert boundary_radius((480, 854)) == 8.0  # ceil(0.008 * 979.6)
    assert boundary_radius((64, 96)) == 1.0  # ceil(0.008 * 115.4)
    assert boundary_radius((480, 854), bound_th=3) == 3  # bound_th >= 1 is a radius in pixels


def test_boundary_f_hand_computed():
    # one row: gt boundary at x in {0, 2}, prediction boundary at x = 3; radius 1 (bound_th = 1)
    gt = np.array([[0, 1, 1, 0, 0, 0]], bool)
    pred = np.array([[0, 0, 0, 0, 1, 1]], bool)
    # precision 1/1 (3 is next to 2), recall 1/2 (0 has no prediction boundary within 1 px)
    assert db_eval_boundary(gt, pred, bound_th=1) == pytest.approx(2 * 1 * 0.5 / 1.5)
    gt2 = block((4, 4), (1, 3), (1, 3))
    empty = np.zeros((4, 4), bool)
    assert db_eval_boundary(gt2, empty) == 0.0  # precision 1, recall 0
    assert db_eval_boundary(empty, gt2) == 0.0  # precision 0, recall 1
    assert db_eval_boundary(empty, empty) == 1.0
    assert db_eval_boundary(gt2, gt2) == 1.0
    full = np.ones((4, 4), bool)
    assert db_eval_boundary(full, full) == 1.0  # no boundary on either side: precision = recall = 1
    assert db_eval_boundary(full, gt2) == 0.0  # prediction boundary but none in the annotation


def brute_force_f(pred: np.ndarray, gt: np.ndarray, radius: float) -> float:
    """F by the definition: a boundary pixel matches if the other boundary has a pixel within ``radius``."""
    pb, gb = np.argwhere(toolkit_seg2bmap(pred)), np.argwhere(toolkit_seg2bmap(gt))
    if len(pb) == 0 or len(gb) == 0:
        precision, recall = (1.0 if len(pb) == 0 else 0.0), (1.0 if len(gb) == 0 else 0.0)
    else:
        d2 = ((pb[:, None, :] - gb[None, :, :]) ** 2).sum(-1)
        precision = float((d2.min(1) <= radius**2).mean())
        recall = float((d2.min(0) <= radius**2).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def random_masks(rng, shape):
    """Pairs of masks covering the awkward cases: blobs at borders, single pixels, full and empty masks."""
    h, w = shape
    y, x = np.mgrid[:h, :w]
    cases = []
    for _ in range(6):
        cy, cx, r = rng.uniform(-2, h + 2), rng.uniform(-2, w + 2), rng.uniform(0.5, max(h, w) / 2)
        gt = (y - cy) ** 2 + (x - cx) ** 2 <= r * r
        pred = np.roll(gt, tuple(rng.integers(-3, 4, size=2)), axis=(0, 1)) ^ (rng.random(shape) < 0.03)
        cases.append((gt, pred))
    single = np.zeros(shape, bool)
    single[-1, -1] = True
    cases += [(single, single.copy()), (np.ones(shape, bool), single), (np.zeros(shape, bool), single)]
    return cases


@pytest.mark.parametrize("shape", [(1, 9), (7, 1), (12, 12), (40, 64), (64, 96)])
def test_boundary_f_equals_toolkit_and_brute_force(shape):
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    for gt, pred in random_masks(rng, shape):
        for bound_th in (0.008, 0.05, 2):
            ours = db_eval_boundary(gt, pred, bound_th=bound_th)
            assert ours == toolkit_f_measure(pred, gt, bound_th=bound_th)  # bit-identical
            assert ours == pytest.approx(brute_force_f(pred, gt, boundary_radius(shape, bound_th)), abs=1e-12)
        void = rng.random(shape) < 0.1
        assert db_eval_boundary(gt, pred, void) == toolkit_f_measure(pred, gt, void)
        assert db_eval_iou(gt, pred, void) == toolkit_iou(gt, pred, void)


def test_boundary_stack():
    rng = np.random.default_rng(3)
    pairs = random_masks(rng, (20, 30))
    gt = np.stack([g for g, _ in pairs])
    pred = np.stack([p for _, p in pairs])
    np.testing.assert_array_equal(db_eval_boundary(gt, pred), toolkit_boundary(gt, pred))
    with pytest.raises(ValueError, match="shapes differ"):
        db_eval_boundary(gt, pred[:, :-1])
