"""Reference schedules and the long-term dilation rule, against the official list expressions."""

from __future__ import annotations

import pytest

from mast_bench.errors import ConfigError
from mast_bench.model.schedule import dilation_for_gap, is_long_term, reference_indices, still_needed
from mast_bench.variants import get_variant


def official_ref_index(i: int, ref: int) -> list[int]:
    """benchmark.py, verbatim logic for target i + 1 (mem_gap = 2)."""
    mem_gap = 2
    if ref == 0:
        ref_index = (
            list(filter(lambda x: x <= i, [0, 5]))
            + list(filter(lambda x: x > 0, range(i, i - mem_gap * 3, -mem_gap)))[::-1]
        )
        return sorted(set(ref_index))
    if ref == 1:
        return [0] + list(filter(lambda x: x > 0, range(i, i - mem_gap * 3, -mem_gap)))[::-1]
    return [i]


@pytest.mark.parametrize("schedule,ref", [("official", 0), ("first-short", 1), ("previous", 2)])
def test_schedules_match_official_expressions(schedule, ref):
    for target in range(1, 120):
        assert reference_indices(target, schedule) == official_ref_index(target - 1, ref), target


def test_documented_examples():
    assert reference_indices(1, "official") == [0]
    assert reference_indices(7, "official") == [0, 2, 4, 5, 6]
    assert reference_indices(24, "official") == [0, 5, 19, 21, 23]
    assert reference_indices(24, "first-short") == [0, 19, 21, 23]
    assert reference_indices(24, "previous") == [23]
    assert max(len(reference_indices(t, "official")) for t in range(1, 200)) == 5


def test_bad_schedule_and_target():
    with pytest.raises(ConfigError, match="known schedules: official, first-short, previous"):
        reference_indices(3, "everything")
    with pytest.raises(ValueError):
        reference_indices(0, "official")


def test_dilation_rule_official():
    cfg = get_variant("mast")
    # MAST_SPEC: d=2 for gaps 16-29, 3 for 30-44, 4 from 45
    assert [dilation_for_gap(g, cfg) for g in (16, 29, 30, 44, 45, 200)] == [2, 2, 3, 3, 4, 4]
    assert not is_long_term(20, 5, cfg) and is_long_term(21, 5, cfg)


def test_dilation_rule_configurable_threshold_and_cap():
    cfg = get_variant("mast").replace(long_term_gap=10, max_dilation=3, dilation_set=(1, 2, 3, 4, 5))
    assert [dilation_for_gap(g, cfg) for g in (11, 19, 20, 29, 30, 99)] == [2, 2, 3, 3, 3, 3]
    assert is_long_term(11, 0, cfg) and not is_long_term(10, 0, cfg)


def test_dilation_set_restricts_allowed_dilations():
    assert {dilation_for_gap(g, get_variant("mast-dil1")) for g in range(16, 100)} == {1}
    assert {dilation_for_gap(g, get_variant("mast-dil4")) for g in range(16, 100)} == {
        4
    }  # none <= rule: smallest
    assert {dilation_for_gap(g, get_variant("mast-dil2")) for g in range(16, 100)} == {2}
    odd = get_variant("mast").replace(dilation_set=(2, 4))
    assert [dilation_for_gap(g, odd) for g in (20, 35, 50)] == [2, 2, 4]  # rule 3 -> largest allowed <= 3


@pytest.mark.parametrize("schedule", ["official", "first-short", "previous"])
def test_cache_rule_keeps_every_future_reference_and_stays_bounded(schedule):
    cache = {0}
    for target in range(1, 300):
        refs = reference_indices(target, schedule)
        assert set(refs) <= cache, (target, refs, cache)
        cache.add(target)
        cache = {f for f in cache if still_needed(f, target + 1, schedule)}
        assert len(cache) <= 7
    # nothing needed later was dropped: a frame dropped after target t is never a reference again
    for frame in range(0, 100):
        last_use = max(
            (t for t in range(frame + 1, 300) if frame in reference_indices(t, schedule)), default=frame
        )
        assert still_needed(frame, last_use, schedule)
