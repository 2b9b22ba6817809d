from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from mast_bench.atomic import atomic_write_json, atomic_write_text
from mast_bench.config import from_dict, load_toml, to_dict
from mast_bench.errors import ConfigError, UserError
from mast_bench.registry import Registry


@dataclass(frozen=True)
class Inner:
    size: tuple[int, int] = (128, 128)


@dataclass(frozen=True)
class Outer:
    name: str
    mode: Literal["a", "b"] = "a"
    rate: float = 0.5
    steps: int = 3
    flags: tuple[str, ...] = ()
    inner: Inner = Inner()
    path: Path | None = None


def test_from_dict_builds_nested_typed_dataclass():
    cfg = from_dict(
        Outer, {"name": "x", "mode": "b", "rate": 1, "flags": ["p", "q"], "inner": {"size": [4, 5]}}
    )
    assert cfg == Outer(name="x", mode="b", rate=1.0, flags=("p", "q"), inner=Inner(size=(4, 5)))
    assert isinstance(cfg.rate, float)
    assert to_dict(cfg)["inner"] == {"size": [4, 5]}


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"name": "x", "mdoe": "a"},
            "unknown key 'mdoe'; allowed keys: flags, inner, mode, name, path, rate, steps",
        ),
        ({"name": "x", "mode": "c"}, "f.toml [s].mode: got 'c', expected one of 'a', 'b'"),
        ({"name": "x", "steps": True}, "f.toml [s].steps: got True, expected int"),
        (
            {"name": "x", "inner": {"size": [1]}},
            "f.toml [s].inner.size: got [1], expected a list of int, int",
        ),
        ({"mode": "a"}, "missing required key 'name'"),
    ],
)
def test_from_dict_names_the_bad_key_and_what_it_allows(data, message):
    with pytest.raises(ConfigError) as info:
        from_dict(Outer, data, "f.toml [s]")
    assert message in str(info.value)


def test_load_toml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_toml(bad)
    with pytest.raises(ConfigError, match="missing.toml: no such TOML file"):
        load_toml(tmp_path / "missing.toml")


def test_registry_refuses_duplicates_and_names_itself():
    reg: Registry[int] = Registry("widget")
    reg.add("a-1", 1)
    reg.register("a-2")(2)
    reg.add("b", 3)
    with pytest.raises(ValueError, match="'a-1' is already registered in the widget registry"):
        reg.add("a-1", 9)
    with pytest.raises(UserError, match=r"unknown widget 'c'; known widgets: a-1, a-2, b"):
        reg.get("c")
    assert reg.names("a*") == ["a-1", "a-2"]
    assert reg.get("b") == 3 and len(reg) == 3


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "sub" / "r.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    assert target.read_text() == '{\n "a": [\n  1,\n  2\n ],\n "b": 1\n}\n'

    def failing(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("crash")

    from mast_bench.atomic import atomic_write

    with pytest.raises(RuntimeError):
        atomic_write(target, failing)
    assert target.read_text().startswith("{")  # old content intact
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temp file left
    atomic_write_text(tmp_path / "t.txt", "hi")
    assert (tmp_path / "t.txt").read_text() == "hi"
