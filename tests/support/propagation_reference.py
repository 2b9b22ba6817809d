"""A plain, dense re-implementation of the context trackers' label propagation (CRW, VFS, DINO), for
the model tests: it shares nothing with the code under test but the encoder's features.

Dense (queries x keys) affinities per context frame, an explicit distance mask, ``topk`` and softmax
over the concatenation, the context list written out per queue start, and every resize done by the
library the original calls (PIL, OpenCV, torch's interpolate), including the resize routes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mast_bench.model.colour import prepare_frame
from mast_bench.protocols import ContextRead, ResizeRoute


def near(h: int, w: int, radius: int, window: str) -> torch.Tensor:
    """(h*w, h*w) bool: key position j is a candidate of query position i."""
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    pos = torch.stack([ys.flatten(), xs.flatten()], 1).double()
    offset = pos[:, None] - pos[None]
    if window == "disk":
        return offset.pow(2).sum(-1).sqrt() < radius
    return offset.abs().amax(-1) <= radius


def dense_read(query, frames, ctx: ContextRead) -> torch.Tensor:
    """``frames``: (key, value, restricted) per context frame; (Cv, h, w) scores."""
    c, h, w = query.shape
    q = query.reshape(c, -1)
    mask = near(h, w, ctx.radius, ctx.window)
    logits, values = [], []
    for key, value, restricted in frames:
        a = q.T @ key.reshape(c, -1) / ctx.temperature
        logits.append(a.masked_fill(~mask, -math.inf) if restricted else a)
        values.append(value.reshape(value.shape[0], -1))
    logits, values = torch.cat(logits, 1), torch.cat(values, 1)
    if ctx.top_k is None:
        out = values @ logits.softmax(1).T
    else:
        best, index = logits.topk(ctx.top_k, dim=1)
        out = (values[:, index] * best.softmax(1)).sum(-1)
    return out.reshape(-1, h, w)


def context_frames(t: int, ctx: ContextRead) -> list[tuple[int, bool]]:
    """(frame, restricted to the window) of target t: the first frame, then the previous ones."""
    n = ctx.previous_frames
    if ctx.queue_start == "pad-first":  # the video padded with n copies of frame 0
        previous = [max(0, t - n + i) for i in range(n)]
    else:
        lowest = 0 if ctx.queue_start == "with-first" else 1
        previous = [f for f in range(t - n, t) if f >= lowest]
    return [(0, ctx.first_frame == "window")] + [(f, True) for f in previous]


def one_hot(labels: torch.Tensor, count: int) -> torch.Tensor:
    return F.one_hot(labels.long(), count).permute(2, 0, 1).float()


def reference_labels(labels: np.ndarray, count: int, grid, stride: int, mode: str) -> torch.Tensor:
    if mode == "top-left":
        return one_hot(torch.from_numpy(labels[::stride, ::stride].astype(np.int64)), count)
    if mode == "nearest":
        small = Image.fromarray(labels.astype(np.uint8)).resize((grid[1], grid[0]), Image.NEAREST)
        return one_hot(torch.from_numpy(np.asarray(small).astype(np.int64)), count)
    hot = one_hot(torch.from_numpy(labels.astype(np.int64)), count)[None]
    return F.interpolate(hot, grid, mode="bilinear", align_corners=False)[0]


def route_frame(frame: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """The frame as the original tracker resizes it (PIL, OpenCV on uint8, OpenCV on float / 255)."""
    if frame.shape[:2] == tuple(size):
        return frame
    if method == "pil-bilinear":
        return np.asarray(Image.fromarray(frame).resize(size[::-1], Image.BILINEAR))
    if method == "cv2-linear":
        return cv2.resize(frame, size[::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.resize(np.float32(frame) / 255.0, size[::-1], interpolation=cv2.INTER_LINEAR)


def route_labels(labels: np.ndarray, size: tuple[int, int], output: str) -> np.ndarray:
    """A network-size label map back at the frame's ``size``: PIL NEAREST (DINO) or INTER_NEAREST (CRW)."""
    image = labels.astype(np.uint8)
    if output == "network-pil-nearest":
        return np.asarray(Image.fromarray(image).resize(size[::-1], Image.NEAREST))
    return cv2.resize(image, size[::-1], interpolation=cv2.INTER_NEAREST)


def reference_propagation(
    model, frames, first, ctx: ContextRead, route: ResizeRoute | None = None, network=None
) -> list[torch.Tensor]:
    """Label maps of frames 1.. at the frames' size under the protocol's read and label rules (label
    sampling, soft or hard feedback, score normalisation) and its resize ``route``, the network at
    ``network`` = (h, w) (default: the frames' size)."""
    route = route or ResizeRoute()
    size = first.shape
    network = tuple(network or size)
    shrunk = [route_frame(f, network, route.frames) for f in frames]
    with torch.no_grad():
        feats = [model.encode(prepare_frame(f, model.config.colour_space)[None])[0] for f in shrunk]
    if ctx.normalise_features:
        feats = [f / f.norm(dim=0, keepdim=True).clamp_min(1e-12) for f in feats]
    grid, stride, count = tuple(feats[0].shape[-2:]), model.stride, int(first.max()) + 1
    sampling = ctx.label_sampling
    at_network = np.asarray(Image.fromarray(first.astype(np.uint8)).resize(network[::-1], Image.NEAREST))
    start = first if route.first_labels == "frame" else at_network
    values = {0: reference_labels(start, count, grid, stride, sampling)}
    outputs = []
    for t in range(1, len(frames)):
        chosen = [(feats[f], values[f], restricted) for f, restricted in context_frames(t, ctx)]
        scores = dense_read(feats[t], chosen, ctx)
        target = size if route.output == "frame" else network
        upsampled = F.interpolate(scores[None], target, mode="bilinear", align_corners=False)[0]
        if ctx.score_normalisation == "minmax":
            for c in range(count):
                if upsampled[c].max() > 0:
                    low, high = upsampled[c].min(), upsampled[c].max()
                    upsampled[c] = (upsampled[c] - low) / (high - low + 1e-12)
        labels = upsampled.argmax(0)
        if route.output != "frame":
            labels = torch.from_numpy(route_labels(labels.numpy(), size, route.output).astype(np.int64))
        soft = ctx.feedback == "soft"
        values[t] = scores if soft else reference_labels(labels.numpy(), count, grid, stride, sampling)
        outputs.append(labels)
    return outputs
