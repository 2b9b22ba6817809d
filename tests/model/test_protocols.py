"""The protocols' read policy against a plain, dense re-implementation of the trackers' label propagation
(tests/support/propagation_reference.py: it shares nothing with the code under test but the encoder's
features)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from support.propagation_reference import (
    context_frames,
    dense_read,
    one_hot,
    reference_labels,
    reference_propagation,
)

from mast_bench.model.context import ContextPolicy, make_policy, queue_frames
from mast_bench.model.inference import InferenceCore
from mast_bench.model.labels import minmax_channels, sample_labels
from mast_bench.model.policy import MastPolicy
from mast_bench.protocols import ContextRead, get_protocol

CONTEXT_PROTOCOLS = ["crw", "vfs", "dino"]


def context_of(protocol: str, **changes) -> ContextRead:
    return dataclasses.replace(get_protocol(protocol).context, **changes)


# --- what runs the policy -------------------------------------------------------------------
def through_core(model, policy, frames, first, held: list | None = None) -> list[torch.Tensor]:
    """Labels of frames 1.. through the propagation core; ``held`` collects the frames kept in memory."""
    core = InferenceCore(model, policy=policy, object_ids=range(1, int(first.max()) + 1))
    core.step(frames[0], first)
    labels = []
    for frame in frames[1:]:
        labels.append(core.step(frame).labels)
        if held is not None:
            held.append(len(core.stored_frames))
    return labels


def assert_same_labels(ours, expected):
    assert len(ours) == len(expected)
    for index, (a, b) in enumerate(zip(ours, expected, strict=True), start=1):
        assert torch.equal(a, b), f"frame {index}: {(a != b).sum().item()} pixels differ"


# --- which frames are read and kept -----------------------------------------------------------
@pytest.mark.parametrize(
    "start,target,expected",
    [
        ("pad-first", 2, [0, 0, 0, 1]),
        ("pad-first", 6, [2, 3, 4, 5]),
        ("with-first", 2, [0, 1]),
        ("with-first", 6, [2, 3, 4, 5]),
        ("after-first", 1, []),
        ("after-first", 3, [1, 2]),
        ("after-first", 9, [5, 6, 7, 8]),
    ],
)
def test_queue_order_per_start(start, target, expected):
    assert queue_frames(target, 4, start) == expected


def test_references_are_anchors_plus_queue_as_a_multiset():
    policy = ContextPolicy(context_of("crw", previous_frames=4), stride=4)
    assert policy.references(2, [0]) == [0, 0, 0, 0, 1]  # the first frame + 3 padding copies + frame 1
    assert policy.references(9, [0, 3]) == [0, 3, 5, 6, 7, 8]
    assert policy.references(5, [0, 3]) == [0, 1, 2, 3, 3, 4]  # anchor 3 also in the queue: read twice
    assert policy.references(3, [0, 3]) == [0, 0, 0, 1, 2]  # anchors at or after the target are not read
    dino = ContextPolicy(get_protocol("dino").context, stride=4)
    assert dino.references(1, [0]) == [0] and dino.references(10, [0]) == [0, *range(3, 10)]
    vfs = ContextPolicy(get_protocol("vfs").context, stride=4)
    assert vfs.references(3, [0]) == [0, 0, 1, 2] and vfs.references(25, [0]) == [0, *range(5, 25)]


@pytest.mark.parametrize("protocol", CONTEXT_PROTOCOLS)
@pytest.mark.parametrize("anchors", [(0,), (0, 4), (0, 2, 30)])
def test_still_needed_keeps_exactly_what_later_targets_read_and_memory_is_bounded(protocol, anchors):
    ctx = context_of(protocol, previous_frames=5)
    policy = ContextPolicy(ctx, stride=4)
    stored = set()
    for t in range(60):
        known = [a for a in anchors if a <= t]
        if t > 0:
            assert set(policy.references(t, known)) <= stored, t
        stored.add(t)
        stored = {f for f in stored if policy.still_needed(f, t + 1, known)}
        later = {r for u in range(t + 1, t + 8) for r in policy.references(u, known) if r <= t}
        assert later | set(known) == stored, t  # nothing readable is dropped, nothing else kept
        assert len(stored) <= ctx.previous_frames + len(known)


# --- label rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("size,stride", [((64, 112), 8), ((67, 113), 8), ((480, 854), 8), ((61, 90), 4)])
def test_label_sampling_matches_pil_nearest_and_cv2_bilinear(size, stride):
    import cv2

    labels = np.kron(
        np.random.default_rng(0).integers(0, 4, (size[0] // 3 + 1, size[1] // 3 + 1)), np.ones((3, 3))
    )
    labels = labels[: size[0], : size[1]].astype(np.int64)
    grid = (-(-size[0] // stride), -(-size[1] // stride))
    channels = torch.from_numpy(labels)
    nearest = sample_labels(channels, 4, grid, stride, "nearest")[0]
    assert torch.equal(nearest, reference_labels(labels, 4, grid, stride, "nearest"))
    bilinear = sample_labels(channels, 4, grid, stride, "bilinear")[0].permute(1, 2, 0).numpy()
    hot = np.stack([labels == c for c in range(4)], -1).astype(np.float32)
    # CRW's call: cv2.resize(onehot, (w, h), cv2.INTER_LINEAR), the flag landing in ``dst``
    np.testing.assert_allclose(bilinear, cv2.resize(hot, (grid[1], grid[0]), cv2.INTER_LINEAR), atol=1e-4)
    top_left = sample_labels(channels, 4, grid, stride, "top-left")[0]
    assert torch.equal(top_left, one_hot(channels[::stride, ::stride], 4))


def test_label_sampling_refuses_a_grid_the_stride_cannot_give():
    with pytest.raises(ValueError, match="not \\(3, 3\\)"):
        sample_labels(torch.zeros(16, 16, dtype=torch.long), 2, (3, 3), 4, "top-left")


def test_minmax_rescales_each_positive_channel_over_the_frame():
    scores = torch.tensor([[[0.2, 0.6], [0.4, 0.2]], [[0.0, 0.0], [0.0, 0.0]], [[-1.0, -0.5], [-2.0, -1.0]]])
    out = minmax_channels(scores[None])[0]
    torch.testing.assert_close(out[0], torch.tensor([[0.0, 1.0], [0.5, 0.0]]))
    assert torch.equal(out[1], scores[1]) and torch.equal(out[2], scores[2])  # max <= 0: unchanged


def test_values_store_soft_scores_or_resampled_labels():
    soft = ContextPolicy(get_protocol("crw").context, stride=4)
    hard = ContextPolicy(context_of("crw", feedback="hard"), stride=4)
    labels, scores = torch.zeros(8, 8, dtype=torch.long), torch.rand(1, 2, 2, 2)
    assert soft.values(labels, 2, scores, (2, 2)) is scores
    assert torch.equal(soft.values(labels, 2, None, (2, 2)), hard.values(labels, 2, scores, (2, 2)))


# --- the read alone ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"window": "square", "first_frame": "window"},
        {"top_k": None},
        {"radius": 2, "outside": "excluded"},
    ],
)
@pytest.mark.parametrize("protocol", CONTEXT_PROTOCOLS)
def test_read_matches_dense_reference_on_random_features(protocol, changes):
    ctx = context_of(protocol, previous_frames=3, **changes)
    policy = ContextPolicy(ctx, stride=4)
    gen = torch.Generator().manual_seed(1)
    h, w, target = 7, 9, 2
    feats = {
        f: policy.features(torch.randn(1, 5, h, w, generator=gen, dtype=torch.float64)) for f in range(3)
    }
    values = {f: torch.rand(1, 3, h, w, generator=gen, dtype=torch.float64) for f in range(3)}
    refs = policy.references(target, [0])
    ours = policy.read(feats[target], [feats[r] for r in refs], [values[r] for r in refs], refs, target)
    frames = [(feats[f][0], values[f][0], restricted) for f, restricted in context_frames(target, ctx)]
    torch.testing.assert_close(ours[0], dense_read(feats[target][0], frames, ctx), rtol=0, atol=1e-12)


def test_read_refuses_references_without_the_queue():
    policy = ContextPolicy(context_of("vfs", previous_frames=2), stride=4)
    x = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="miss its queue"):
        policy.read(x, [x, x], [x, x], [0, 1], 3)


# --- propagation of the reference clip ----------------------------------------------------------
def test_mast_protocol_is_the_cores_own_policy(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0_scaled", "mast", long_term_gap=2)
    policy = make_policy(get_protocol("mast"), model)
    assert isinstance(policy, MastPolicy)
    default = through_core(model, None, frames, first)
    assert_same_labels(through_core(model, policy, frames, first), default)


@pytest.mark.parametrize(
    "protocol,changes",
    [("crw", {}), ("vfs", {}), ("dino", {}), ("crw", {"previous_frames": 2, "radius": 3, "top_k": 3}),
     ("vfs", {"previous_frames": 3, "radius": 4}), ("dino", {"previous_frames": 2, "radius": 2}),
     ("crw", {"feedback": "hard", "label_sampling": "top-left"}), ("dino", {"score_normalisation": "none"})],
)  # fmt: skip
def test_protocol_through_the_core_matches_the_reference(small_clip, official_model, protocol, changes):
    """The read, soft feedback, bilinear / nearest label sampling and min-max scores, as the trackers do."""
    frames, first = small_clip
    model = official_model("seed0")
    ctx = context_of(protocol, **changes)
    policy = make_policy(get_protocol(protocol).replace(context=ctx), model)
    assert isinstance(policy, ContextPolicy)
    held = []
    ours = through_core(model, policy, frames, first, held)
    assert_same_labels(ours, reference_propagation(model, frames, first, ctx))
    assert any(2 in labels for labels in ours)  # an object survives, not only background
    assert max(held) <= min(len(frames), ctx.previous_frames + 1)  # the queue and the first frame


@pytest.mark.parametrize("protocol", ["mast", *CONTEXT_PROTOCOLS])
def test_lab_pixels_propagate_under_every_protocol(small_clip, protocol):
    """The training-free features, whose many equal colours tie: still the reference's labels."""
    from mast_bench.model import MAST
    from mast_bench.variants import get_variant

    frames, first = small_clip
    model = MAST(get_variant("mast-lab-pixels")).eval()
    policy = make_policy(get_protocol(protocol), model)
    labels = through_core(model, policy, frames, first)
    assert len(labels) == len(frames) - 1 and all(lab.shape == first.shape for lab in labels)
    if protocol == "mast":
        return
    ctx = get_protocol(protocol).context
    assert_same_labels(labels, reference_propagation(model, frames, first, ctx))
    assert all((lab == 2).sum() > 0 for lab in labels)  # with its own label rules the object is tracked


def test_stride_eight_trunk_through_the_core(small_clip):
    """An ImageNet-layout trunk (seeded random weights) read at stride 8 under VFS's read."""
    from mast_bench.model import MAST
    from mast_bench.variants import get_variant

    frames, first = small_clip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = MAST(get_variant("resnet18-imagenet")).eval()
    ctx = context_of("vfs", previous_frames=3, radius=4)
    ours = through_core(model, make_policy(get_protocol("vfs").replace(context=ctx), model), frames, first)
    assert model.stride == 8
    assert_same_labels(ours, reference_propagation(model, frames, first, ctx))
