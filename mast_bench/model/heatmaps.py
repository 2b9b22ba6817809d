"""Keypoints as per-joint heatmaps on the feature grid, and back (CRW's JHMDB rule, for every protocol).

CRW (ajabri/videowalk code/data/jhmdb.py, code/utils/test_utils.py process_pose, code/eval/eval_pck.py):
- each joint, scaled from the frame to the network input and divided by the stride, gets a Gaussian
  of peak 1 and sigma 0.5 grid cells drawn straight on the feature grid (pose-hg-train's draw: a
  6 sigma + 1 wide window from int(x - 3 sigma), Python's int truncating toward zero);
- a propagated heatmap gives its joint at the mean of its 3 largest cells weighted by their values,
  -1 when it has no mass; the grid position goes back to the frame as x / (network width / stride)
  * frame width (eval_pck.py: ``/ float(feat_res) * now_width``).
The heatmaps propagate as the read's soft values; no protocol normalises them (CRW's norm_mask is off,
VFS leaves heatmaps as they are). Not followed: VFS draws sigma-4 heatmaps at the frame's size,
resizes them to the grid, and reads the top 5 of the heatmaps upsampled to the frame.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

SIGMA = 0.5  # code/data/jhmdb.py JhmdbSet(sigma=0.5), in grid cells
TOP_K = 3  # code/utils/test_utils.py process_pose(topk=3)


def draw_gaussian(heatmap: np.ndarray, x: float, y: float, sigma: float = SIGMA) -> None:
    """Draw, in place, a Gaussian of peak 1 centred at ``(x, y)`` (grid cells) where it overlaps."""
    left, top = int(x - 3 * sigma), int(y - 3 * sigma)
    right, bottom = int(x + 3 * sigma + 1), int(y + 3 * sigma + 1)
    height, width = heatmap.shape
    if left >= width or top >= height or right < 0 or bottom < 0:
        return
    span = 6 * sigma + 1
    steps = np.arange(0, span, 1, float)
    centre = span // 2
    patch = np.exp(-((steps[None, :] - centre) ** 2 + (steps[:, None] - centre) ** 2) / (2 * sigma**2))
    cols = max(0, -left), min(right, width) - left
    rows = max(0, -top), min(bottom, height) - top
    heatmap[max(0, top) : min(bottom, height), max(0, left) : min(right, width)] = patch[
        rows[0] : rows[1], cols[0] : cols[1]
    ]


def joint_heatmaps(
    joints: np.ndarray,
    frame_size: tuple[int, int],
    network_size: tuple[int, int],
    stride: int,
    grid: tuple[int, int],
    sigma: float = SIGMA,
) -> Tensor:
    """(1, J, h, w) heatmaps on the feature ``grid`` of the (2, J) joints given in frame pixels."""
    joints = np.asarray(joints, np.float64)
    x = joints[0] * float(network_size[1]) / float(frame_size[1]) / stride
    y = joints[1] * float(network_size[0]) / float(frame_size[0]) / stride
    maps = np.zeros((joints.shape[1], *grid))
    for index in range(joints.shape[1]):
        draw_gaussian(maps[index], x[index], y[index], sigma)
    return torch.from_numpy(maps).float()[None]


def heatmap_joints(
    heatmaps: Tensor,
    frame_size: tuple[int, int],
    network_size: tuple[int, int],
    stride: int,
    top_k: int = TOP_K,
) -> np.ndarray:
    """(2, J) joints in frame pixels of (J, h, w) heatmaps: the value-weighted mean of each map's
    ``top_k`` cells, -1 where a map has no mass."""
    flat = heatmaps.double().flatten(1)  # (J, h*w)
    width = heatmaps.shape[-1]
    values, cells = flat.topk(min(top_k, flat.shape[1]), dim=1)
    weights = values / values.sum(dim=1, keepdim=True)
    x = ((cells % width) * weights).sum(dim=1) / (network_size[1] / stride) * frame_size[1]
    y = ((cells // width) * weights).sum(dim=1) / (network_size[0] / stride) * frame_size[0]
    joints = torch.stack([x, y]).cpu().numpy()
    joints[:, (flat.sum(dim=1) == 0).cpu().numpy()] = -1.0
    return joints
