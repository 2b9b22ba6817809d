"""Where a result came from: code revision, package versions, device, seed, time, command."""

from __future__ import annotations

import datetime as _dt
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

import mast_bench

from ..threads import available_cpus

PACKAGES = (
    "mast-bench",
    "torch",
    "numpy",
    "scipy",
    "pillow",
    "opencv-python-headless",
    "pandas",
    "scikit-image",
)
REPO_ROOT = Path(mast_bench.__file__).resolve().parents[1]


def code_version() -> str:
    """Part of a record's identity: bump mast_bench.__version__ when results change meaning."""
    return mast_bench.__version__


def _git(*args: str, repo: Path = REPO_ROOT) -> str | None:
    """Read-only: ``--no-optional-locks`` keeps ``git status`` from refreshing the index, which takes
    ``.git/index.lock``; a run killed meanwhile left that lock, and the user's next commit failed."""
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_state(repo: Path = REPO_ROOT) -> tuple[str | None, bool]:
    """(revision, whether tracked files differ from it) of the checkout the package runs from."""
    revision = _git("rev-parse", "HEAD", repo=repo)
    if revision is None:
        return None, False
    status = _git("status", "--porcelain", "--untracked-files=no", repo=repo)
    return revision, bool(status)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions; torch's is the build imported (PyPI's CUDA wheel of 2.11 says "2.11.0" in
    its metadata and "2.11.0+cu130" in torch.__version__), with its CUDA version where it has one."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["torch"] = torch.__version__
    if torch.version.cuda:
        versions["cuda"] = torch.version.cuda
    return versions


def device_description(device: str) -> str:
    """The GPU's name, or the CPU's model, vector instruction set and threads: CPU training rounds
    differently on another CPU model (docs/DESIGN.md), so a record says which one made it."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    capability = torch.backends.cpu.get_cpu_capability()
    return f"cpu ({cpu_model()}, {capability}, {torch.get_num_threads()} threads)"


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: str) -> dict[str, Any]:
    """Where a measurement ran, for reports that quote speeds."""
    return {
        "cpu_model": cpu_model(),
        "cpus_available": available_cpus(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": device_description(device),
        "hostname": socket.gethostname(),
    }


def collect(device: str, seed: int, command: str | None = None) -> dict[str, Any]:
    revision, dirty = git_state()
    return {
        "git_revision": revision,
        "git_dirty": dirty,
        "packages": package_versions(),
        "device": device_description(device),
        "hostname": socket.gethostname(),
        "seed": seed,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command if command is not None else " ".join(sys.argv),
    }
