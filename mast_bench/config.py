"""Typed configuration: frozen dataclasses filled from TOML tables.

Every config in the project (variants, presets, ablation studies, dataset
paths) is a dataclass; :func:`from_dict` checks keys and value types against
the annotations and raises :class:`ConfigError` naming the file, the key and
what it allows, so a typo never turns into a silent default.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import ConfigError

C = TypeVar("C")
# a config's name becomes a folder (a training stage's, a run's) and a part of row labels
# (variant@protocol): no path separators, no leading dot, no @ (a derived variant's name keeps the
# commas of its list values: mast+dilation_set=2,4)
NAME_FORBIDDEN = "/\\@"


def check_name(name: str, what: str) -> None:
    """Refuse a name that could not serve as one folder's name and one label (ValueError)."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or name.startswith(".")
        or any(c in NAME_FORBIDDEN or ord(c) < 32 for c in name)
    ):
        raise ValueError(
            f"{what} {name!r}: expected a name without / \\ @ or control characters, not empty, not "
            "starting with '.' or a space"
        )


def load_toml(path: str | Path) -> dict[str, Any]:
    """The tables of a TOML file; a UTF-8 byte-order mark (Windows editors write one) is skipped."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: a folder, not a TOML file")
    if not path.is_file():
        what = "not a regular file" if path.exists() else "no such TOML file"  # /dev/null, a pipe
        raise ConfigError(f"{path}: {what}" + (" (expected a TOML file)" if path.exists() else ""))
    raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:  # binary garbage
        byte = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        raise ConfigError(f"{path}: not a TOML file (not UTF-8 text: {byte})") from None


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)  # a str field reads 'none' as a string: leave the key out instead
        return " or ".join(_describe(a) for a in args if not (a is type(None) and str in args))
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return "a list of " + ", ".join(_describe(a) for a in args)
    if tp is type(None):
        return "'none'"
    if origin is dict:
        return "a table"
    return getattr(tp, "__name__", str(tp))


_NO_FIT = object()  # what the coercers return for a value the type does not take


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` as a field of type ``tp`` holds it, or a ConfigError naming ``where`` and the type."""
    if tp is Any:
        return value
    if tp in _SCALARS:
        accepts, converts = _SCALARS[tp]
        result = converts(value) if accepts(value) else _NO_FIT
    else:
        result = _coerce_compound(value, tp, where)
    if result is _NO_FIT:
        raise ConfigError(f"{where}: got {value!r}, expected {_describe(tp)}")
    return result


def _coerce_compound(value: Any, tp: Any, where: str) -> Any:
    """A Literal, union, tuple, dict or dataclass field's value, or _NO_FIT."""
    origin = get_origin(tp)
    if origin is Literal:
        return value if value in get_args(tp) else _NO_FIT
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(tp):
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        return _NO_FIT
    if origin is tuple:
        return _coerce_tuple(value, get_args(tp), where)
    if origin is dict:
        if not isinstance(value, dict):
            return _NO_FIT
        key_type, value_type = get_args(tp) or (str, Any)
        return {_coerce(k, key_type, where): _coerce(v, value_type, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return from_dict(tp, value, where)
        return value if isinstance(value, tp) else _NO_FIT
    raise TypeError(f"config loader cannot check type {tp!r}")  # pragma: no cover - a new field type


def _coerce_tuple(value: Any, args: tuple, where: str) -> Any:
    """``tuple[X, ...]`` takes a list of any length, ``tuple[X, Y]`` one of exactly that length."""
    if not isinstance(value, (list, tuple)):
        return _NO_FIT
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(v, args[0], where) for v in value)
    if len(args) == len(value):
        return tuple(_coerce(v, a, where) for v, a in zip(value, args, strict=True))
    return _NO_FIT


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.lower() == "none")  # TOML has no null


_SCALARS: dict[Any, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {  # (accepts, converts)
    type(None): (_is_none, lambda value: None),
    bool: (lambda value: isinstance(value, bool), bool),
    int: (lambda value: isinstance(value, int) and not isinstance(value, bool), int),
    float: (lambda value: isinstance(value, (int, float)) and not isinstance(value, bool), float),
    str: (lambda value: isinstance(value, str), str),
    Path: (lambda value: isinstance(value, (str, Path)), Path),
}


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a mistyped ``word``; "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1) if isinstance(word, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def from_dict(cls: type[C], data: dict[str, Any], where: str = "config") -> C:
    """Build dataclass ``cls`` from ``data``, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {data!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        hint = did_you_mean(unknown[0], fields)
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}{hint}; allowed keys: {', '.join(sorted(fields))}"
        )
    kwargs = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in data.items()}
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required key {missing[0]!r}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # __post_init__ validation
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{where}: {exc}") from None


def parse_assignments(items: list[str] | tuple[str, ...], where: str = "--set") -> dict[str, Any]:
    """``["test_radius=9", "colour_space=rgb", "dilation_set=[2, 4]"]`` -> a dict of typed values.

    A value is read as a TOML value (numbers, booleans, quoted strings, lists); anything that is not
    one is taken as a bare string, so ``colour_space=rgb`` needs no quotes.
    """
    values: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{where} {item!r}: expected KEY=VALUE")
        if key in values:
            raise ConfigError(f"{where} {item!r}: {key} is set twice")
        try:
            values[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[key] = text.strip()
    return values


# Field metadata of a field added after configs were first recorded: left out of ``to_dict`` while it
# holds its default, so every identity computed before it existed (record keys, checkpoint folders)
# stays the same, and a config that sets it gets a new one.
OMIT_DEFAULT = "omit_default"


def _kept(obj: Any, f: dataclasses.Field) -> bool:
    return not (f.metadata.get(OMIT_DEFAULT) and getattr(obj, f.name) == f.default)


def field_defaults(cls: type) -> dict[str, Any]:
    """Each field of dataclass ``cls`` that has a default, as ``to_dict`` writes it: what a config
    recorded before the field existed ran with."""
    defaults = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get(OMIT_DEFAULT):
            continue  # to_dict leaves it out at its default: absent in old and new identities alike
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    return to_dict(defaults)


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON/TOML-friendly dict (tuples become lists, paths strings)."""

    def convert(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: convert(getattr(v, f.name)) for f in dataclasses.fields(v) if _kept(v, f)}
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, Path):
            return str(v)
        return v

    return convert(obj)
