"""Kernels built ahead of time into a folder keyed by what they are built from; a killed build leaves
no process and no stale lock; a waiter says whom it waits for and gives up with what to do.

A one-function extension (plain Python C API, compiled in about a second) stands in for the kernels;
a compiler wrapper that waits while a flag file exists makes a build last as long as a test needs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mast_bench.ops import build_guard, cpu_build

TINY = r"""
#include <Python.h>
#define MB_CAT2(a, b) a##b
#define MB_CAT(a, b) MB_CAT2(a, b)
#define MB_STR2(x) #x
#define MB_STR(x) MB_STR2(x)
static PyObject* answer(PyObject*, PyObject*) { return PyLong_FromLong(ANSWER); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {nullptr, nullptr, 0, nullptr}};
static PyModuleDef module = {PyModuleDef_HEAD_INIT, MB_STR(TORCH_EXTENSION_NAME), nullptr, -1, methods};
PyMODINIT_FUNC MB_CAT(PyInit_, TORCH_EXTENSION_NAME)(void) { return PyModule_Create(&module); }
"""
BUILDER = """
import sys
from pathlib import Path
from mast_bench.ops import cpu_build
spec = cpu_build.ExtensionSpec(sys.argv[1], Path(sys.argv[2]), ("tiny.cpp",), ("-O0", "-DANSWER=42"))
print(cpu_build.build(spec=spec).answer())
"""

pytestmark = pytest.mark.skipif(
    shutil.which("c++") is None or not sys.platform.startswith("linux"),
    reason="needs a C++ compiler and Linux /proc (the kernels then take the reference path)",
)


def _sources(folder: Path, answer: int = 42) -> Path:
    folder.mkdir(parents=True)
    (folder / "tiny.cpp").write_text(TINY.replace("ANSWER)", f"{answer})") if answer != 42 else TINY)
    return folder


def _spec(source_dir: Path, name: str = "tiny_ext") -> cpu_build.ExtensionSpec:
    return cpu_build.ExtensionSpec(name, source_dir, ("tiny.cpp",), ("-O0", "-DANSWER=42"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty kernels cache, and a compiler wrapper that waits while ``<tmp>/slow`` exists."""
    slow = tmp_path / "slow"
    wrapper = tmp_path / "slow-c++"
    wrapper.write_text(f'#!/bin/sh\nwhile [ -e {slow} ]; do sleep 0.1; done\nexec c++ "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv(cpu_build.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("CXX", str(wrapper))
    monkeypatch.delenv(cpu_build.TIMEOUT_ENV, raising=False)
    return slow


def _start_builder(spec: cpu_build.ExtensionSpec) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, spec.name, str(spec.source_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _compiler_group(folder: Path) -> int:
    """The process group of a running build, once its compiler wrapper is sleeping. Only the wrapper
    counts: torch runs short-lived helpers first (``ninja --version``), and a test that killed the
    group's leader while one of those ran would find nothing left to outlive it."""

    def sleeping() -> int | None:
        owner = build_guard.read_owner(folder)
        if owner is None or owner.group is None:
            return None
        members = build_guard.leftover_processes(folder, owner.group)
        return owner.group if any("slow-c++" in _command_line(pid) for pid in members) else None

    return _wait_for(sleeping, "the build's compiler to start")


def _group_gone(folder: Path, group: int, timeout: float = 15.0) -> None:
    _wait_for(
        lambda: not build_guard.leftover_processes(folder, group), f"process group {group} to end", timeout
    )


def test_a_build_is_keyed_by_its_sources_not_their_folder(tmp_path, cache):
    first, second = _sources(tmp_path / "checkout-a"), _sources(tmp_path / "checkout-b")
    assert cpu_build.location(_spec(first)) == cpu_build.location(_spec(second))
    changed = _sources(tmp_path / "checkout-c", answer=7)
    assert cpu_build.location(_spec(changed)) != cpu_build.location(_spec(first))
    flags = cpu_build.ExtensionSpec("tiny_ext", first, ("tiny.cpp",), ("-O1", "-DANSWER=42"))
    assert cpu_build.location(flags) != cpu_build.location(_spec(first))
    # the real kernels: the same sources elsewhere (a wheel, another checkout) name the same folder
    copy = tmp_path / "wheel-csrc"
    shutil.copytree(cpu_build.CSRC, copy)
    real = cpu_build.kernels_spec()
    moved = cpu_build.ExtensionSpec(real.name, copy, real.sources, real.cflags, real.ldflags)
    assert cpu_build.location(moved) == cpu_build.location(real)

    assert cpu_build.state(_spec(first)) == "absent" and cpu_build.expected_to_load(_spec(first))
    assert cpu_build.build(spec=_spec(first), tell=lambda m: None).answer() == 42
    assert cpu_build.state(_spec(second)) == "built"  # the other checkout loads it: no second build
    log = cpu_build.location(_spec(first)) / cpu_build.LOG
    before = log.stat().st_mtime_ns
    assert cpu_build.build(spec=_spec(second), tell=pytest.fail).answer() == 42  # loads, says nothing
    assert log.stat().st_mtime_ns == before


def test_a_killed_build_leaves_no_process_and_the_next_one_takes_over(tmp_path, cache):
    spec = _spec(_sources(tmp_path / "src"))
    folder = cpu_build.location(spec)
    cache.touch()
    builder = _start_builder(spec)
    group = _compiler_group(folder)
    builder.send_signal(signal.SIGKILL)
    builder.wait()
    _group_gone(folder, group, timeout=10)  # the compiler's group ended with its parent
    cache.unlink()
    messages: list[str] = []
    started = time.monotonic()
    assert cpu_build.build(spec=spec, tell=messages.append).answer() == 42
    assert time.monotonic() - started < 60
    assert not (folder / "build" / "lock").exists() and not (folder / build_guard.OWNER_NAME).exists()


def test_orphans_of_a_killed_compiler_parent_are_ended_by_the_next_builder(tmp_path, cache):
    spec = _spec(_sources(tmp_path / "src"))
    folder = cpu_build.location(spec)
    cache.touch()
    builder = _start_builder(spec)
    group = _compiler_group(folder)
    os.kill(group, signal.SIGKILL)  # the compiler's parent first: nothing can end its group now
    builder.send_signal(signal.SIGKILL)
    builder.wait()
    time.sleep(0.5)
    orphans = build_guard.leftover_processes(folder, group)
    assert orphans, "the sleeping compiler should have outlived its killed parents"
    cache.unlink()
    assert cpu_build.build(spec=spec, tell=lambda m: None).answer() == 42
    assert build_guard.leftover_processes(folder, group) == []
    assert not (folder / "build" / "lock").exists()


def test_a_waiter_says_whom_it_waits_for_and_gives_up_saying_what_to_do(tmp_path, cache, monkeypatch):
    spec = _spec(_sources(tmp_path / "src"))
    folder = cpu_build.location(spec)
    cache.touch()
    builder = _start_builder(spec)
    try:
        _compiler_group(folder)
        monkeypatch.setenv(cpu_build.TIMEOUT_ENV, "1")
        messages: list[str] = []
        with pytest.raises(TimeoutError) as caught:
            cpu_build.build(spec=spec, tell=messages.append)
        holder = build_guard.read_owner(folder)
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.since))
        assert messages == [
            f"mast-bench: waiting for pid {builder.pid} on host {holder.host} (building since {since}) "
            f"to finish building the CPU kernels in {folder} (at most 1 s)"
        ]
        error = caught.value
        assert error.filename == str(folder)
        assert f"gave up after 1 s waiting for pid {builder.pid}" in error.strerror
        assert f"end it (kill {builder.pid}) and rerun" in error.strerror
        assert "MAST_BENCH_KERNELS_BUILD_TIMEOUT" in error.strerror
        # a patient waiter gets the module once the build ends
        monkeypatch.setenv(cpu_build.TIMEOUT_ENV, "60")
        cache.unlink()
        assert cpu_build.build(spec=spec, tell=lambda m: None).answer() == 42
        assert builder.wait(timeout=60) == 0 and builder.stdout.read().strip() == b"42"
    finally:
        builder.kill()
        builder.wait()


def test_a_failed_build_is_remembered_until_built_again(tmp_path, cache):
    source_dir = _sources(tmp_path / "src")
    (source_dir / "tiny.cpp").write_text("this is not C++\n")
    spec = _spec(source_dir)
    with pytest.raises(cpu_build.BuildFailed, match=r"tiny\.cpp:1:1: error: "):
        cpu_build.build(spec=spec, tell=lambda m: None)
    assert cpu_build.state(spec) == "failed" and not cpu_build.expected_to_load(spec)
    assert "tiny.cpp:1:1: error: " in cpu_build.failure(spec)
    log = cpu_build.location(spec) / cpu_build.LOG
    before = log.stat().st_mtime_ns
    with pytest.raises(cpu_build.BuildFailed):
        cpu_build.build(spec=spec, tell=pytest.fail)  # remembered: no compiler runs again
    assert log.stat().st_mtime_ns == before
    with pytest.raises(cpu_build.BuildFailed):
        cpu_build.build(spec=spec, retry=True, tell=lambda m: None)  # `mast-bench kernels build` retries
    assert log.stat().st_mtime_ns != before


def test_naming_the_kernel_path_never_compiles(tmp_path, cache, monkeypatch):
    from mast_bench.ops import kernels

    calls = []
    monkeypatch.setattr(cpu_build, "build", lambda *a, **k: calls.append(a) or pytest.fail("compiled"))
    kernels.cpu_extension.cache_clear()
    try:
        monkeypatch.delenv(kernels.KERNELS_ENV, raising=False)
        assert cpu_build.state() == "absent"  # nothing built in this empty cache
        assert kernels.expected_kernel_path("cpu") == "cpu-csrc"  # a compiler is here: it will build
        monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
        assert kernels.expected_kernel_path("cpu") == "reference"
        assert calls == []
    finally:
        kernels.cpu_extension.cache_clear()


def test_the_kernels_command_builds_or_says_why_not_in_one_line(tmp_path, cache, monkeypatch, capsys):
    from mast_bench.__main__ import main

    assert main(["kernels", "where"]) == 0
    folder = cpu_build.location()
    assert capsys.readouterr().out == f"{folder}\tabsent\n"
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    folder = cpu_build.location()
    assert main(["kernels", "build"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {folder}: no {tmp_path / 'no-such-compiler'} on PATH to build the CPU kernels with; "
        "the memory operators will run the pure-PyTorch reference path (exact, slower). They need a "
        f"C++ compiler with OpenMP and ninja; the compiler's output: {folder / cpu_build.LOG}"
    ]


def test_the_compiling_child_finds_this_package_from_the_build_folder(tmp_path):
    """A checkout run as ``PYTHONPATH=. python3 ...`` (not installed: the GPU machine) builds too: the
    child compiles in the build folder, where ``.`` no longer names the checkout. Without site-packages
    (-S) only PYTHONPATH can find the package, so the child's environment is what finds it."""
    import mast_bench

    locate = (
        "import importlib.util; spec = importlib.util.find_spec('mast_bench'); print(spec and spec.origin)"
    )
    relative = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": "."}

    def found(env: dict[str, str]) -> str:
        argv = [sys.executable, "-S", "-c", locate]
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout

    assert found(relative).strip() == "None"  # what the child saw before
    assert Path(found(cpu_build.child_environment(relative)).strip()) == Path(mast_bench.__file__).resolve()
    assert cpu_build.child_environment(relative)["PYTHONPATH"].split(os.pathsep)[1:] == ["."]  # kept, after
