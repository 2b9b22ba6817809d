"""The fp32 precision switch: evaluation runs in IEEE fp32 on CUDA, and the settings come back."""

from __future__ import annotations

import pytest

from mast_bench.model.precision import _switches, fp32_precision


def _state() -> list[object]:
    return [getattr(owner, name) for owner, name, _ in _switches()]


def test_each_mode_sets_both_switches_and_restores_them():
    before = _state()
    with fp32_precision("ieee"):
        ieee = _state()
    assert _state() == before
    with fp32_precision("tf32"):
        tf32 = _state()
    assert _state() == before
    assert ieee in (["ieee", "ieee"], [False, False])
    assert tf32 in (["tf32", "tf32"], [True, True])


def test_settings_come_back_after_an_exception():
    before = _state()
    with pytest.raises(RuntimeError, match="inside"), fp32_precision("tf32"):
        raise RuntimeError("inside")
    assert _state() == before


def test_an_unknown_mode_is_refused_before_anything_changes():
    before = _state()
    with pytest.raises(ValueError, match="'bf16': expected one of ieee, tf32"), fp32_precision("bf16"):
        pass
    assert _state() == before
