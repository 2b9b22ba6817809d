"""Per-frame region (J) and boundary (F) measures with the davis2017-evaluation toolkit's exact semantics.

J is the Jaccard index of two binary masks (1 when both are empty). F is the boundary F-measure: boundaries
come from the toolkit's ``seg2bmap`` rule (a pixel is on the boundary when it differs from its right, lower
or lower-right neighbour, with special last row/column rules), each boundary is dilated with a disk of
radius ``ceil(bound_th * image diagonal)`` and precision/recall count the boundary pixels that fall inside
the other mask's dilated boundary. Void pixels, when given, are removed from both masks first.

Speed without changing a single bit: every boundary pixel of a mask lies inside the mask's bounding box
grown by one pixel up/left, so both masks are cropped to the box of their union (plus one all-zero row and
column below/right, which reproduces the toolkit's border rules) before any boundary or dilation work.
OpenCV's dilation treats outside pixels as absent, so the crop changes no count.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np


def disk(radius: float) -> np.ndarray:
    """Disk footprint of skimage.morphology.disk: offsets (x, y) with x*x + y*y <= radius**2, as uint8."""
    offsets = np.arange(-radius, radius + 1)
    x, y = np.meshgrid(offsets, offsets)
    return np.asarray((x**2 + y**2) <= radius**2, dtype=np.uint8)


def boundary_radius(shape: tuple[int, ...], bound_th: float = 0.008) -> float:
    """Dilation radius in pixels: ``bound_th`` itself when >= 1, else ceil(bound_th * diagonal) (toolkit)."""
    if bound_th >= 1:
        return bound_th
    return float(np.ceil(bound_th * np.linalg.norm(shape)))


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary map of a binary mask, the toolkit's (Martin 2003) shifted-comparison rule."""
    seg = np.asarray(seg).astype(bool)
    if seg.ndim != 2:
        raise ValueError(f"seg2bmap expects a 2-D mask, got shape {seg.shape}")
    here = seg[:-1, :-1]
    bmap = np.zeros(seg.shape, dtype=bool)
    bmap[:-1, :-1] = (here ^ seg[:-1, 1:]) | (here ^ seg[1:, :-1]) | (here ^ seg[1:, 1:])
    bmap[-1, :-1] = seg[-1, :-1] ^ seg[-1, 1:]  # last row: right neighbour only
    bmap[:-1, -1] = seg[:-1, -1] ^ seg[1:, -1]  # last column: lower neighbour only
    bmap[-1, -1] = False
    return bmap


def union_crop(rows: tuple[int, int], cols: tuple[int, int], shape: tuple[int, int]) -> tuple[slice, slice]:
    """Crop covering pixels [r0, r1) x [c0, c1) plus one row/column above-left and below-right, clipped."""
    (r0, r1), (c0, c1) = rows, cols
    return slice(max(r0 - 1, 0), min(r1 + 1, shape[0])), slice(max(c0 - 1, 0), min(c1 + 1, shape[1]))


def precision_recall_f(n_fg: int, n_gt: int, fg_match: int, gt_match: int) -> float:
    """The toolkit's F from boundary pixel counts, including its rules for empty boundaries."""
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = fg_match / float(n_fg)
        recall = gt_match / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


@functools.lru_cache(maxsize=16)
def _rectangles(shape: tuple[int, int], ones: bytes) -> tuple[np.ndarray, ...] | None:
    """A centred, symmetric footprint as the rectangles whose union it is (one per step of its
    outline: half-width w at row offset y gives a (2w+1) x (2y+1) rectangle), or None for another
    footprint. Dilating by each and keeping the maximum is dilating by the union, and OpenCV dilates
    by a rectangle in separable passes: the disk's dilation, to the bit, in about 2/3 of the time."""
    kernel = np.frombuffer(ones, np.uint8).reshape(shape).astype(bool)
    height, width = shape
    if height != width or height % 2 == 0 or not np.array_equal(kernel, kernel[::-1]):
        return None
    centre = height // 2
    half = [int(np.count_nonzero(kernel[centre + y])) // 2 for y in range(centre + 1)]
    rebuilt = np.zeros_like(kernel)
    rectangles = []
    for y, w in enumerate(half):
        if y == centre or half[y + 1] < w:
            rectangles.append(np.ones((2 * y + 1, 2 * w + 1), np.uint8))
            rebuilt[centre - y : centre + y + 1, centre - w : centre + w + 1] = True
    return tuple(rectangles) if np.array_equal(rebuilt, kernel) else None


def dilate(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Boolean dilation of ``mask`` by the footprint ``kernel`` (outside pixels absent), as cv2.dilate."""
    image = mask.view(np.uint8)
    rectangles = _rectangles(kernel.shape, np.ascontiguousarray(kernel, np.uint8).tobytes())
    if rectangles is None:
        return cv2.dilate(image, kernel).view(bool)
    out = cv2.dilate(image, rectangles[0])
    for rectangle in rectangles[1:]:
        np.maximum(out, cv2.dilate(image, rectangle), out=out)
    return out.view(bool)


def boundary_f_cropped(fg: np.ndarray, gt: np.ndarray, kernel: np.ndarray) -> float:
    """F of two boolean masks that are already cropped by :func:`union_crop` (or are whole frames)."""
    fg_boundary = seg2bmap(fg)
    gt_boundary = seg2bmap(gt)
    n_fg = int(np.count_nonzero(fg_boundary))
    n_gt = int(np.count_nonzero(gt_boundary))
    fg_match = gt_match = 0
    if n_fg and n_gt:
        fg_dil = dilate(fg_boundary, kernel)
        gt_dil = dilate(gt_boundary, kernel)
        fg_match = int(np.count_nonzero(fg_boundary & gt_dil))
        gt_match = int(np.count_nonzero(gt_boundary & fg_dil))
    return precision_recall_f(n_fg, n_gt, fg_match, gt_match)


def _occupied_span(any_along: np.ndarray) -> tuple[int, int] | None:
    idx = np.flatnonzero(any_along)
    return (int(idx[0]), int(idx[-1]) + 1) if idx.size else None


def boundary_f(
    fg: np.ndarray, gt: np.ndarray, bound_th: float = 0.008, void: np.ndarray | None = None
) -> float:
    """Boundary F-measure of one binary prediction ``fg`` against one binary annotation ``gt`` (2-D)."""
    fg = np.asarray(fg).astype(bool)
    gt = np.asarray(gt).astype(bool)
    if void is not None:
        keep = ~np.asarray(void).astype(bool)
        fg, gt = fg & keep, gt & keep
    kernel = disk(boundary_radius(fg.shape, bound_th))
    union = fg | gt
    rows = _occupied_span(union.any(axis=1))
    if rows is None:
        return 1.0  # both masks empty: both boundaries empty, precision = recall = 1
    cols = _occupied_span(union.any(axis=0))
    crop = union_crop(rows, cols, fg.shape)
    return boundary_f_cropped(fg[crop], gt[crop], kernel)


def _check_shapes(annotation: np.ndarray, segmentation: np.ndarray, void_pixels: np.ndarray | None) -> None:
    if annotation.shape != segmentation.shape:
        raise ValueError(f"annotation {annotation.shape} and segmentation {segmentation.shape} shapes differ")
    if void_pixels is not None and np.shape(void_pixels) != annotation.shape:
        raise ValueError(
            f"annotation {annotation.shape} and void pixels {np.shape(void_pixels)} shapes differ"
        )


def db_eval_iou(annotation: np.ndarray, segmentation: np.ndarray, void_pixels: np.ndarray | None = None):
    """Jaccard index of binary masks over the last two axes (1 where both are empty); void pixels excluded.

    Returns a float for 2-D input, an array of shape ``annotation.shape[:-2]`` otherwise.
    """
    annotation = np.asarray(annotation).astype(bool)
    segmentation = np.asarray(segmentation).astype(bool)
    _check_shapes(annotation, segmentation, void_pixels)
    if void_pixels is not None:
        keep = ~np.asarray(void_pixels).astype(bool)
        annotation, segmentation = annotation & keep, segmentation & keep
    inters = np.count_nonzero(annotation & segmentation, axis=(-2, -1))
    union = np.count_nonzero(annotation | segmentation, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.asarray(inters / union, dtype=np.float64)
    j[union == 0] = 1.0
    return float(j) if j.ndim == 0 else j


def db_eval_boundary(
    annotation: np.ndarray,
    segmentation: np.ndarray,
    void_pixels: np.ndarray | None = None,
    bound_th: float = 0.008,
):
    """Boundary F-measure of (H, W) or (T, H, W) binary masks (float, or an array of T values)."""
    annotation = np.asarray(annotation)
    segmentation = np.asarray(segmentation)
    _check_shapes(annotation, segmentation, void_pixels)
    if annotation.ndim == 2:
        return boundary_f(segmentation, annotation, bound_th, void_pixels)
    if annotation.ndim == 3:
        return np.array(
            [
                boundary_f(
                    segmentation[t], annotation[t], bound_th, None if void_pixels is None else void_pixels[t]
                )
                for t in range(annotation.shape[0])
            ],
            dtype=np.float64,
        )
    raise ValueError(f"db_eval_boundary supports 2-D or 3-D masks, got {annotation.ndim} dimensions")


__all__ = [
    "boundary_f",
    "boundary_f_cropped",
    "boundary_radius",
    "db_eval_boundary",
    "db_eval_iou",
    "dilate",
    "disk",
    "precision_recall_f",
    "seg2bmap",
    "union_crop",
]
