"""The MAST module's structure (official names, parameter count) and its encode/forward contract."""

from __future__ import annotations

import pytest
import torch

from mast_bench.errors import ConfigError
from mast_bench.model import MAST
from mast_bench.model.train_step import reconstruction_loss
from mast_bench.variants import get_variant


def test_parameter_count_and_state_dict_size():
    model = MAST(get_variant("mast"))
    assert sum(p.numel() for p in model.parameters()) == 5_291_648
    assert len(model.state_dict()) == 116


def test_official_module_names():
    names = set(MAST(get_variant("mast")).state_dict())
    for key in (
        "feature_extraction.conv1.0.weight",
        "feature_extraction.conv1.1.running_mean",
        "feature_extraction.layer1.0.left.0.weight",
        "feature_extraction.layer2.0.shortcut.0.weight",
        "feature_extraction.layer4.1.left.4.running_var",
        "post_convolution.weight",
        "post_convolution.bias",
    ):
        assert key in names
    assert not any("layer1.0.shortcut" in k for k in names)  # 64 -> 64, stride 1: identity shortcut


@pytest.mark.parametrize("size,expected", [((64, 96), (16, 24)), ((63, 97), (16, 25)), ((30, 41), (8, 11))])
def test_encoder_output_stride_four(size, expected):
    model = MAST(get_variant("mast")).eval()
    with torch.no_grad():
        out = model.encode(torch.randn(1, 3, *size))
    assert out.shape == (1, 64, *expected)


def test_lab_pixels_features_are_the_input_at_stride_four():
    model = MAST(get_variant("mast-lab-pixels"))
    assert sum(p.numel() for p in model.parameters()) == 0 and not model.trainable
    frame = torch.randn(1, 3, 10, 13)
    assert torch.equal(model.encode(frame), frame[:, :, ::4, ::4])
    with pytest.raises(ConfigError, match="no trainable features"):
        reconstruction_loss(model, [frame], frame)


def test_forward_samples_values_at_top_left_of_each_cell():
    model = MAST(get_variant("mast-lab-pixels")).eval()
    gen = torch.Generator().manual_seed(0)
    ref, target = torch.randn(2, 1, 3, 16, 20, generator=gen)
    values = torch.rand(1, 2, 16, 20, generator=gen)
    out = model([ref], [values], target, [0], 1)
    assert out.shape == (1, 2, 4, 5)
    expected = model.read(target[:, :, ::4, ::4], [ref[:, :, ::4, ::4]], [values[:, :, ::4, ::4]], [0], 1)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    # only the top-left pixel of each 4x4 cell matters
    changed = values + 5.0
    changed[:, :, ::4, ::4] = values[:, :, ::4, ::4]
    torch.testing.assert_close(model([ref], [changed], target, [0], 1), out, rtol=0, atol=0)


def test_radius_follows_mode():
    model = MAST(get_variant("mast"))
    assert model.train().radius == 6 and model.eval().radius == 12
