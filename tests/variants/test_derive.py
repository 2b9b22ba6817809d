"""Variants derived with ``--set key=value``: typed, named after their changes, refusing bad fields."""

from __future__ import annotations

import pytest

from mast_bench.config import parse_assignments
from mast_bench.errors import ConfigError
from mast_bench.variants import derive_variant, get_variant


def test_assignments_are_read_as_toml_values_or_bare_strings():
    values = parse_assignments(
        ["test_radius=9", "colour_space=rgb", "dilation_set=[2, 4]", "channel_dropout=false"]
    )
    assert values == {
        "test_radius": 9,
        "colour_space": "rgb",
        "dilation_set": [2, 4],
        "channel_dropout": False,
    }
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignments(["test_radius"])
    with pytest.raises(ConfigError, match="test_radius is set twice"):
        parse_assignments(["test_radius=1", "test_radius=2"])


def test_derived_name_shows_the_changes_in_field_order_and_the_config_is_typed():
    base = get_variant("mast")
    derived = derive_variant(base, {"dilation_set": [4, 2], "colour_space": "rgb"})
    assert derived.name == "mast+colour_space=rgb+dilation_set=2,4"
    assert derived.dilation_set == (2, 4) and derived.colour_space == "rgb"
    assert derived.description == "mast with colour_space=rgb, dilation_set=2,4"
    assert derived.replace(name="mast", description=base.description) == base.replace(
        colour_space="rgb", dilation_set=(2, 4)
    )


def test_no_op_overrides_give_the_base_itself():
    base = get_variant("mast")
    assert derive_variant(base, {"test_radius": 12}) is base
    assert derive_variant(base, {"test_radius": 12, "memory": "full"}).name == "mast+memory=full"


@pytest.mark.parametrize(
    "overrides,message",
    [
        (
            {"radius": 3},
            "--set: unknown variant field 'radius' (did you mean 'test_radius'?); allowed fields: "
            "affinity_scale",
        ),
        ({"name": "x"}, "unknown variant field 'name'"),
        ({"memory": "everything"}, "--set.memory: got 'everything', expected one of 'roi'"),
        ({"test_radius": 0}, "test_radius must be >= 1"),
        ({"test_radius": "nine"}, "--set.test_radius: got 'nine', expected int"),
    ],
)
def test_bad_overrides_name_the_field_and_what_is_allowed(overrides, message):
    with pytest.raises(ConfigError) as err:
        derive_variant(get_variant("mast"), overrides)
    assert message in str(err.value)
