"""The protocol registry: the four built-ins with the numbers read from the trackers' code, TOML files,
errors that name the file and key, and a floor that never imports torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mast_bench.errors import ConfigError, UserError
from mast_bench.protocols import (
    PROTOCOLS,
    ContextRead,
    ProtocolConfig,
    ProtocolRegistry,
    get_protocol,
    protocol_names,
    register_builtins,
)


def fresh_registry() -> ProtocolRegistry:
    registry = ProtocolRegistry()
    register_builtins(registry)
    return registry


def test_builtins_are_registered_with_sources():
    assert protocol_names() == ["crw", "dino", "dino-64", "mast", "vfs"]
    assert all(get_protocol(name).source for name in protocol_names())
    assert get_protocol("mast").uses_variant_memory and get_protocol("mast").context is None


@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "crw",
            dict(previous_frames=20, queue_start="pad-first", top_k=10, temperature=0.05, radius=12,
                 window="disk", first_frame="full", normalise_features=True, label_sampling="bilinear",
                 feedback="soft", score_normalisation="none", outside="excluded"),
        ),
        (
            "vfs",
            dict(previous_frames=20, queue_start="with-first", top_k=10, temperature=0.07, radius=12,
                 window="disk", first_frame="window", normalise_features=True, label_sampling="nearest",
                 feedback="soft", score_normalisation="minmax", outside="excluded"),
        ),
        (
            "dino",
            dict(previous_frames=7, queue_start="after-first", top_k=5, temperature=0.1, radius=12,
                 window="square", first_frame="window", normalise_features=True, label_sampling="nearest",
                 feedback="soft", score_normalisation="minmax", outside="excluded"),
        ),
    ],
)  # fmt: skip
def test_context_protocols_carry_the_published_settings(name, expected):
    context = get_protocol(name).context
    assert {field: getattr(context, field) for field in expected} == expected


def test_toml_derives_context_fields_and_whole_contexts(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text(
        '[protocol.crw-k5]\nbase = "crw"\ndescription = "CRW with top-5"\ncontext.top_k = 5\n'
        '[protocol.crw-k5-square]\nbase = "crw-k5"\n[protocol.crw-k5-square.context]\nwindow = "square"\n'
        '[protocol.spa-then-temp]\nbase = "vfs"\ncontext = { window = "square", radius = 35 }\n'
        '[protocol.mast-renamed]\nbase = "mast"\nsource = "here"\n'
    )
    registry = fresh_registry()
    names = [c.name for c in registry.register_toml(path)]
    assert names == ["crw-k5", "crw-k5-square", "spa-then-temp", "mast-renamed"]
    crw = registry.get("crw").context
    k5 = registry.get("crw-k5")
    assert k5.description == "CRW with top-5" and k5.context == ContextRead(**{**vars(crw), "top_k": 5})
    square = registry.get("crw-k5-square").context
    assert square.top_k == 5 and square.window == "square" and square.temperature == 0.05
    assert registry.get("crw-k5-square").description == ""  # a description is never inherited
    # nor is a citation, as the base's own: a protocol of one's own claimed CRW's source
    assert k5.source == f"derived from crw ({registry.get('crw').source})"
    assert registry.get("crw-k5-square").source == f"derived from crw-k5 ({k5.source})"
    spa = registry.get("spa-then-temp").context
    assert (spa.window, spa.radius, spa.temperature) == ("square", 35, 0.07)
    renamed = registry.get("mast-renamed")
    assert renamed.context is None and renamed.source == "here"


def test_toml_context_for_a_variant_memory_base_needs_every_field(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[protocol.half]\nbase = "mast"\ncontext.top_k = 5\n')
    with pytest.raises(ConfigError, match=r"p.toml: \[protocol.half\].context: missing required key"):
        fresh_registry().register_toml(path)


@pytest.mark.parametrize(
    "body,message",
    [
        ("context.top_k = 5\n", "missing key 'base'"),
        ('base = "nope"\n', "unknown protocol 'nope'; known protocols: crw, dino, dino-64, mast, vfs"),
        (
            'base = "crw"\ntop_k = 5\n',
            "unknown key 'top_k'; allowed keys: base, description, source, context",
        ),
        (
            'base = "crw"\ncontext.topk = 5\n',
            "[protocol.bad].context: unknown key 'topk' (did you mean 'top_k'?); allowed keys:",
        ),
        ('base = "crw"\ncontext.window = "hexagon"\n', "context.window: got 'hexagon', expected one of"),
        ('base = "crw"\ncontext.temperature = 0\n', "temperature must be a finite number >= 1e-06, got 0"),
        # 1e-40: every score NaN, scored as J&F 0 (exit 0); 2000 frames of pad-first copies: gigabytes
        ('base = "crw"\ncontext.temperature = 1e-40\n', "temperature must be a finite number >= 1e-06"),
        ('base = "crw"\ncontext.previous_frames = 2000\n', "previous_frames must be >= 0 and <= 500"),
        ('base = "crw"\ncontext.top_k = 0\n', "top_k must be >= 1"),
        ('base = "crw"\ncontext.radius = 0\n', "radius must be >= 1 and <= 64 feature pixels, got 0"),
        (
            'base = "crw"\ncontext.radius = 100000\n',
            "radius must be >= 1 and <= 64 feature pixels, got 100000",
        ),
        ('base = "crw"\ncontext = 3\n', "context: expected a table of context fields"),
        ('base = "crw"\nsource = 3\n', "[protocol.bad].source: expected a string, got 3"),
    ],
)
def test_toml_errors_name_file_and_key(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text("[protocol.bad]\n" + body)
    with pytest.raises(UserError) as err:
        fresh_registry().register_toml(path)
    assert message in str(err.value) and "bad.toml" in str(err.value)


def test_toml_file_structure_errors(tmp_path):
    path = tmp_path / "top.toml"
    path.write_text('[variant.x]\nbase = "mast"\n')
    with pytest.raises(ConfigError, match=r"unknown table 'variant'; allowed: \[protocol\.NAME\] tables"):
        fresh_registry().register_toml(path)
    with pytest.raises(ConfigError, match="no such TOML file"):
        fresh_registry().register_toml(tmp_path / "missing.toml")


def test_unknown_and_duplicate_names():
    with pytest.raises(UserError) as err:
        get_protocol("crv")
    assert "unknown protocol 'crv'" in str(err.value) and "crw" in str(err.value)
    registry = fresh_registry()
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(ProtocolConfig(name="crw"))
    with pytest.raises(ConfigError, match="must be a ProtocolConfig"):
        registry.register({"name": "x"})
    assert len(registry) == len(PROTOCOLS) == 5 and "dino" in registry


def test_configs_are_frozen_and_validated():
    for name in ("", "a/b", ".hidden", "x@y", " padded"):
        with pytest.raises(ValueError, match=r"^protocol name .*: expected a name without / \\ @"):
            ProtocolConfig(name=name)
    with pytest.raises(ValueError, match="previous_frames must be >= 0"):
        get_protocol("crw").context.__class__(**{**vars(get_protocol("crw").context), "previous_frames": -1})
    with pytest.raises(AttributeError):
        get_protocol("crw").name = "x"  # frozen
    assert get_protocol("crw").replace(name="crw2").context is get_protocol("crw").context


def test_the_protocol_floor_never_imports_torch():
    code = (
        "import sys\nfrom mast_bench.protocols import get_protocol\nget_protocol('crw')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith('mast_bench.model')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
