"""J and F of every object of one frame, from two label images, without building per-object full masks.

Each object's box comes from one ``cv2.boundingRect`` of the union of its two full-frame masks (an
OpenCV call, cheaper than ``scipy.ndimage.find_objects``); all per-object work then happens inside that
box (see measures.py for why the crop changes no count). Ids above ``n_objects`` in the annotation
(void 255, objects that first appear after frame 0) belong to no object, exactly as in the toolkit.
"""

from __future__ import annotations

import cv2
import numpy as np

from .measures import boundary_f_cropped, union_crop


def _box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(row0, row1, col0, col1) of a boolean mask's True pixels, None when it has none."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return None if w == 0 else (y, y + h, x, x + w)


def score_frame(
    annotation: np.ndarray,
    prediction: np.ndarray,
    n_objects: int,
    kernel: np.ndarray,
    void: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(J, F) arrays of length ``n_objects`` for objects 1..n_objects of one frame.

    ``annotation`` and ``prediction`` are (H, W) uint8 label images of the same shape; ``void`` (bool) marks
    pixels removed from both masks before scoring (None: nothing removed, the toolkit's behaviour).
    """
    j = np.ones(n_objects, dtype=np.float64)
    f = np.ones(n_objects, dtype=np.float64)
    if n_objects == 0:
        return j, f
    shape = annotation.shape
    for index in range(n_objects):
        label = index + 1
        gt_full = annotation == label
        pred_full = prediction == label
        box = _box(gt_full | pred_full)
        if box is None:
            continue  # both masks empty: J = 1 and F = 1
        crop = union_crop(box[:2], box[2:], shape)
        gt = gt_full[crop]
        pred = pred_full[crop]
        if void is not None:
            keep = ~void[crop]
            gt = gt & keep
            pred = pred & keep
        union = np.count_nonzero(gt | pred)
        j[index] = np.count_nonzero(gt & pred) / union if union else 1.0
        f[index] = boundary_f_cropped(pred, gt, kernel)
    return j, f
