"""The read's sharpness figures: uniform where features are equal, one candidate where one matches."""

from __future__ import annotations

import pytest
import torch

from mast_bench.model.read_stats import effective_candidates, read_weights


def test_equal_features_spread_over_every_in_image_candidate():
    radius, side = 2, 9
    features = torch.ones(1, 4, side, side)
    weights = read_weights(features, features, radius, scale=1.0)
    effective = effective_candidates(weights)[0]
    assert effective[4, 4].item() == pytest.approx(25.0)  # centre: the whole 5x5 window
    assert effective[0, 0].item() == pytest.approx(9.0)  # corner: 3x3 of it inside the image
    assert effective[0, 4].item() == pytest.approx(15.0)  # edge: 3x5
    assert torch.allclose(weights.sum(dim=1), torch.ones(1, side, side))


def test_out_of_image_candidates_weigh_nothing():
    features = torch.randn(1, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    weights = read_weights(features, features, 1, scale=1.0)
    assert torch.all(weights[0, 0, 0, :] == 0) and torch.all(weights[0, :3, 0, 0] == 0)  # row above
    assert torch.all(weights[0, 8, -1, :] == 0)  # row below the last one


def test_distinct_features_at_a_high_scale_pick_the_matching_candidate():
    features = torch.nn.functional.normalize(
        torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(1)), dim=1
    )
    weights = read_weights(features, features, 3, scale=200.0)
    centre = (2 * 3 + 1) ** 2 // 2
    assert torch.all(weights[0, centre] > 0.99)
    assert torch.all(effective_candidates(weights) < 1.1)
