"""MAST.read against a plain re-write of the official Colorizer, on small random features."""

from __future__ import annotations

import math

import pytest
import torch
from mast_official_reference import correlation, official_colorizer, window_values

from mast_bench.model import MAST
from mast_bench.model.schedule import reference_indices
from mast_bench.variants import get_variant

H, W, C, CV = 10, 14, 8, 3
# small windows keep the naive loops fast; one test runs the official radii
SMALL = {"test_radius": 3, "coarse_radius": 4}


def _memory(target: int, seed: int = 0, sharpness: float = 2.0):
    gen = torch.Generator().manual_seed(seed)
    refs = reference_indices(target, "official")
    feats = [torch.randn(1, C, H, W, generator=gen, dtype=torch.float64) * sharpness for _ in refs]
    values = [torch.rand(1, CV, H, W, generator=gen, dtype=torch.float64) for _ in refs]
    query = torch.randn(1, C, H, W, generator=gen, dtype=torch.float64) * sharpness
    return query, feats, values, refs


def _read(variant: str, query, feats, values, refs, target, **changes):
    config = get_variant(variant).replace(features="lab-pixels", **{**SMALL, **changes})
    return MAST(config).eval().read(query, feats, values, refs, target)


def _official(feats, query, values, refs, target, radius=SMALL["test_radius"], **kwargs):
    kwargs.setdefault("coarse_radius", SMALL["coarse_radius"])
    return official_colorizer(feats, query, values, refs, target, radius, **kwargs)


@pytest.mark.parametrize("target", [1, 7, 16, 24, 40, 47, 60])  # long-term dilation 2, 3, 4 and 3, 4
@pytest.mark.parametrize("variant,bug", [("mast-official", True), ("mast", False)])
def test_read_matches_official_colorizer(target, variant, bug):
    query, feats, values, refs = _memory(target)
    ours = _read(variant, query, feats, values, refs, target)
    expected = _official(feats, query, values, refs, target, offset_bug=bug)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("variant,bug", [("mast-official", True), ("mast", False)])
def test_read_matches_official_colorizer_at_official_radii(variant, bug):
    query, feats, values, refs = _memory(24)
    ours = _read(variant, query, feats, values, refs, 24, test_radius=12, coarse_radius=12)
    expected = official_colorizer(feats, query, values, refs, 24, 12, offset_bug=bug)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_training_radius_in_train_mode():
    query, feats, values, refs = _memory(7)
    model = MAST(get_variant("mast").replace(features="lab-pixels", train_radius=2)).train()
    ours = model.read(query, feats, values, refs, 7)
    expected = _official(feats, query, values, refs, 7, radius=2)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_offset_modes_differ_only_with_two_long_term_references():
    # t=20: refs [0, 5, 15, 17, 19], only frame 0 is long-term (gap 5 -> 15 is not > 15): identical
    same = _memory(20)
    torch.testing.assert_close(_read("mast-official", *same, 20), _read("mast", *same, 20), rtol=0, atol=0)
    # t=21: frames 0 and 5 are both long-term: frame 0's values are read with frame 5's offset
    two = _memory(21)
    buggy, fixed = _read("mast-official", *two, 21), _read("mast", *two, 21)
    assert (buggy - fixed).abs().max() > 1e-3
    # the affinities are the same in both modes: with values equal to 1 everywhere inside the
    # image the two reads differ only through which samples fall outside the frame
    query, feats, _, refs = two
    ones = [torch.ones(1, 1, H, W, dtype=torch.float64) for _ in refs]
    ones[0] = torch.zeros(1, 1, H, W, dtype=torch.float64)
    ones[1] = torch.zeros(1, 1, H, W, dtype=torch.float64)
    only_short_buggy = _read("mast-official", query, feats, ones, refs, 21)
    only_short_fixed = _read("mast", query, feats, ones, refs, 21)
    torch.testing.assert_close(only_short_buggy, only_short_fixed, rtol=0, atol=0)


def test_short_memory_drops_long_term_references():
    query, feats, values, refs = _memory(24)
    ours = _read("mast-short-only", query, feats, values, refs, 24)
    short = [k for k, r in enumerate(refs) if 24 - r <= 15]
    expected = _official(
        [feats[k] for k in short], query, [values[k] for k in short], [refs[k] for k in short], 24
    )
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_window_memory_reads_long_term_references_in_place():
    query, feats, values, refs = _memory(24)
    ours = _read("mast-window", query, feats, values, refs, 24)
    # pretend every reference is short-term: plain windows, no localisation
    expected = _official(feats, query, values, refs, 24, long_term_gap=10**6)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_full_memory_is_dense_attention():
    query, feats, values, refs = _memory(7)
    ours = _read("mast-full-memory", query, feats, values, refs, 7)
    keys = torch.cat([f.flatten(2) for f in feats], dim=2)[0]  # C, N
    vals = torch.cat([v.flatten(2) for v in values], dim=2)[0]  # Cv, N
    weights = torch.softmax(query[0].flatten(1).T @ keys, dim=1)  # HW, N
    expected = (weights @ vals.T).T.reshape(1, CV, H, W)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_scaled_affinity_divides_logits_by_sqrt_channels():
    query, feats, values, refs = _memory(7)
    ours = _read("mast-scaled", query, feats, values, refs, 7)
    # dot products are bilinear: scaling query and keys by C^-1/4 scales logits by C^-1/2
    s = C**-0.25
    expected = _official([f * s for f in feats], query * s, values, refs, 7)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)
    assert math.isclose(MAST(get_variant("mast-scaled")).affinity_scale(64), 1 / 8)


def test_test_radius_variant():
    query, feats, values, refs = _memory(7)
    ours = _read("mast-r6", query, feats, values, refs, 7, test_radius=get_variant("mast-r6").test_radius)
    expected = _official(feats, query, values, refs, 7, radius=6)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-10)


def test_naive_helpers_agree_with_each_other():
    # sanity of the reference itself: window correlation == <query, window of key values>
    gen = torch.Generator().manual_seed(3)
    q, k = torch.randn(1, 4, 5, 6, generator=gen), torch.randn(1, 4, 5, 6, generator=gen)
    direct = correlation(q, k, 2)
    via_values = (q.unsqueeze(2) * window_values(k, 2)).sum(1)
    torch.testing.assert_close(direct, via_values)
    # a hand value: displacement (i=R+1, j=R) is the pixel below
    assert torch.isclose(direct[0, 3 * 5 + 2, 1, 1], (q[0, :, 1, 1] * k[0, :, 2, 1]).sum())
