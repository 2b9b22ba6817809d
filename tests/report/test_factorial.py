"""Features x protocol tables and paired effects on synthetic per-object J&F with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mast_bench.report.factorial import cell_intervals, effects_table, factor_effects, two_way_table
from mast_bench.report.stats import bootstrap_ci
from mast_bench.report.tables import to_markdown

FEATURES = {"mast": 0.0, "lab-pixels": -0.20}
PROTOCOLS = {"mast": 0.0, "crw": 0.05, "vfs": 0.03, "dino": -0.01}


def synthetic(interaction: float = 0.0, noise: float = 0.0, objects: int = 60, seed: int = 0) -> pd.DataFrame:
    """J&F = object's base + feature effect + protocol effect (+ ``interaction`` for lab-pixels x crw)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.3, 0.7, objects)
    rows = []
    for f, fe in FEATURES.items():
        for p, pe in PROTOCOLS.items():
            extra = interaction if (f, p) == ("lab-pixels", "crw") else 0.0
            for i in range(objects):
                score = base[i] + fe + pe + extra + noise * rng.standard_normal()
                key = {"sequence": f"seq{i // 3}", "object": str(i % 3 + 1)}
                rows.append({"features": f, "protocol": p, **key, "J&F": score})
    return pd.DataFrame(rows)


def by_key(effects):
    return {(e.factor, e.within, e.level): e for e in effects}


def test_additive_effects_are_recovered_exactly_with_degenerate_intervals():
    """(60 objects: with fewer, scipy's Wilcoxon turns tied differences into a slow permutation test.)"""
    frame = synthetic()
    effects = by_key(factor_effects(frame, resamples=200))
    for f in FEATURES:
        for p, pe in PROTOCOLS.items():
            if p == "mast":
                continue
            c = effects[("protocol", f, p)].comparison
            assert c.mean_difference == pytest.approx(pe, abs=1e-12)
            assert c.low == pytest.approx(pe, abs=1e-12) and c.high == pytest.approx(pe, abs=1e-12)
            assert c.n_pairs == 60 and effects[("protocol", f, p)].reference == "mast"
    for p in PROTOCOLS:
        c = effects[("features", p, "lab-pixels")].comparison
        assert c.mean_difference == pytest.approx(-0.20, abs=1e-12) and c.n_pairs == 60
    for p in ("crw", "vfs", "dino"):
        c = effects[("interaction", "lab-pixels - mast", p)].comparison
        assert c.mean_difference == pytest.approx(0.0, abs=1e-12)
    assert len(effects) == 2 * 3 + 4 * 1 + 1 * 3


def test_an_interaction_shows_only_where_it_is():
    effects = by_key(factor_effects(synthetic(interaction=0.10), resamples=200))
    assert effects[("protocol", "lab-pixels", "crw")].comparison.mean_difference == pytest.approx(
        0.15, abs=1e-12
    )
    assert effects[("protocol", "mast", "crw")].comparison.mean_difference == pytest.approx(0.05, abs=1e-12)
    assert effects[("interaction", "lab-pixels - mast", "crw")].comparison.mean_difference == pytest.approx(
        0.10
    )
    assert effects[("interaction", "lab-pixels - mast", "vfs")].comparison.mean_difference == pytest.approx(
        0.0
    )
    assert effects[("features", "crw", "lab-pixels")].comparison.mean_difference == pytest.approx(-0.10)


def test_noisy_effects_are_paired_by_object_and_cover_the_truth():
    frame = synthetic(noise=0.01, seed=3)
    effects = by_key(factor_effects(frame, reference_protocol="mast", resamples=2000))
    crw = effects[("protocol", "mast", "crw")].comparison
    assert crw.low < 0.05 < crw.high and crw.high - crw.low < 0.02  # pairing removes the base spread
    assert crw.wilcoxon_p < 1e-6
    mast = frame[(frame.features == "mast") & (frame.protocol == "mast")]["J&F"].to_numpy()
    crw_cell = frame[(frame.features == "mast") & (frame.protocol == "crw")]["J&F"].to_numpy()
    assert crw.mean_difference == pytest.approx(float(np.mean(crw_cell - mast)), abs=1e-12)


def test_cells_are_bootstrap_intervals_of_their_objects():
    frame = synthetic(noise=0.05, objects=12, seed=1)
    intervals = cell_intervals(frame, resamples=500, seed=4)
    assert list(intervals) == [(f, p) for f in FEATURES for p in PROTOCOLS]
    values = frame[(frame.features == "lab-pixels") & (frame.protocol == "vfs")]["J&F"].to_numpy()
    assert intervals[("lab-pixels", "vfs")] == bootstrap_ci(values, 500, 4)


def test_missing_objects_drop_out_of_their_pairs_only():
    frame = synthetic()
    frame = frame.drop(
        frame.index[(frame.features == "mast") & (frame.protocol == "dino") & (frame.object == "1")]
    )
    effects = by_key(factor_effects(frame, resamples=100))
    assert effects[("protocol", "mast", "dino")].comparison.n_pairs == 40  # object "1" of each sequence
    assert effects[("protocol", "mast", "crw")].comparison.n_pairs == 60
    assert effects[("interaction", "lab-pixels - mast", "dino")].comparison.n_pairs == 40
    assert cell_intervals(frame, resamples=100)[("mast", "dino")].n == 40


def test_two_way_table_text_and_effects_table():
    rows = [
        {"features": f, "protocol": p, "sequence": "s", "object": str(o), "J&F": value}
        for f, p, value in [("enc", "mast", 0.5), ("enc", "crw", 0.6), ("lab", "mast", 0.25)]
        for o in (1, 2)
    ]
    table = two_way_table(pd.DataFrame(rows), "J&F by features and protocol", resamples=50)
    assert list(table.frame.columns) == ["Features", "mast", "crw"]
    assert table.frame.to_dict("records") == [
        {"Features": "enc", "mast": "50.0 [50.0, 50.0]", "crw": "60.0 [60.0, 60.0]"},
        {"Features": "lab", "mast": "25.0 [25.0, 25.0]", "crw": "–"},
    ]
    assert "| enc | 50.0 [50.0, 50.0] | 60.0 [60.0, 60.0] |" in to_markdown(table)
    effects = factor_effects(pd.DataFrame(rows), resamples=50)
    shown = effects_table(effects, "paired effects").frame
    first = shown.iloc[0]
    assert (first["Factor"], first["Within"], first["Level"], first["Reference"]) == (
        "protocol",
        "enc",
        "crw",
        "mast",
    )
    assert first["ΔJ&F"] == pytest.approx(10.0) and first["Pairs"] == 2
    lab_crw = shown[(shown.Factor == "protocol") & (shown.Within == "lab")].iloc[0]
    assert lab_crw["Pairs"] == 0 and math.isnan(lab_crw["ΔJ&F"])  # the cell was never run


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda f: f.drop(columns="object"), "lacks column"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "appears more than once"),
    ],
)
def test_bad_frames_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        factor_effects(change(synthetic()), resamples=10)


def test_unknown_reference_is_refused():
    with pytest.raises(ValueError, match="reference protocol 'stm' is not among"):
        factor_effects(synthetic(), reference_protocol="stm", resamples=10)
