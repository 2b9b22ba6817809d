from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from mast_bench.atomic import atomic_write_json, atomic_write_text
from mast_bench.config import OMIT_DEFAULT, from_dict, load_toml, to_dict
from mast_bench.errors import ConfigError, UserError
from mast_bench.registry import Registry, Tables


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
            "unknown key 'mdoe' (did you mean 'mode'?); allowed keys: flags, inner, mode, name, path, rate, "
            "steps",
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


def test_an_optional_field_takes_none_as_a_string_toml_has_no_null():
    """Messages offered 'int or none', yet no TOML file could say none (a derived protocol could not
    set top_k back to every candidate); a str field keeps the string."""

    @dataclass(frozen=True)
    class Optional:
        top_k: int | None = 10
        label: str | None = None

    assert from_dict(Optional, {"top_k": "None", "label": "none"}) == Optional(top_k=None, label="none")
    with pytest.raises(ConfigError, match="top_k: got 'many', expected int or 'none'$"):
        from_dict(Optional, {"top_k": "many"})
    with pytest.raises(ConfigError, match="label: got 1, expected str$"):
        from_dict(Optional, {"label": 1})


def test_load_toml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_toml(bad)
    with pytest.raises(ConfigError, match="missing.toml: no such TOML file"):
        load_toml(tmp_path / "missing.toml")
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ConfigError, match="folder.toml: a folder, not a TOML file"):
        load_toml(tmp_path / "folder.toml")


def test_a_toml_file_saved_with_a_byte_order_mark_reads_as_without(tmp_path):
    """Windows editors start UTF-8 files with one; it used to be 'Invalid statement' at line 1."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[variant.x]\nbase = 'mast'\n")
    assert load_toml(path) == {"variant": {"x": {"base": "mast"}}}


@dataclass(frozen=True)
class Widget:
    name: str
    size: int = 1


def _widget_table(name, body, where, lookup):
    return Widget(name, lookup(body["base"]).size + body.get("grow", 0)) if "base" in body else Widget(name)


def test_registry_refuses_duplicates_and_names_itself():
    reg: Registry[Widget] = Registry("widget", Widget, builtins=lambda: [Widget("b", 3)])
    reg.register(Widget("a-1"))
    reg.builder(lambda: Widget("a-2", 2))
    with pytest.raises(ConfigError, match="'a-1' is already registered in the widget registry"):
        reg.register(Widget("a-1", 9))
    with pytest.raises(ConfigError, match="a widget must be a Widget, got int"):
        reg.register(4)
    with pytest.raises(UserError, match=r"unknown widget 'c'; known widgets: a-1, a-2, b"):
        reg.get("c")
    assert reg.names("a*") == ["a-1", "a-2"]
    assert reg.get("b").size == 3 and len(reg) == 3


def test_registry_files_build_on_each_other_and_views_register_nothing(tmp_path):
    reg: Registry[Widget] = Registry("widget", Widget, tables=Tables("widget", _widget_table))
    reg.register(Widget("base", 5))
    path = tmp_path / "w.toml"
    path.write_text('[widget.big]\nbase = "base"\ngrow = 2\n[widget.bigger]\nbase = "big"\ngrow = 3\n')
    view = reg.with_files([path])
    assert view.get("bigger").size == 10 and view.get("base").size == 5
    assert view.names() == ["base", "big", "bigger"] and reg.names() == ["base"]
    path.write_text("[gadget.x]\n")
    with pytest.raises(
        ConfigError, match=r"w\.toml: unknown table 'gadget'; allowed: \[widget\.NAME\] tables"
    ):
        reg.read_toml(path)
    path.write_text("size = 1\n[widget.x]\n")  # a key above the tables was called a table
    with pytest.raises(ConfigError, match=r"w\.toml: unknown key 'size'; allowed: \[widget\.NAME\] tables"):
        reg.read_toml(path)
    with pytest.raises(ConfigError, match="^/dev/null: not a regular file \\(expected a TOML file\\)$"):
        reg.read_toml("/dev/null")  # it said 'no such TOML file'


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


@dataclass(frozen=True)
class Grown:
    """A config that gained ``added`` after identities were recorded from it."""

    name: str
    added: int | None = field(default=None, metadata={OMIT_DEFAULT: True})


def test_a_field_marked_omit_default_is_left_out_of_to_dict_while_it_holds_its_default():
    assert to_dict(Grown("a")) == {"name": "a"}  # the identity of the config before the field existed
    assert to_dict(Grown("a", 3)) == {"name": "a", "added": 3}
    assert from_dict(Grown, to_dict(Grown("a"))) == Grown("a")
    assert from_dict(Grown, to_dict(Grown("a", 3))) == Grown("a", 3)
