"""One builder per build folder at a time, a message while waiting, and nothing left by a killed one.

The lock is a kernel file lock (``flock``) on ``<folder>/build.lock``: the kernel drops it the
moment its holder dies, ``kill -9`` included, so it is never stale. A waiter says on stderr whom it
waits for and gives up after a time-out with what to do. The compiler runs in a child process of
its own session (ninja and the compilers in its process group), which ends that whole group when
its parent dies (Linux parent-death signal) or is interrupted. A builder killed before that could
happen leaves its group's id in ``build.owner``; the next holder of the lock ends what is left of
that group in the folder, and deletes torch's own ``lock`` file (left by a killed build, it makes
every later torch build wait for ever), before building again.

Torch-free and independent of the rest of the package (the ops floor imports nothing above it).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME, OWNER_NAME = "build.lock", "build.owner"
STALE_FILES = ("build/lock",)  # torch.utils.cpp_extension's baton, left behind by a killed build
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class BuildOwner:
    pid: int
    host: str
    since: float
    group: int | None = None  # the compiler's process group (its session leader's pid)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid} on host {self.host} (building since {when})"


def read_owner(folder: Path) -> BuildOwner | None:
    try:
        return BuildOwner(**json.loads((folder / OWNER_NAME).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write_owner(folder: Path, owner: BuildOwner) -> None:
    tmp = folder / f".{OWNER_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(owner)), encoding="utf-8")
    os.replace(tmp, folder / OWNER_NAME)


class Guard:
    """Held while building: runs the compiler child and records its group for a successor."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.owner = BuildOwner(os.getpid(), socket.gethostname(), time.time())
        _write_owner(folder, self.owner)

    def run(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
        """Run ``argv`` in its own session with ``folder`` as its working directory, ``env`` as its
        environment (default: ours) and its output going to ``log``. Returns its exit status
        (negative: ended by that signal)."""
        with open(log, "wb") as out:
            child = subprocess.Popen(
                argv,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _write_owner(self.folder, BuildOwner(**{**asdict(self.owner), "group": child.pid}))
                return child.wait()
            except BaseException:  # Ctrl-C, a signal turned into an exception: end the whole group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                raise


def build_once(
    folder: Path,
    settled: Callable[[], bool],
    compile: Callable[[Guard], None],
    timeout: float,
    tell: Callable[[str], None],
) -> None:
    """``compile(guard)`` under the folder's lock, unless ``settled()`` once the lock is held (another
    process built meanwhile). Waits at most ``timeout`` seconds for another builder, saying so."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_owner(folder)
        who = holder.describe() if holder else "another process"
        tell(
            f"mast-bench: waiting for {who} to finish building the CPU kernels in {folder} "
            f"(at most {timeout:g} s)"
        )
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            holder = read_owner(folder) or holder
            stop = f"end it (kill {holder.pid}) and rerun" if holder else "end it and rerun"
            raise TimeoutError(
                errno.ETIMEDOUT,
                f"gave up after {timeout:g} s waiting for {who} to build the CPU kernels; if that "
                f"build is stuck, {stop}; MAST_BENCH_KERNELS_BUILD_TIMEOUT=SECONDS waits longer, "
                "MAST_BENCH_KERNELS=reference runs without them",
                str(folder),
            ) from None
    try:
        if settled():
            return
        end_leftovers(folder, read_owner(folder))
        compile(Guard(folder))
    finally:
        try:
            (folder / OWNER_NAME).unlink(missing_ok=True)
        finally:
            lock.release()


# ----------------------------------------------------------------- what a killed builder leaves


def _group_and_cwd(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[2]), cwd


def leftover_processes(folder: Path, group: int) -> list[int]:
    """Processes of ``group`` still working in ``folder`` (both must hold: a reused group id
    elsewhere is never touched)."""
    inside = os.path.realpath(folder)
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        info = _group_and_cwd(pid)
        if pid == os.getpid() or info is None or info[0] != group:
            continue
        if info[1] == inside or info[1].startswith(inside + os.sep):
            found.append(pid)
    return found


def end_leftovers(folder: Path, previous: BuildOwner | None, patience: float = 10.0) -> list[int]:
    """Kill what a dead builder's compiler group still runs in ``folder``; delete stale lock files.

    Called with the folder's lock held, so no live builder owns anything here."""
    ended: list[int] = []
    if previous is not None and previous.group and previous.host == socket.gethostname():
        ended = leftover_processes(folder, previous.group)
        for pid in ended:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + patience
        while leftover_processes(folder, previous.group) and time.monotonic() < deadline:
            time.sleep(0.05)
    for name in STALE_FILES:
        (folder / name).unlink(missing_ok=True)
    return ended


# ----------------------------------------------------------------- the compiler child


def supervise(parent_pid: int) -> None:
    """Called first in the compiler child: when its parent dies, end this whole process group
    (ninja and the compilers with it); if the parent is already gone, end now."""

    def end_group(signum, frame) -> None:
        os.killpg(os.getpgid(0), signal.SIGKILL)

    signal.signal(signal.SIGTERM, end_group)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        end_group(signal.SIGTERM, None)
