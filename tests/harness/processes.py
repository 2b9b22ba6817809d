"""Process trees from /proc, for the tests that kill a parent and look for survivors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from mast_bench.locks import owner_alive

STARTUP = 60.0  # seconds a child may take to start on a loaded 2-core machine


def _parent_of(pid: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2 :].split()[1])


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children, ...)."""
    parents = {int(p): _parent_of(p) for p in (e.name for e in Path("/proc").iterdir()) if p.isdigit()}
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if owner_alive(p)}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def start_parent(code: str, **env: str) -> subprocess.Popen:
    """A parent process running ``code`` (python -c), killed by the test."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env})


def survivors_of_kill(parent: subprocess.Popen, children: set[int], within: float) -> set[int]:
    """SIGKILL ``parent``; the ``children`` still alive ``within`` seconds later (killed too, so a
    failing test leaves nothing running)."""
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + within
    while any(owner_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = {pid for pid in children if owner_alive(pid)}
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    return alive
