"""The official training step on small frames (the full-size parity is in test_official_parity)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mast_bench.model import MAST
from mast_bench.model.dropout import choose_dropped_channel
from mast_bench.model.train_step import reconstruction_loss
from mast_bench.variants import get_variant


@pytest.fixture(scope="module")
def frames():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(2, 1, 3, 32, 48, generator=gen) * 2 - 1


def _model(name: str) -> MAST:
    torch.manual_seed(0)
    return MAST(get_variant(name)).train()


def test_lab_dropout_step_equals_manual_official_computation(frames):
    ref, target = frames
    model = _model("mast")
    loss, info = reconstruction_loss(model, [ref], target, torch.Generator().manual_seed(3))
    channel = info.dropped_channel
    assert channel in (1, 2) and info.output.shape == (1, 1, 8, 12) and info.target.shape == (1, 1, 32, 48)
    # by hand: drop in both inputs, x1.5, values/target from the undropped frames
    dropped = [f.clone() for f in (ref, target)]
    for f in dropped:
        f[:, channel] = 0
    out = model([dropped[0] * 1.5], [ref[:, channel : channel + 1]], dropped[1] * 1.5, [0], 1)
    up = F.interpolate(out, (32, 48), mode="bilinear", align_corners=False)
    manual = F.smooth_l1_loss(up * 20, target[:, channel : channel + 1] * 20)
    torch.testing.assert_close(loss, manual)
    loss.backward()
    assert model.post_convolution.weight.grad.abs().sum() > 0
    assert model.feature_extraction.conv1[0].weight.grad.abs().sum() > 0


def test_generator_decides_the_channel(frames):
    ref, target = frames
    model = _model("mast")
    with torch.no_grad():
        for seed in range(3):
            expected = choose_dropped_channel("lab", torch.Generator().manual_seed(seed))
            _, info = reconstruction_loss(model, [ref], target, torch.Generator().manual_seed(seed))
            assert info.dropped_channel == expected
            assert torch.equal(info.target, target[:, expected : expected + 1])


def test_no_dropout_reconstructs_all_three_channels(frames):
    ref, target = frames
    loss, info = reconstruction_loss(_model("mast-lab-nodropout"), [ref], target)
    assert info.dropped_channel is None and info.output.shape == (1, 3, 8, 12)
    assert torch.equal(info.target, target)
    assert torch.isfinite(loss)


def test_rgb_dropout_hides_the_drawn_channel(frames):
    ref, target = frames
    model = _model("mast-rgb-dropout")
    # seed whose draw is the red channel (index 0), never droppable in Lab
    seed = next(s for s in range(100) if choose_dropped_channel("rgb", torch.Generator().manual_seed(s)) == 0)
    with torch.no_grad():
        _, info = reconstruction_loss(model, [ref], target, torch.Generator().manual_seed(seed))
    assert info.dropped_channel == 0 and torch.equal(info.target, target[:, :1])


def test_several_references_are_all_short_term(frames):
    ref, target = frames
    loss, info = reconstruction_loss(_model("mast"), [ref, ref * 0.5], target, dropped_channel=1)
    assert info.output.shape == (1, 1, 8, 12) and torch.isfinite(loss)
