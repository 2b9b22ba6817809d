"""The variant registry: built-ins, errors, TOML files, entry-point plugins, the CLI listing."""

from __future__ import annotations

import importlib.metadata
import sys
import types

import pytest

from mast_bench.__main__ import main
from mast_bench.errors import ConfigError, UserError
from mast_bench.variants import VARIANTS, VariantConfig, VariantRegistry, builtin_variants, get_variant
from mast_bench.variants.builtin import register_builtins

REQUIRED = [
    "mast", "mast-official", "mast-rgb", "mast-rgb-dropout", "mast-lab-nodropout", "mast-full-memory",
    "mast-short-only", "mast-dil1", "mast-dil2", "mast-dil4", "mast-window", "mast-first-short",
    "mast-previous", "mast-r6", "mast-r9", "mast-scaled", "mast-lab-pixels",
]  # fmt: skip


def fresh_registry() -> VariantRegistry:
    registry = VariantRegistry(entry_point_group=None)
    register_builtins(registry)
    return registry


def test_required_variants_registered():
    assert set(REQUIRED) <= set(VARIANTS.names())


def test_each_variant_differs_from_mast_in_its_own_fields():
    base = get_variant("mast")
    assert base.offset_bug == "fixed" and base.colour_space == "lab" and base.channel_dropout
    assert base.memory == "roi" and base.schedule == "official" and base.affinity_scale == "unit"
    expected = {
        "mast-official": {"offset_bug": "official"},
        "mast-rgb": {"colour_space": "rgb", "channel_dropout": False},
        "mast-rgb-dropout": {"colour_space": "rgb"},
        "mast-lab-nodropout": {"channel_dropout": False},
        "mast-full-memory": {"memory": "full"},
        "mast-short-only": {"memory": "short"},
        "mast-window": {"memory": "window"},
        "mast-first-short": {"schedule": "first-short"},
        "mast-previous": {"schedule": "previous"},
        "mast-r6": {"test_radius": 6},
        "mast-r9": {"test_radius": 9},
        "mast-scaled": {"affinity_scale": "inv_sqrt_dim"},
        "mast-lab-pixels": {"features": "lab-pixels", "channel_dropout": False},
        "resnet18-imagenet": {"features": "resnet18", "colour_space": "rgb", "channel_dropout": False},
        "resnet50-imagenet": {"features": "resnet50", "colour_space": "rgb", "channel_dropout": False},
        "mast-dil1": {"dilation_set": (1,)},
        "mast-dil2": {"dilation_set": (2,)},
        "mast-dil4": {"dilation_set": (4,)},
    }
    for name, changes in expected.items():
        config = get_variant(name)
        differing = {
            field: getattr(config, field)
            for field in VariantConfig.__dataclass_fields__
            if field not in ("name", "description") and getattr(config, field) != getattr(base, field)
        }
        assert differing == changes, name


def test_unknown_name_lists_known_ones():
    with pytest.raises(UserError) as err:
        get_variant("mast-rbg")
    assert "mast-rbg" in str(err.value) and "mast-rgb" in str(err.value) and "mast-official" in str(err.value)


def test_duplicates_refused():
    registry = fresh_registry()
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(VariantConfig(name="mast"))
    with pytest.raises(ConfigError, match="VariantConfig"):
        registry.register({"name": "x"})


def test_decorator_registration_and_patterns():
    registry = fresh_registry()

    @registry.variant
    def _tiny() -> VariantConfig:
        return get_variant("mast").replace(name="mast-tiny", test_radius=3)

    assert registry.get("mast-tiny").test_radius == 3
    assert registry.names("mast-dil*") == ["mast-dil1", "mast-dil2", "mast-dil3", "mast-dil4"]
    assert len(registry) == len(builtin_variants()) + 1


def test_toml_variants(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text(
        '[variant.mast-r8-scaled]\nbase = "mast-scaled"\ntest_radius = 8\ndilation_set = [4, 2]\n'
        '[variant.mast-r8-scaled-rgb]\nbase = "mast-r8-scaled"\ncolour_space = "rgb"\n'
    )
    registry = fresh_registry()
    configs = registry.register_toml(path)
    assert [c.name for c in configs] == ["mast-r8-scaled", "mast-r8-scaled-rgb"]
    derived = registry.get("mast-r8-scaled-rgb")
    assert (
        derived.test_radius == 8
        and derived.affinity_scale == "inv_sqrt_dim"
        and derived.colour_space == "rgb"
    )
    assert derived.dilation_set == (2, 4)


def test_a_toml_variant_may_build_on_one_further_down_its_file(tmp_path):
    """Only a table above could be a base: the one below was 'unknown', and not in the listing."""
    path = tmp_path / "mine.toml"
    path.write_text(
        '[variant.a]\nbase = "b"\ncolour_space = "rgb"\n[variant.b]\nbase = "mast"\ntest_radius = 6\n'
    )
    a, b = fresh_registry().read_toml(path)
    assert (a.name, a.test_radius, a.colour_space, b.name, b.test_radius) == ("a", 6, "rgb", "b", 6)
    path.write_text('[variant.a]\nbase = "b"\n[variant.b]\nbase = "a"\n')
    with pytest.raises(UserError, match=r"unknown variant 'a'.*; its bases come back to it: a -> b -> a$"):
        fresh_registry().read_toml(path)
    path.write_text('[variant.a]\nbase = "nope"\n[variant.b]\nbase = "mast"\n')
    with pytest.raises(UserError, match=r"unknown variant 'nope'.*; in this file: a, b$"):
        fresh_registry().read_toml(path)


@pytest.mark.parametrize(
    "body,message",
    [
        (
            'base = "mast"\ntest_radios = 8\n',
            "unknown key 'test_radios' (did you mean 'test_radius'?); allowed keys: base, affinity_scale",
        ),
        ("test_radius = 8\n", "missing key 'base'"),
        ('base = "nope"\n', "unknown variant 'nope'"),
        ('base = "mast"\nmemory = "everything"\n', "variant.bad].memory: got 'everything', expected one of"),
        ('base = "mast"\ntest_radius = 0\n', "test_radius must be >= 1"),
        ('base = "mast"\nname = "other"\n', "unknown key 'name'"),
        ('base = "mast"\ntest_radius = 4\n', "[variant.mast+test_radius=6]: a variant name with '+' is"),
    ],
)
def test_toml_errors_name_file_and_key(tmp_path, body, message):
    """A table named as --set names a derived variant (mast+test_radius=6 holding radius 4) was taken,
    and its records stood beside --set's under the same name."""
    path = tmp_path / "bad.toml"
    name = "bad" if "+" not in message else '"mast+test_radius=6"'
    path.write_text(f"[variant.{name}]\n" + body)
    with pytest.raises(UserError) as err:
        fresh_registry().register_toml(path)
    assert message in str(err.value) and "bad.toml" in str(err.value)


class FakeEntryPoint:
    def __init__(self, name: str, target):
        self.name, self.value, self._target = name, f"fake_plugin:{name}", target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def _with_entry_points(monkeypatch, *entry_points):
    calls = []

    def fake(group=None, **_):
        calls.append(group)
        return list(entry_points) if group == "mast_bench.variants" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    registry = VariantRegistry()
    register_builtins(registry)
    return registry, calls


def test_entry_points_loaded_lazily_once(monkeypatch):
    many = FakeEntryPoint("many", lambda: [VariantConfig(name="plugin-a"), VariantConfig(name="plugin-b")])
    one = FakeEntryPoint("one", lambda: VariantConfig(name="plugin-c", test_radius=4))
    module = types.ModuleType("fake_plugin_module")
    registry, calls = _with_entry_points(monkeypatch, many, one, FakeEntryPoint("mod", module))
    assert calls == []  # nothing loaded at construction
    assert registry.get("plugin-c").test_radius == 4
    assert {"plugin-a", "plugin-b", "mast"} <= set(registry.names())
    assert calls == ["mast_bench.variants"]


def test_entry_point_module_registers_on_import(monkeypatch):
    registry, _ = _with_entry_points(monkeypatch)
    module = types.ModuleType("fake_plugin_module")

    def load():
        registry.register(VariantConfig(name="plugin-from-module"))
        return module

    entry = FakeEntryPoint("mod", module)
    entry.load = load
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None, **_: [entry])
    assert "plugin-from-module" in registry


@pytest.mark.parametrize(
    "target,message",
    [
        (ImportError("no module named fake_plugin"), "cannot be loaded: ImportError"),
        (42, "expected a callable or a module"),
        (lambda: ["not a config"], "expected VariantConfig"),
        (lambda: VariantConfig(name="mast"), "already registered"),
    ],
)
def test_broken_entry_points_are_named(monkeypatch, target, message):
    registry, _ = _with_entry_points(monkeypatch, FakeEntryPoint("broken", target))
    with pytest.raises(ConfigError) as err:
        registry.names()
    assert message in str(err.value) and "'broken'" in str(err.value)


def test_cli_lists_variants_as_plain_lines_on_a_pipe(capsys):
    assert main(["variants", "mast-dil*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["mast-dil1", "mast-dil2", "mast-dil3", "mast-dil4"]
    assert "dilation_set=1" in lines[0] and "…" not in "".join(lines)


def test_cli_json_listing_holds_every_field(capsys):
    import json

    assert main(["variants", "mast-r9", "--json"]) == 0
    (config,) = json.loads(capsys.readouterr().out)
    assert config == {**config, "name": "mast-r9", "test_radius": 9, "memory": "roi"}
    assert set(config) == set(VariantConfig.__dataclass_fields__)


def test_cli_lists_file_variants_and_overrides(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('[variant.my-very-long-variant-name-for-grep]\nbase = "mast"\ntest_radius = 7\n')
    assert main(["variants", "my-*", "--variants-file", str(path), "--set", "memory=window"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("my-very-long-variant-name-for-grep+memory=window\t")
    assert "test_radius=7" in line and "memory=window" in line


def test_a_file_cannot_take_a_known_name(tmp_path, capsys):
    """A file's [variant.mast] stood in for the built-in under its name (a study's reference row, the
    paper comparison's 'mast'); of two files naming one variant the later won, silently."""
    mine = tmp_path / "mine.toml"
    mine.write_text('[variant.mast]\nbase = "mast"\ntest_radius = 9\n')
    assert main(["variants", "mast", "--variants-file", str(mine)]) == 2
    said = f"error: {mine}: [variant.mast]: a variant named 'mast' is already known; give yours another name"
    assert capsys.readouterr().err.startswith(said)
    other = tmp_path / "other.toml"
    mine.write_text('[variant.mine]\nbase = "mast"\ntest_radius = 9\n')
    other.write_text('[variant.mine]\nbase = "mast"\ntest_radius = 7\n')
    assert main(["variants", "mine", "--variants-file", str(mine), "--variants-file", str(other)]) == 2
    assert "[variant.mine]: a variant named 'mine' is already known" in capsys.readouterr().err


def test_table_on_a_narrow_terminal_never_truncates_names(monkeypatch, capsys):
    import sys

    from rich.console import Console

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr("rich.console.Console", lambda **kw: Console(width=80, force_terminal=False, **kw))
    assert main(["variants", "mast-lab-*"]) == 0
    out = capsys.readouterr().out
    assert "mast-lab-nodropout" in out and "mast-lab-pixels" in out


def test_cli_unknown_pattern_exits_2(capsys):
    assert main(["variants", "zzz*"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no variant matches 'zzz*'") and "mast-official" in err


def test_package_main_runs_as_module():
    assert "mast_bench.__main__" in sys.modules
