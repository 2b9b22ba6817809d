"""Keypoints as heatmaps: CRW's drawing and read-out (against straight ports of its code), and the
keypoint core through the protocols' reads (against the dense reference of tests/support)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.benchmark_oracles import crw_draw, crw_process_pose
from support.propagation_reference import context_frames, dense_read

from mast_bench.errors import DataError
from mast_bench.max_side import route_network_size
from mast_bench.model.colour import prepare_frame
from mast_bench.model.context import make_policy
from mast_bench.model.heatmaps import draw_gaussian, heatmap_joints, joint_heatmaps
from mast_bench.model.keypoint_core import KeypointCore
from mast_bench.model.resizing import resize_frame
from mast_bench.model.schedule import reference_indices
from mast_bench.protocols import get_protocol


@pytest.mark.parametrize(
    "x,y", [(10.3, 4.7), (10.5, 0.5), (-0.2, 3.0), (-1.5, -1.4), (0.5, 9.9), (30.0, 2.0), (-4.0, 3.0)]
)
def test_gaussians_are_crws_own(x, y):
    ours, theirs = np.zeros((12, 24)), np.zeros((12, 24))
    draw_gaussian(ours, x, y)
    np.testing.assert_array_equal(ours, crw_draw(theirs, (x, y), 0.5))


def test_joints_go_to_the_grid_and_back_as_crw_and_eval_pck_scale_them():
    rng = np.random.default_rng(0)
    frame, network, stride = (240, 320), (320, 320), 8  # CRW's JHMDB: 320x320, stride 8, 40x40 grid
    joints = np.stack([rng.uniform(0, 319, 15), rng.uniform(0, 239, 15)])
    maps = joint_heatmaps(joints, frame, network, stride, (40, 40))
    for j in range(15):  # code/data/jhmdb.py: x * neww / wd / mapScale, y * newh / ht / mapScale
        expected = crw_draw(
            np.zeros((40, 40)), (joints[0, j] * 320 / 320 / 8, joints[1, j] * 320 / 240 / 8), 0.5
        )
        np.testing.assert_allclose(maps[0, j].numpy(), expected, rtol=1e-7)
    maps[0, 3] = 0  # a joint whose heatmap lost its mass
    grid = crw_process_pose(maps[0].permute(1, 2, 0)).double().numpy()
    expected = np.stack([grid[0] / 40.0 * 320, grid[1] / 40.0 * 240])  # eval_pck.py: / feat_res * size
    ours = heatmap_joints(maps[0], frame, network, stride)
    np.testing.assert_allclose(ours[:, np.arange(15) != 3], expected[:, np.arange(15) != 3], rtol=1e-6)
    assert (ours[:, 3] == -1).all()
    assert np.abs(ours[:, np.arange(15) != 3] - joints[:, np.arange(15) != 3]).max() < 8  # within a cell


def located_sizes(core, frame):
    return frame.shape[:2], core.input_size, core.model.stride


def dense_keypoints(model, frames, joints, protocol, max_side):
    """The reference: heatmaps of frame 0, then each frame's dense read of the context's heatmaps."""
    ctx, route = protocol.context, protocol.route
    size = frames[0].shape[:2]
    network = route_network_size(size, max_side, route.size)
    with torch.no_grad():
        feats = [
            model.encode(
                prepare_frame(resize_frame(f, network, route.frames), model.config.colour_space)[None]
            )[0]
            for f in frames
        ]
    feats = [f / f.norm(dim=0, keepdim=True).clamp_min(1e-12) for f in feats]
    grid = tuple(feats[0].shape[-2:])
    values = {0: joint_heatmaps(joints, size, network, model.stride, grid)[0]}
    for t in range(1, len(frames)):
        chosen = [(feats[f], values[f], restricted) for f, restricted in context_frames(t, ctx)]
        values[t] = dense_read(feats[t], chosen, ctx)
    return [values[t] for t in range(1, len(frames))]


@pytest.mark.parametrize("protocol,max_side", [("crw", None), ("crw", 48), ("vfs", 80), ("dino", None)])
def test_the_keypoint_core_reads_heatmaps_through_each_protocol(
    small_clip, official_model, protocol, max_side
):
    frames, first = small_clip
    model = official_model("seed0")
    config = get_protocol(protocol)
    ys, xs = np.nonzero(first == 2)
    joints = np.stack([np.linspace(xs.min(), xs.max(), 15), np.linspace(ys.min(), ys.max(), 15)])
    core = KeypointCore(model, policy=make_policy(config, model), max_side=max_side, route=config.route)
    start = core.step(frames[0], joints)
    cell = model.stride * max(np.divide(first.shape, core.input_size))  # a grid cell in frame pixels
    assert start.references == [] and np.abs(start.joints - joints).max() < cell
    expected = dense_keypoints(model, frames, joints, config, max_side)
    for frame, want in zip(frames[1:], expected, strict=True):
        step = core.step(frame)
        torch.testing.assert_close(step.heatmaps[0], want, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(
            step.joints, heatmap_joints(step.heatmaps[0], *located_sizes(core, frame))
        )
    assert len(core.stored_frames) <= config.context.previous_frames + 1


def test_the_mast_protocol_reads_heatmaps_through_the_variants_memory(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0_scaled", "mast")
    joints = np.array([[20.0, 60.0, 90.0], [20.0, 30.0, 50.0]])
    core = KeypointCore(model)
    core.step(frames[0], joints)
    steps = [core.step(frame) for frame in frames[1:]]
    assert [s.references for s in steps] == [reference_indices(t, "official") for t in range(1, len(frames))]
    assert all(s.heatmaps.shape == (1, 3, 16, 28) and s.joints.shape == (2, 3) for s in steps)
    assert all((s.joints[0] >= 0).all() for s in steps)  # heatmaps keep their mass under the soft read
    with pytest.raises(DataError, match="only the first frame is annotated"):
        core.step(frames[1], joints)
    with pytest.raises(DataError, match=r"keypoints of frame 0: required"):
        KeypointCore(model).step(frames[0])
