"""Straight, slow port of the davis2017-evaluation toolkit's semi-supervised path: the test oracle.

Written from a reading of davis2017/{davis,results,evaluation,metrics,utils}.py and evaluation_method.py
(davisvideochallenge/davis2017-evaluation), keeping the toolkit's data flow on purpose:
- all annotation frames are read as float arrays, 255 is set to 0, objects are 1..max of frame 0, and
  per-object boolean stacks are built by comparing with every id; frames 1..N-2 are kept;
- predictions of frames 1..N-2 are read the same way with their OWN object count (max over those frames);
  when it differs from the annotation's the toolkit prints a message and calls sys.exit() (status 0):
  here that raises ToolkitExit;
- the void mask the toolkit passes is ``boolean_stack == 255``, which is always False;
- J = inters / union per frame (1 where union is 0); F by full-frame seg2bmap, cv2.dilate with
  skimage's disk, the toolkit's empty-boundary rules;
- statistics with the decay bin edges cast to uint8 (the toolkit's overflow for long sequences);
- global table / per-sequence table as evaluation_method.py builds them; CSVs with float_format "%.3f".
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image
from skimage.morphology import disk as skimage_disk


class ToolkitExit(Exception):
    """Where the toolkit would print a message and sys.exit() with status 0."""


def toolkit_seg2bmap(seg):
    seg = seg.astype(bool)
    right = np.zeros_like(seg)
    below = np.zeros_like(seg)
    below_right = np.zeros_like(seg)
    right[:, :-1] = seg[:, 1:]
    below[:-1, :] = seg[1:, :]
    below_right[:-1, :-1] = seg[1:, 1:]
    b = seg ^ right | seg ^ below | seg ^ below_right
    b[-1, :] = seg[-1, :] ^ right[-1, :]
    b[:, -1] = seg[:, -1] ^ below[:, -1]
    b[-1, -1] = 0
    return b


def toolkit_f_measure(foreground_mask, gt_mask, void_pixels=None, bound_th=0.008):
    if void_pixels is None:
        void_pixels = np.zeros_like(foreground_mask).astype(bool)
    else:
        void_pixels = void_pixels.astype(bool)
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(foreground_mask.shape))
    fg_boundary = toolkit_seg2bmap(foreground_mask * np.logical_not(void_pixels))
    gt_boundary = toolkit_seg2bmap(gt_mask * np.logical_not(void_pixels))
    kernel = skimage_disk(bound_pix).astype(np.uint8)
    fg_dil = cv2.dilate(fg_boundary.astype(np.uint8), kernel)
    gt_dil = cv2.dilate(gt_boundary.astype(np.uint8), kernel)
    gt_match = gt_boundary * fg_dil
    fg_match = fg_boundary * gt_dil
    n_fg = np.sum(fg_boundary)
    n_gt = np.sum(gt_boundary)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = np.sum(fg_match) / float(n_fg)
        recall = np.sum(gt_match) / float(n_gt)
    if precision + recall == 0:
        return 0
    return 2 * precision * recall / (precision + recall)


def toolkit_iou(annotation, segmentation, void_pixels=None):
    annotation = annotation.astype(bool)
    segmentation = segmentation.astype(bool)
    void_pixels = np.zeros_like(segmentation) if void_pixels is None else void_pixels.astype(bool)
    inters = np.sum((segmentation & annotation) & np.logical_not(void_pixels), axis=(-2, -1))
    union = np.sum((segmentation | annotation) & np.logical_not(void_pixels), axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        j = inters / union
    if j.ndim == 0:
        return 1 if np.isclose(union, 0) else j
    j[np.isclose(union, 0)] = 1
    return j


def toolkit_boundary(annotation, segmentation, void_pixels=None, bound_th=0.008):
    if annotation.ndim == 3:
        out = np.zeros(annotation.shape[0])
        for t in range(annotation.shape[0]):
            v = None if void_pixels is None else void_pixels[t]
            out[t] = toolkit_f_measure(segmentation[t], annotation[t], v, bound_th)
        return out
    return toolkit_f_measure(segmentation, annotation, void_pixels, bound_th)


def toolkit_statistics(per_frame_values, edge_dtype=np.uint8):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(per_frame_values)
        recall = np.nanmean(per_frame_values > 0.5)
    ids = np.round(np.linspace(1, len(per_frame_values), 5) + 1e-10) - 1
    with np.errstate(invalid="ignore"):
        ids = ids.astype(edge_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # the uint8 overflow, reproduced
        bins = [per_frame_values[ids[i] : ids[i + 1] + 1] for i in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return mean, recall, decay


def _read_stack(paths):
    first = np.array(Image.open(paths[0]))
    stack = np.zeros((len(paths), *first.shape))
    for i, p in enumerate(paths):
        stack[i, ...] = np.array(Image.open(p))
    return stack


def _split_objects(stack, n_objects):
    ids = np.ones((n_objects, *stack.shape)) * np.arange(1, n_objects + 1)[:, None, None, None]
    return ids == stack[None, ...]


def toolkit_sequence(davis_root: Path, results_dir: Path, seq: str):
    """(J, F) arrays (n_objects, N-2) of one sequence, the toolkit's way."""
    mask_paths = sorted((Path(davis_root) / "Annotations" / "480p" / seq).glob("*.png"))
    masks = _read_stack(mask_paths)
    masks[masks == 255] = 0
    n_objects = int(np.max(masks[0, ...]))
    gt = _split_objects(masks, n_objects) > 0
    frame_ids = [p.stem for p in mask_paths]
    gt, frame_ids = gt[:, 1:-1], frame_ids[1:-1]
    res_stack = _read_stack([Path(results_dir) / seq / f"{fid}.png" for fid in frame_ids])
    res = _split_objects(res_stack, int(np.max(res_stack))) > 0
    if res.shape[0] != gt.shape[0]:
        raise ToolkitExit(
            "In your PNG files there is an index higher than the number of objects in the sequence!"
        )
    j = np.zeros(gt.shape[:2])
    f = np.zeros(gt.shape[:2])
    for ii in range(gt.shape[0]):
        void = gt[ii, ...] == 255  # always False: the stack is boolean
        j[ii, :] = toolkit_iou(gt[ii, ...], res[ii, ...], void)
        f[ii, :] = toolkit_boundary(gt[ii, ...], res[ii, ...], void)
    return j, f


def toolkit_evaluate(davis_root: Path, results_dir: Path, sequences: list[str], edge_dtype=np.uint8):
    """(global_table, per_sequence_table, {seq: (J, F)}) as evaluation_method.py would build them."""
    jm, jr, jd, fm, fr, fd, names = [], [], [], [], [], [], []
    per_frame = {}
    for seq in sequences:
        j, f = toolkit_sequence(davis_root, results_dir, seq)
        per_frame[seq] = (j, f)
        for ii in range(j.shape[0]):
            a, b, c = toolkit_statistics(j[ii], edge_dtype)
            d, e, g = toolkit_statistics(f[ii], edge_dtype)
            jm.append(a), jr.append(b), jd.append(c), fm.append(d), fr.append(e), fd.append(g)
            names.append(f"{seq}_{ii + 1}")
    final_mean = (np.mean(jm) + np.mean(fm)) / 2.0
    g_res = np.array(
        [final_mean, np.mean(jm), np.mean(jr), np.mean(jd), np.mean(fm), np.mean(fr), np.mean(fd)]
    )
    columns = ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"]
    table_g = pd.DataFrame(data=g_res.reshape(1, -1), columns=columns)
    table_seq = pd.DataFrame(
        data=list(zip(names, jm, fm, strict=True)), columns=["Sequence", "J-Mean", "F-Mean"]
    )
    return table_g, table_seq, per_frame


def toolkit_csv_bytes(table: pd.DataFrame, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / name
    with open(path, "w") as fh:
        table.to_csv(fh, index=False, float_format="%.3f")
    return path.read_bytes()
