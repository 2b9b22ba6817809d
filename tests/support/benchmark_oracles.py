"""Straight, loop-by-loop references of the field's JHMDB and VIP scoring, written from the originals'
structure (ajabri/videowalk code/eval/eval_pck.py and code/eval/eval_vip.py) and sharing nothing
with mast_bench.metrics: a distance list per joint grown frame by frame, a histogram per image."""

from __future__ import annotations

import math

import numpy as np


def pck_oracle(videos: list[tuple[np.ndarray, np.ndarray]], thresholds=(0.1, 0.2)) -> dict:
    """``videos``: (predicted, truth) pairs of (2, J, T). Returns {threshold: (per-joint %, mean %)}."""
    joints = videos[0][0].shape[1]
    per_joint: dict[int, list[float]] = {j: [] for j in range(joints)}
    for predicted, truth in videos:
        frames = truth.shape[2]
        for k in range(frames):
            minx, miny, maxx, maxy = 1e6, 1e6, -1.0, -1.0
            for j in range(joints):
                if predicted[0, j, k] < 0:
                    continue
                minx, miny = min(minx, truth[0, j, k]), min(miny, truth[1, j, k])
                maxx, maxy = max(maxx, truth[0, j, k]), max(maxy, truth[1, j, k])
            box = 0.6 * math.sqrt((maxx - minx) ** 2 + (maxy - miny) ** 2)
            for j in range(joints):
                if predicted[0, j, k] < 0 or k == 0:
                    continue
                d = math.sqrt(
                    (predicted[0, j, k] - truth[0, j, k]) ** 2 + (predicted[1, j, k] - truth[1, j, k]) ** 2
                )
                per_joint[j].append(d / box if box else (math.inf if d else math.nan))
    out = {}
    for threshold in thresholds:
        shares = [
            100.0 * sum(1 for d in per_joint[j] if d <= threshold) / len(per_joint[j]) for j in range(joints)
        ]
        out[threshold] = (shares, sum(shares) / len(shares))
    return out


def miou_oracle(pairs: list[tuple[np.ndarray, np.ndarray]], classes: int = 20) -> tuple[list[float], float]:
    """``pairs``: (truth, predicted) label maps. Per-class IoU (NaN when a class is absent) and mIoU."""
    hist = np.zeros((classes, classes))
    for truth, predicted in pairs:
        for t, p in zip(truth.ravel().tolist(), predicted.ravel().tolist(), strict=True):
            if 0 <= t < classes:
                hist[t, p] += 1
    iou = []
    for c in range(classes):
        union = hist[c].sum() + hist[:, c].sum() - hist[c, c]
        iou.append(hist[c, c] / union if union else math.nan)
    present = [v for v in iou if not math.isnan(v)]
    return iou, sum(present) / len(present)


def crw_draw(img: np.ndarray, pt, sigma: float) -> np.ndarray:
    """pose-hg-train's Gaussian as CRW's code/data/jhmdb.py draw_labelmap_np writes it."""
    ul = [int(pt[0] - 3 * sigma), int(pt[1] - 3 * sigma)]
    br = [int(pt[0] + 3 * sigma + 1), int(pt[1] + 3 * sigma + 1)]
    if ul[0] >= img.shape[1] or ul[1] >= img.shape[0] or br[0] < 0 or br[1] < 0:
        return img
    size = 6 * sigma + 1
    x = np.arange(0, size, 1, float)
    y = x[:, np.newaxis]
    x0 = y0 = size // 2
    g = np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2))
    g_x = max(0, -ul[0]), min(br[0], img.shape[1]) - ul[0]
    g_y = max(0, -ul[1]), min(br[1], img.shape[0]) - ul[1]
    img_x = max(0, ul[0]), min(br[0], img.shape[1])
    img_y = max(0, ul[1]), min(br[1], img.shape[0])
    img[img_y[0] : img_y[1], img_x[0] : img_x[1]] = g[g_y[0] : g_y[1], g_x[0] : g_x[1]]
    return img


def crw_process_pose(pred, topk: int = 3):
    """CRW's code/utils/test_utils.py process_pose on (h, w, J) maps: grid coordinates (2, J)."""
    import torch

    flat = pred.flatten(0, 1)
    topk = min(flat.shape[0], topk)
    vals, ids = torch.topk(flat, k=topk, dim=0)
    vals = vals / vals.sum(0)[None]
    xx, yy = ids % pred.shape[1], ids // pred.shape[1]
    coord = torch.stack([(xx * vals).sum(0), (yy * vals).sum(0)], dim=0)
    coord[:, flat.sum(0) == 0] = -1
    return coord
