"""One registry mechanism for every kind of named config: variants, protocols, presets and studies.

A :class:`Registry` maps names to frozen configs of one kind. Items come from code
(:meth:`Registry.register`), from built-ins read lazily on first use (``builtins``), from other
packages through an entry-point group (loaded lazily too, so importing mast_bench never imports
third-party code), and from TOML files of ``[KIND.NAME]`` tables (:meth:`Registry.read_toml`;
how a table becomes a config is the kind's :class:`Tables` rule). :meth:`Registry.with_files`
gives a view with some files' tables in front, registering nothing: what ``--variants-file``,
``--protocols-file`` and ``--presets`` mean. Every error names the registry, the file and the key,
and an unknown name lists the known ones.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .config import did_you_mean, load_toml
from .errors import ConfigError

T = TypeVar("T")
Lookup = Callable[[str], Any]


class UnknownNameError(ConfigError, KeyError):
    """A name no registry of its kind holds (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class Tables(Generic[T]):
    """How a kind's TOML tables become configs: ``[table.NAME]`` bodies, each made by
    ``make(name, body, where, lookup)`` (``lookup`` finds the file's other tables, then the
    registry: what a ``base = "..."`` key names)."""

    table: str
    make: Callable[[str, dict[str, Any], str, Lookup], T]


def base_of(body: dict[str, Any], where: str, lookup: Lookup, kind: str, example: str) -> Any:
    """The config a table's ``base`` key names (another table of its file or a registered one)."""
    name = body.get("base")
    if "base" in body and not isinstance(name, str):
        raise ConfigError(f'{where}.base: got {name!r}, expected a {kind}\'s name (e.g. base = "{example}")')
    if not isinstance(name, str):
        raise ConfigError(f"{where}: missing key 'base' (the {kind} it modifies, e.g. base = \"{example}\")")
    try:
        return lookup(name)
    except UnknownNameError as exc:
        raise ConfigError(f"{where}.base: {exc}") from None


class Registry(Generic[T]):
    def __init__(
        self,
        kind: str,
        item_type: type,
        *,
        plural: str | None = None,
        entry_points: str | None = None,
        builtins: Callable[[], Iterable[T]] | None = None,
        tables: Tables[T] | None = None,
        name_of: Callable[[T], str] = lambda item: item.name,
        parent: Registry[T] | None = None,
    ) -> None:
        self.kind, self.item_type, self.plural = kind, item_type, plural or f"{kind}s"
        self.entry_point_group = entry_points
        self._builtins, self._tables, self._name_of, self._parent = builtins, tables, name_of, parent
        self._items: dict[str, T] = {}
        self._loaded = builtins is None and entry_points is None

    # --- registration -------------------------------------------------------------------
    def register(self, item: T) -> T:
        if not isinstance(item, self.item_type):
            raise ConfigError(f"a {self.kind} must be a {self.item_type.__name__}, got {type(item).__name__}")
        name = self._name_of(item)
        if name in self._items:
            raise ConfigError(f"{name!r} is already registered in the {self.kind} registry")
        self._items[name] = item
        return item

    def builder(self, build: Callable[[], T]) -> Callable[[], T]:
        """Decorator: register what ``build()`` returns, under its own name."""
        self.register(build())
        return build

    # --- lookup -------------------------------------------------------------------------
    def get(self, name: str) -> T:
        self._load()
        if name in self._items:
            return self._items[name]
        if self._parent is not None and name in self._parent:
            return self._parent.get(name)
        names = self.names()
        known = ", ".join(names) or "(none)"
        hint = did_you_mean(name, names)
        raise UnknownNameError(f"unknown {self.kind} {name!r}{hint}; known {self.plural}: {known}")

    def names(self, pattern: str = "*") -> list[str]:
        self._load()
        known = set(self._items) | set(self._parent.names() if self._parent is not None else ())
        return sorted(n for n in known if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items or (self._parent is not None and name in self._parent)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    # --- built-ins and plugins, on first use ----------------------------------------------
    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # first: a plugin module may look items up while it registers
        for item in self._builtins() if self._builtins is not None else ():
            self.register(item)
        if self.entry_point_group is not None:
            for entry_point in importlib.metadata.entry_points(group=self.entry_point_group):
                self._load_entry_point(entry_point)

    def _load_entry_point(self, entry_point: Any) -> None:
        where = f"entry point {entry_point.name!r} ({entry_point.value}) of group {self.entry_point_group!r}"
        try:
            loaded = entry_point.load()
        except Exception as exc:
            raise ConfigError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from None
        if isinstance(loaded, types.ModuleType):
            return  # the module registered its items when imported
        if not callable(loaded):
            raise ConfigError(f"{where}: expected a callable or a module, got {type(loaded).__name__}")
        produced = loaded()
        items = [produced] if isinstance(produced, self.item_type) else produced
        type_name = self.item_type.__name__
        if not isinstance(items, Iterable) or not all(isinstance(i, self.item_type) for i in items):
            raise ConfigError(f"{where}: expected {type_name}(s), got {produced!r}")
        for item in items:
            try:
                self.register(item)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None

    # --- TOML files -----------------------------------------------------------------------
    def read_toml(self, path: str | Path, lookup: Lookup | None = None) -> list[T]:
        """The ``[KIND.NAME]`` tables of ``path`` as configs, in file order (a table may build on
        another of the file, above or below it, then on ``lookup``, default this registry); nothing
        is registered."""
        if self._tables is None:
            raise ConfigError(f"{path}: {self.plural} are not read from [{self.kind}.NAME] tables")
        name = self._tables.table
        data = load_toml(path)
        unknown = sorted(set(data) - {name})
        if unknown:
            what = "table" if isinstance(data[unknown[0]], dict) else "key"  # `foo = 1` above the tables
            raise ConfigError(f"{path}: unknown {what} {unknown[0]!r}; allowed: [{name}.NAME] tables")
        bodies = data.get(name, {})
        if not isinstance(bodies, dict) or not bodies:
            raise ConfigError(f"{path}: expected [{name}.NAME] tables")
        made: dict[str, T] = {}
        building: list[str] = []  # the tables being made, each on the next (a chain of bases)
        find = lookup or self.get

        def make(key: str) -> T:
            where = f"{path}: [{name}.{key}]"
            if not isinstance(bodies[key], dict):
                raise ConfigError(f"{where}: expected a table")
            building.append(key)
            made[key] = self._tables.make(key, bodies[key], where, in_file_or_known)
            building.pop()
            return made[key]

        def in_file_or_known(key: str) -> T:
            if key in made:
                return made[key]
            if key in bodies and key not in building:
                return make(key)  # a table further down the file
            try:
                return find(key)  # a table naming itself as base builds on the known one
            except UnknownNameError as exc:
                if key in building:
                    chain = " -> ".join([*building, key])
                    raise UnknownNameError(f"{exc}; its bases come back to it: {chain}") from None
                raise UnknownNameError(f"{exc}; in this file: {', '.join(bodies)}") from None

        for key in bodies:
            if key not in made:
                make(key)
        return [made[key] for key in bodies]

    def register_toml(self, path: str | Path) -> list[T]:
        """Register every table of ``path`` (see :meth:`read_toml`)."""
        return [self.register(item) for item in self.read_toml(path)]

    def with_files(self, paths: Iterable[str | Path]) -> Registry[T]:
        """A view of this registry with the tables of ``paths`` added (later files may build on
        earlier ones); this registry is left as it is. A table may not take a name already known (a
        built-in, a plugin's, an earlier file's): a file's ``mast`` would have stood in for the paper's
        reference row under the same name."""
        view: Registry[T] = Registry(
            self.kind,
            self.item_type,
            plural=self.plural,
            tables=self._tables,
            name_of=self._name_of,
            parent=self,
        )
        for path in paths:
            for item in view.read_toml(path):
                name = view._name_of(item)
                if name in view:
                    raise ConfigError(
                        f"{path}: [{self.kind}.{name}]: a {self.kind} named {name!r} is already known; "
                        f"give yours another name (base = {name!r} builds on it)"
                    )
                view._items[name] = item
        return view
