"""The protocols' resize routes: each original's way between the dataset's size and the network's.

At the dataset's own size every route is the identity (the protocols' full-size labels are those of
the default route); at a reduced size the core follows each route exactly as the dense reference of
tests/support/propagation_reference.py does it with the originals' own libraries (PIL, OpenCV).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from support.propagation_reference import reference_propagation

from mast_bench.errors import ConfigError
from mast_bench.max_side import route_network_size
from mast_bench.model.context import make_policy
from mast_bench.model.inference import InferenceCore
from mast_bench.model.labels import nearest_labels
from mast_bench.model.resizing import resize_frame
from mast_bench.protocols import ProtocolConfig, ResizeRoute, get_protocol
from mast_bench.protocols.registry import derive_protocol

SIZES = [(64, 112), (67, 113), (480, 854), (240, 320), (31, 17), (5, 9)]


def propagate(model, protocol: ProtocolConfig, frames, first, max_side=None) -> list[torch.Tensor]:
    core = InferenceCore(
        model,
        policy=make_policy(protocol, model),
        object_ids=range(1, int(first.max()) + 1),
        max_side=max_side,
        route=protocol.route,
    )
    core.step(frames[0], first)
    return [core.step(frame).labels for frame in frames[1:]]


@pytest.mark.parametrize("source", SIZES)
@pytest.mark.parametrize("target", [(64, 112), (216, 384), (13, 7), (480, 854), (320, 320)])
@pytest.mark.parametrize("rule", ["pil", "cv2"])
def test_nearest_rules_are_pil_and_opencv_own(source, target, rule):
    labels = np.random.default_rng(sum(source) + sum(target)).integers(0, 250, source, dtype=np.uint8)
    ours = nearest_labels(torch.from_numpy(labels.astype(np.int64)), target, rule).numpy()
    size = (target[1], target[0])
    if rule == "pil":
        expected = np.asarray(Image.fromarray(labels).resize(size, Image.NEAREST))
    else:
        expected = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(ours, expected)


def test_network_size_rules():
    assert route_network_size((480, 854), None, "keep-aspect") == (480, 854)
    assert route_network_size((480, 854), 216, "keep-aspect") == (121, 216)
    assert route_network_size((480, 854), None, "square") == (480, 854)  # CRW's --cropSize -1
    assert route_network_size((480, 854), 216, "square") == (216, 216)
    assert route_network_size((240, 320), 320, "square") == (320, 320)  # CRW's JHMDB input
    # DINO's read_frame: short side kept, the other floored to a multiple of 64 from the frame's aspect
    assert route_network_size((480, 854), None, "multiple-of-64") == (480, 832)
    assert route_network_size((854, 480), None, "multiple-of-64") == (832, 480)
    assert route_network_size((480, 480), None, "multiple-of-64") == (480, 448)
    assert route_network_size((480, 854), 216, "multiple-of-64") == (121, 192)
    assert route_network_size((40, 50), None, "multiple-of-64") == (40, 64)  # never below 64
    with pytest.raises(ValueError, match="unknown network size rule"):
        route_network_size((4, 4), None, "round")


def test_frame_resizers_are_the_originals_calls():
    frame = np.random.default_rng(0).integers(0, 256, (67, 113, 3), dtype=np.uint8)
    assert resize_frame(frame, (67, 113), "cv2-linear-float") is frame  # the identity at the frame's size
    crw = resize_frame(frame, (40, 40), "cv2-linear-float")
    # code/data/vos.py: load_image (cv2.imread, float32 / 255.0, BGR -> RGB) then cv2.resize
    bgr = frame[:, :, ::-1].astype(np.float32) / 255.0
    expected = cv2.resize(np.ascontiguousarray(bgr[:, :, ::-1]), (40, 40))
    assert crw.dtype == np.float32 and np.array_equal(crw, expected)
    dino = resize_frame(frame, (40, 64), "cv2-linear")
    assert dino.dtype == np.uint8 and np.array_equal(dino, cv2.resize(frame, (64, 40)))
    pil = resize_frame(frame, (40, 64), "pil-bilinear")
    assert np.array_equal(pil, np.asarray(Image.fromarray(frame).resize((64, 40), Image.BILINEAR)))


@pytest.mark.parametrize("protocol", ["crw", "vfs", "dino"])
def test_every_route_is_the_identity_at_the_datasets_size(small_clip, official_model, protocol):
    """The full-size labels of each protocol are those it gave before routes existed."""
    frames, first = small_clip
    model = official_model("seed0")
    config = get_protocol(protocol)
    plain = config.replace(route=ResizeRoute())
    assert config.route != plain.route
    before = propagate(model, plain, frames, first)
    for ours, old in zip(propagate(model, config, frames, first), before, strict=True):
        assert torch.equal(ours, old)


@pytest.mark.parametrize(
    "protocol,max_side",
    [("crw", 48), ("crw", 80), ("vfs", 80), ("dino", 80), ("dino", 48), ("dino-64", None), ("dino-64", 96)],
)
def test_routes_at_a_reduced_size_follow_the_originals(small_clip, official_model, protocol, max_side):
    frames, first = small_clip
    model = official_model("seed0")
    config = get_protocol(protocol)
    network = route_network_size(first.shape, max_side, config.route.size)
    assert network != first.shape
    ours = propagate(model, config, frames, first, max_side)
    expected = reference_propagation(model, frames, first, config.context, config.route, network)
    for index, (a, b) in enumerate(zip(ours, expected, strict=True), start=1):
        assert torch.equal(a, b), f"frame {index}: {(a != b).sum().item()} pixels differ"
    assert any(2 in labels for labels in ours)  # an object survives, not only background


def test_each_route_gives_its_own_labels_at_a_reduced_size(small_clip, official_model):
    """The routes are not the same labels under other names: at a reduced size they differ."""
    frames, first = small_clip
    model = official_model("seed0")
    dino = get_protocol("dino")
    own = propagate(model, dino, frames, first, 48)
    plain = propagate(model, dino.replace(route=ResizeRoute()), frames, first, 48)
    assert any(not torch.equal(a, b) for a, b in zip(own, plain, strict=True))


def test_route_tables_in_toml_and_their_checks():
    crw = get_protocol("crw")
    derived = derive_protocol(crw, "crw-keep", {"route": {"size": "keep-aspect"}}, "[protocol.crw-keep]")
    assert derived.route == dataclasses.replace(crw.route, size="keep-aspect")
    assert derived.context == crw.context
    with pytest.raises(ConfigError, match=r"route.size: got 'round', expected one of"):
        derive_protocol(crw, "x", {"route": {"size": "round"}}, "[protocol.x]")
    with pytest.raises(ConfigError, match="top-left sample of each cell"):
        derive_protocol(get_protocol("mast"), "x", {"route": {"first_labels": "frame"}}, "[protocol.x]")


def test_an_object_starting_mid_video_at_a_reduced_size_is_labelled_once(
    small_clip, official_model, monkeypatch
):
    """DINO's route reaches the grid from an annotated frame's own size: that frame's prediction at
    full size is made once and serves both the stored values and the output, which is the route's
    labels of the scores with the new object's annotation pasted over them."""
    frames, first = small_clip
    model = official_model("seed0")
    dino = get_protocol("dino")
    core = InferenceCore(
        model, policy=make_policy(dino, model), object_ids=(1,), max_side=48, route=dino.route
    )
    core.step(frames[0], np.where(first == 1, 1, 0).astype(first.dtype))
    core.step(frames[1])
    calls = []
    made = InferenceCore._output_channels
    monkeypatch.setattr(InferenceCore, "_output_channels", lambda self, *a: calls.append(a) or made(self, *a))
    late = np.where(first == 2, 2, 0).astype(first.dtype)
    step = core.step(frames[2], late)
    assert len(calls) == 1 and step.new_ids == (2,)
    ids = torch.tensor(core.channel_ids)
    expected = torch.where(
        torch.from_numpy(late.astype(np.int64)) > 0, 2, ids[made(core, step.scores, first.shape)]
    )
    assert step.labels.shape == first.shape and torch.equal(step.labels, expected)
    assert (step.labels == 2).any() and (step.labels == 1).any()
