"""Job locks and debris cleaning, with real processes: holders that are stopped, killed, racing."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mast_bench.locks import (
    LockBusy,
    Owner,
    debris_name,
    debris_owner,
    job_lock,
    owner_alive,
    owner_path,
    process_start,
    read_owner,
    remove_stale_debris,
    this_host,
)

STARTUP = 60.0  # seconds a child may take to import the package on a loaded 2-core machine

# Holds the lock while a temp file is half written, until told (a line on stdin) to finish it.
HOLDER = """
import os, sys
from pathlib import Path
from mast_bench.locks import job_lock
lock, folder = sys.argv[1], Path(sys.argv[2])
with job_lock(lock, "training of X"):
    tmp = folder / f".checkpoint.pt.{os.getpid()}.tmp"
    tmp.write_bytes(b"half")
    print("held", flush=True)
    sys.stdin.readline()
    tmp.write_bytes(b"whole")
    os.replace(tmp, folder / "checkpoint.pt")
print("released", flush=True)
"""

# What a trainer does at start-up: under the lock, remove the temp files of dead writers.
WAITER = """
import sys
from pathlib import Path
from mast_bench.locks import job_lock
lock, folder = sys.argv[1], Path(sys.argv[2])
with job_lock(lock, "training of X", on_wait=lambda m: print(m, flush=True)) as hold:
    for stale in folder.glob(".checkpoint.pt.*.tmp"):
        stale.unlink()
    print("acquired", hold.took_over_from.pid if hold.took_over_from else None, flush=True)
"""

# A publish that is only safe under the lock: remove the final folder, rename the staged one in place.
CONTENDER = """
import os, shutil, sys
from pathlib import Path
from mast_bench.locks import job_lock
lock, root, tries = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
for i in range(tries):
    staged = root / f".staged.{os.getpid()}.{i}"
    staged.mkdir()
    (staged / "mask.png").write_text(str(os.getpid()))
    with job_lock(lock, "publishing key"):
        final = root / "final"
        if final.exists():
            shutil.rmtree(final)
        os.replace(staged, final)
        counter = root / "counter"
        count = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(count + 1))
print("done", flush=True)
"""


def _python(code: str, *args: object, stdin: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )


def _line(proc: subprocess.Popen, timeout: float = STARTUP) -> str:
    """The next line the child prints, or a failure naming what it wrote to stderr."""
    deadline, line = time.monotonic() + timeout, b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            pytest.fail(f"pid {proc.pid}: no line within {timeout} s (so far {line!r})")
        chunk = proc.stdout.read(1)
        if not chunk:
            pytest.fail(f"pid {proc.pid} ended ({proc.wait()}) before a line: {proc.stderr.read().decode()}")
        line += chunk
    return line.decode().strip()


def _finish(proc: subprocess.Popen, timeout: float = STARTUP) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode()


def _dead_pid() -> int:
    """The PID of a process that has ended and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_stopped_holder_is_waited_for_never_robbed(tmp_path: Path):
    lock = tmp_path / "train.lock"
    holder = _python(HOLDER, lock, tmp_path, stdin=True)
    try:
        assert _line(holder) == "held"
        holder.send_signal(signal.SIGSTOP)
        waiter = _python(WAITER, lock, tmp_path)
        message = _line(waiter)
        assert message.startswith(f"waiting: {lock}: training of X is locked by pid {holder.pid} on host ")
        time.sleep(1.5)  # the waiter keeps waiting while the holder is stopped
        assert waiter.poll() is None
        assert (tmp_path / f".checkpoint.pt.{holder.pid}.tmp").read_bytes() == b"half"
        holder.send_signal(signal.SIGCONT)
        holder.stdin.write(b"go\n")
        assert _finish(holder)[:2] == (0, "released\n")
        assert (tmp_path / "checkpoint.pt").read_bytes() == b"whole"
        assert _finish(waiter)[:2] == (0, "acquired None\n")  # a clean release leaves no owner behind
    finally:
        holder.kill()
    assert not owner_path(lock).exists() and read_owner(lock) is None


def test_the_lock_of_a_killed_holder_is_taken_over_with_its_temp_files(tmp_path: Path):
    lock = tmp_path / "train.lock"
    holder = _python(HOLDER, lock, tmp_path, stdin=True)
    assert _line(holder) == "held"
    waiter = _python(WAITER, lock, tmp_path)
    assert _line(waiter).startswith("waiting: ")
    holder.kill()  # SIGKILL while holding: the kernel drops the lock
    holder.wait()
    assert _finish(waiter)[:2] == (0, f"acquired {holder.pid}\n")
    assert list(tmp_path.glob(".checkpoint.pt.*.tmp")) == []  # the dead writer's file, removed under the lock


def test_a_dead_holders_record_is_reported_and_replaced(tmp_path: Path):
    lock = tmp_path / "job.lock"
    holder = _python(HOLDER, lock, tmp_path, stdin=True)
    assert _line(holder) == "held"
    assert read_owner(lock).pid == holder.pid and read_owner(lock).alive()
    holder.kill()
    holder.wait()
    dead = read_owner(lock)
    assert dead.pid == holder.pid and dead.what == "training of X" and not dead.alive()
    with job_lock(lock, "training of X", wait=False) as hold:
        assert hold.took_over_from == dead
        assert read_owner(lock) == hold.owner
        assert hold.owner.pid == os.getpid() and hold.owner.host == this_host()


def test_busy_lock_without_waiting_or_after_a_timeout_names_its_holder(tmp_path: Path):
    lock = tmp_path / "job.lock"
    messages = []
    with job_lock(lock, "job A"):
        with pytest.raises(LockBusy, match=rf"job.lock: job B is locked by pid {os.getpid()} .* for job A$"):
            with job_lock(lock, "job B", wait=False):
                pass
        start = time.monotonic()
        with pytest.raises(LockBusy, match="gave up waiting after 0.3 s"):
            with job_lock(lock, "job A", timeout=0.3, on_wait=messages.append):
                pass
        assert time.monotonic() - start >= 0.3
    assert len(messages) == 1
    assert messages[0].startswith(f"waiting: {lock}: job A is locked by pid {os.getpid()}")
    with job_lock(lock, "job A", wait=False) as hold:  # free again
        assert hold.took_over_from is None


def test_two_processes_racing_for_one_key_never_fail(tmp_path: Path):
    tries = 150
    racers = [_python(CONTENDER, tmp_path / "key.lock", tmp_path, tries) for _ in range(2)]
    results = [_finish(racer, timeout=300) for racer in racers]
    assert results == [(0, "done\n", "")] * 2
    assert int((tmp_path / "counter").read_text()) == 2 * tries  # no update lost: mutual exclusion
    assert (tmp_path / "final" / "mask.png").read_text() in {str(r.pid) for r in racers}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter", "final", "key.lock"]


def test_owner_alive():
    me = os.getpid()
    assert owner_alive(me) and owner_alive(me, this_host(), process_start(me))
    assert not owner_alive(me, this_host(), process_start(me) + 1)  # the PID now names a later process
    assert not owner_alive(_dead_pid())
    assert owner_alive(_dead_pid(), "another-host")  # its processes cannot be seen from here
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + STARTUP
    while Path(f"/proc/{zombie.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not owner_alive(zombie.pid)  # ended, not yet reaped by its parent
    zombie.wait()


def test_debris_names_carry_their_owner():
    name = debris_name(".0123abcd", ".partial")
    assert name.startswith(f".0123abcd.{this_host()}.{os.getpid()}.") and name.endswith(".partial")
    owner = debris_owner(name, ".", ".partial")
    assert (owner.pid, owner.host) == (os.getpid(), this_host())
    assert debris_owner(name, "mast-bench-worker") is None  # another label
    assert debris_owner(name, ".", ".tmp") is None  # another suffix
    assert debris_owner("mask.png", "") is None and debris_owner(".key.partial", ".", ".partial") is None
    assert debris_owner("x.y.node-1.42.beef", "x") == Owner(42, "node-1")  # dots stay in the label


MAKE_DEBRIS = """
import sys
from pathlib import Path
from mast_bench.locks import debris_name
folder = Path(sys.argv[1]) / debris_name(".key", ".partial")
(folder / "seq").mkdir(parents=True)
(folder / "seq" / "00000.png").write_bytes(b"png")
print(folder.name, flush=True)
"""


def test_only_debris_of_dead_owners_is_removed(tmp_path: Path):
    dead = _python(MAKE_DEBRIS, tmp_path)
    dead_name = _line(dead)
    assert _finish(dead)[0] == 0
    mine = tmp_path / debris_name(".key", ".partial")
    mine.mkdir()
    foreign = tmp_path / f".key.another-host.{os.getpid()}.0badcafe.partial"
    (foreign / "seq").mkdir(parents=True)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    (outside / "keep").mkdir(parents=True)
    link = tmp_path / f".key.{this_host()}.{_dead_pid()}.abcdef01.partial"
    link.symlink_to(outside, target_is_directory=True)
    others = [tmp_path / "key0", tmp_path / ".key.partial", tmp_path / f".key.{this_host()}.1.ab.tmp"]
    for path in others:
        path.mkdir()

    removed = remove_stale_debris(tmp_path, ".", ".partial")

    assert sorted(p.name for p in removed) == sorted([dead_name, link.name])
    assert not (tmp_path / dead_name).exists() and not link.is_symlink()
    assert (outside / "keep").is_dir()  # a link is removed, never followed
    assert mine.is_dir() and foreign.is_dir() and all(p.is_dir() for p in others)
    assert remove_stale_debris(tmp_path, ".", ".partial") == []
    assert remove_stale_debris(tmp_path / "missing", ".", ".partial") == []


def test_foreign_debris_is_removed_only_when_old_enough(tmp_path: Path):
    foreign = tmp_path / ".key.another-host.123.0badcafe.partial"
    (foreign / "seq").mkdir(parents=True)
    frame = foreign / "seq" / "00000.png"
    frame.write_bytes(b"png")
    day = 24 * 3600
    for path in (foreign, foreign / "seq"):
        os.utime(path, (time.time() - 3 * day,) * 2)
    assert remove_stale_debris(tmp_path, ".", ".partial") == []
    assert remove_stale_debris(tmp_path, ".", ".partial", foreign_older_than=2 * day) == []  # frame is new
    os.utime(frame, (time.time() - 3 * day,) * 2)
    assert remove_stale_debris(tmp_path, ".", ".partial", foreign_older_than=2 * day) == [foreign]


CLEANER = """
import sys
from mast_bench.locks import remove_stale_debris
for _ in range(int(sys.argv[2])):
    remove_stale_debris(sys.argv[1], ".", ".partial")
print("clean", flush=True)
"""

# Keeps writing into its staging folder until told (a line on stdin) to stop.
WRITER = """
import select, sys
from pathlib import Path
from mast_bench.locks import debris_name
folder = Path(sys.argv[1]) / debris_name(".live", ".partial")
folder.mkdir()
print(folder.name, flush=True)
written = 0
while not select.select([sys.stdin], [], [], 0.005)[0]:
    (folder / f"{written:05d}.png").write_bytes(b"png")
    written += 1
print(written == len(list(folder.iterdir())) > 0, flush=True)
"""


def test_concurrent_cleaners_share_the_work_and_spare_a_live_writer(tmp_path: Path):
    dead = _dead_pid()
    for i in range(40):
        (tmp_path / f".k{i}.{this_host()}.{dead}.{i:08x}.partial" / "seq").mkdir(parents=True)
    writer = _python(WRITER, tmp_path, stdin=True)
    try:
        live = _line(writer)
        cleaners = [_python(CLEANER, tmp_path, 30) for _ in range(2)]
        assert [_finish(c, timeout=300) for c in cleaners] == [(0, "clean\n", "")] * 2
        assert [p.name for p in tmp_path.iterdir()] == [live]
        writer.stdin.write(b"stop\n")
        assert _finish(writer) == (0, "True\n", "")
    finally:
        writer.kill()
