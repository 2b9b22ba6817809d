"""One lock per job identity, and removal of the scratch files that killed processes leave behind.

Locks are kernel file locks (``flock`` through the ``filelock`` package): the kernel drops a lock the
moment its holder dies, however it dies (``kill -9`` included), so a lock on a local disk is never
stale and a waiter takes over at once. Over NFS the server does the same when the dead client's lease
runs out (about 90 s). Only on a filesystem without ``flock`` does ``filelock`` fall back to a marker
file: it breaks a marker whose owner is a dead process of this host, and keeps one written on another
host (whose processes cannot be seen from here), so a waiter there waits until its ``timeout`` and
then gets a :class:`LockBusy` that names the holder (delete the lock file by hand once that process
is known to be gone). A stopped (SIGSTOP) holder is alive: nobody takes its lock. Lock files stay
in place after release (empty): deleting one while it is held would let a second holder in.

A sidecar ``<lock>.owner`` (JSON: pid, host, what, since, process start) says who holds the lock, for
the waiting message; a sidecar still there when the lock is taken means its writer died holding it
(:attr:`Hold.took_over_from`).

Scratch ("debris") names embed their owner, ``<label>.<host>.<pid>.<token><suffix>``, so that
:func:`remove_stale_debris` can delete exactly those whose owner process is gone, never a live one's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import UserError

_INITIAL_PID_NAMESPACE = 0xEFFFFFFC  # the inode Linux gives the host's own PID namespace
_DEBRIS = re.compile(r"(?P<label>.+)\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>[0-9]+)\.(?P<token>[0-9a-f]+)")


class LockBusy(UserError):
    """Another live process holds the lock (raised when not waiting, or after ``timeout``)."""


# ----------------------------------------------------------------- who owns what


@lru_cache(maxsize=1)
def this_host() -> str:
    """This machine's name as written in lock records and debris names (filename-safe, no dots).

    Containers that share a host name but not their PIDs get the PID namespace appended, so a PID
    is only ever compared with processes it can name.
    """
    raw = socket.gethostname() or "localhost"
    tag = re.sub(r"[^A-Za-z0-9_-]", "-", raw)
    if tag != raw:  # keep distinct names distinct after replacing their dots
        tag += "-" + hashlib.sha256(raw.encode()).hexdigest()[:6]
    with contextlib.suppress(OSError):
        namespace = os.stat("/proc/self/ns/pid").st_ino
        if namespace != _INITIAL_PID_NAMESPACE:
            tag += f"-pidns{namespace:x}"
    return tag


def _proc_status(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) from /proc; None when unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and brackets
    return fields[0], int(fields[19])


def process_start(pid: int) -> int | None:
    """A token that changes when ``pid`` is reused by a new process (None without /proc)."""
    status = _proc_status(pid)
    return None if status is None else status[1]


def owner_alive(pid: int, host: str | None = None, start: int | None = None) -> bool:
    """Is the process ``pid`` of ``host`` (None: this one) still running?

    False only when sure: same host and the PID is gone, a zombie, or reused by a process started
    later than ``start``. A process on another host counts as alive (it cannot be seen from here).
    """
    if host is not None and host != this_host():
        return True
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to another user
        pass
    status = _proc_status(pid)
    if status is None:
        return not Path("/proc/self/stat").exists()  # with /proc: it ended just now
    state, started = status
    if state in ("Z", "X"):
        return False
    return start is None or started == start


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    what: str = ""
    since: float = 0.0  # time.time() when it took the lock
    start: int | None = None  # process_start(pid), guards against PID reuse

    def alive(self) -> bool:
        return owner_alive(self.pid, self.host, self.start)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since)) if self.since else "?"
        return f"pid {self.pid} on host {self.host} since {when}"


def current_owner(what: str = "") -> Owner:
    pid = os.getpid()
    return Owner(pid, this_host(), what, time.time(), process_start(pid))


# ----------------------------------------------------------------- job locks


def owner_path(lock_path: str | Path) -> Path:
    lock_path = Path(lock_path)
    return lock_path.with_name(lock_path.name + ".owner")


def read_owner(lock_path: str | Path) -> Owner | None:
    """The owner record next to ``lock_path``; None when absent or unreadable (being written)."""
    try:
        fields = json.loads(owner_path(lock_path).read_text(encoding="utf-8"))
        return Owner(**fields)
    except (OSError, ValueError, TypeError):
        return None


def _write_owner(lock_path: Path, owner: Owner) -> None:
    """Rename into place (readers never see half a record); no fsync: a lock does not outlive a crash."""
    final = owner_path(lock_path)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(owner)), encoding="utf-8")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Hold:
    path: Path
    owner: Owner
    took_over_from: Owner | None  # the previous holder, which died while holding the lock


def _busy_message(path: Path, what: str, holder: Owner | None) -> str:
    if holder is None:
        return f"{path}: {what} is locked by another process (no owner record yet)"
    doing = f" for {holder.what}" if holder.what and holder.what != what else ""
    return f"{path}: {what} is locked by {holder.describe()}{doing}"


@contextlib.contextmanager
def job_lock(
    path: str | Path,
    what: str,
    *,
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Hold]:
    """Hold the lock file ``path`` for the ``with`` body: one process at a time does ``what``.

    A live holder is waited for (``on_wait`` gets one message naming it), at most ``timeout``
    seconds (None: as long as it takes); ``wait=False`` raises :class:`LockBusy` at once instead.
    Not re-entrant: taking a lock this process already holds waits for ever.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_owner(path)
        if not wait:
            raise LockBusy(_busy_message(path, what, holder)) from None
        if on_wait is not None:
            on_wait(f"waiting: {_busy_message(path, what, holder)}")
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            message = _busy_message(path, what, read_owner(path))
            raise LockBusy(f"{message}; gave up waiting after {timeout:g} s") from None
    try:
        previous = read_owner(path)
        me = current_owner(what)
        _write_owner(path, me)
        yield Hold(path, me, previous)
    finally:
        try:
            owner_path(path).unlink(missing_ok=True)
        finally:
            lock.release()


# ----------------------------------------------------------------- debris of dead processes


def debris_name(label: str, suffix: str = "") -> str:
    """A scratch name that says who made it: ``<label>.<host>.<pid>.<token><suffix>``."""
    return f"{label}.{this_host()}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


def debris_owner(name: str, prefix: str, suffix: str = "") -> Owner | None:
    """The owner written into a :func:`debris_name` whose label starts with ``prefix``; else None."""
    if not name.endswith(suffix):
        return None
    match = _DEBRIS.fullmatch(name[: len(name) - len(suffix)] if suffix else name)
    if match is None or not match["label"].startswith(prefix):
        return None
    return Owner(int(match["pid"]), match["host"])


def _newest_mtime(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
    return newest


def _is_stale(path: Path, owner: Owner, foreign_older_than: float | None) -> bool:
    if owner.host == this_host():
        return not owner_alive(owner.pid)
    if foreign_older_than is None:
        return False
    try:
        return time.time() - _newest_mtime(path) > foreign_older_than
    except OSError:
        return False


def _remove(path: Path, prefix: str, suffix: str) -> bool:
    """Claim ``path`` by renaming it to a name of ours (one cleaner wins), then delete it."""
    claimed = path.with_name(debris_name(prefix + "-removing", suffix))
    try:
        os.rename(path, claimed)
    except FileNotFoundError:  # another cleaner was faster
        return False
    if claimed.is_dir() and not claimed.is_symlink():
        shutil.rmtree(claimed, ignore_errors=True)
    else:
        claimed.unlink(missing_ok=True)
    return not claimed.exists()


def remove_stale_debris(
    folder: str | Path, prefix: str, suffix: str = "", *, foreign_older_than: float | None = None
) -> list[Path]:
    """Delete the :func:`debris_name` entries of ``folder`` (label starting with ``prefix``, ending
    with ``suffix``) whose owner process is gone; returns what was removed.

    Entries of this host are judged by their PID. Another host's are kept, unless
    ``foreign_older_than`` seconds passed since anything inside them changed (a live writer keeps
    touching its files; pick a span longer than any job, e.g. days).
    """
    folder = Path(folder)
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for name in names:
        owner = debris_owner(name, prefix, suffix)
        path = folder / name
        if owner is not None and _is_stale(path, owner, foreign_older_than) and _remove(path, prefix, suffix):
            removed.append(path)
    return removed


def replace_folder(out: Path, staging: Path) -> None:
    """Move the finished folder ``staging`` onto ``out`` (a folder there is moved aside, then removed):
    a reader finds the old whole or the new whole, never a mix."""
    if out.exists():
        old = out.parent / debris_name(f".{out.name}-building", ".old")
        os.rename(out, old)
        os.rename(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, out)


__all__ = [
    "Hold",
    "LockBusy",
    "Owner",
    "current_owner",
    "debris_name",
    "debris_owner",
    "job_lock",
    "owner_alive",
    "owner_path",
    "process_start",
    "read_owner",
    "remove_stale_debris",
    "replace_folder",
    "this_host",
]
