"""The CPU kernels (csrc/*.cpp): built once, ahead of time, into a folder named after what they are
built from; a run only loads them.

The folder, ``<cache>/<extension name>-<key>`` (cache: $MAST_BENCH_KERNELS_DIR, default
~/.cache/mast-bench/kernels), is keyed by the sources' and headers' contents, the flags, the
compiler, torch and Python. Two checkouts (or a checkout and a wheel) with the same sources share
one build; different sources never overwrite each other's (torch's own cache, one folder per name,
rebuilt at every alternation). The sources are copied into the folder and compiled from there, so
the build never depends on where the package lives.

``mast-bench kernels build`` (run by scripts/setup) builds; a run that finds no build makes it once,
behind the same lock (build_guard: one builder, a message while waiting, nothing left behind by a
killed one). A failed build is remembered (``FAILED``), so runs take the reference path at once
instead of recompiling; ``mast-bench kernels build`` tries again. Naming the path a run would take
(:func:`expected_to_load`) never compiles.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import torch

from . import build_guard


def _sources_folder() -> Path:
    """csrc/: inside the installed package in a wheel (mast_bench/ops/csrc), else the checkout's
    top-level folder (an editable install, or the source tree on sys.path)."""
    here = Path(__file__).resolve().parent
    inside = here / "csrc"
    return inside if inside.is_dir() else here.parents[1] / "csrc"


CSRC = _sources_folder()
SOURCES = ("bindings.cpp", "window_ops.cpp", "roi_ops.cpp", "softmax_ops.cpp")
CACHE_ENV = "MAST_BENCH_KERNELS_DIR"
TIMEOUT_ENV = "MAST_BENCH_KERNELS_BUILD_TIMEOUT"
DEFAULT_TIMEOUT = 900.0  # seconds a run waits for another process's build (one takes ~80 s)
BUILT, FAILED, SPEC, LOG = "BUILT", "FAILED", "spec.json", "build.log"


@dataclass(frozen=True)
class ExtensionSpec:
    """What one extension is built from: its module name, the files of its source folder (all
    of ``csrc``'s .cpp and .h count for the key; ``sources`` are compiled), and the flags."""

    name: str
    source_dir: Path
    sources: tuple[str, ...]
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...] = ()

    def files(self) -> list[Path]:
        return sorted(p for p in self.source_dir.glob("*") if p.suffix in (".cpp", ".h", ".c"))

    def key(self) -> str:
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        compiler = compiler_command()
        for part in (
            self.name,
            *self.sources,
            *self.cflags,
            "--",
            *self.ldflags,
            compiler,
            str(shutil.which(compiler)),
            torch.__version__,
            sys.implementation.cache_tag,
            platform.machine(),
        ):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()[:16]


def instruction_set() -> str:
    """ "avx2" where torch's own CPU kernels use AVX2 or AVX-512 (we then build with AVX2+FMA),
    "generic" elsewhere (the vector code compiles to whatever registers the target has)."""
    capability = torch.backends.cpu.get_cpu_capability().upper()
    return "avx2" if capability in ("AVX2", "AVX512") else "generic"


def extension_name(isa: str | None = None) -> str:
    version = re.sub(r"[^0-9a-zA-Z]+", "_", torch.__version__).strip("_")
    return f"mast_bench_kernels_{isa or instruction_set()}_torch{version}"


def sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(CSRC.glob("*")):
        if path.suffix in (".cpp", ".h"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def compile_flags(isa: str) -> list[str]:
    flags = ["-O3", "-fopenmp", "-ffp-contract=fast", f"-DMAST_SOURCES={sources_digest()}"]
    if isa == "avx2":
        flags += ["-mavx2", "-mfma"]
    return flags


def kernels_spec() -> ExtensionSpec:
    """The memory operators' kernels for this machine's instruction set and torch."""
    isa = instruction_set()
    return ExtensionSpec(extension_name(isa), CSRC, SOURCES, tuple(compile_flags(isa)), ("-fopenmp",))


def compiler_command() -> str:
    """The C++ compiler torch's build uses ($CXX, else c++)."""
    return os.environ.get("CXX", "c++").split()[0] if os.environ.get("CXX", "").strip() else "c++"


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "mast-bench" / "kernels"


def location(spec: ExtensionSpec | None = None) -> Path:
    """The build folder of ``spec`` (default: the memory operators' kernels)."""
    spec = spec or kernels_spec()
    return cache_root() / f"{spec.name}-{spec.key()}"


def library(folder: Path, spec: ExtensionSpec) -> Path:
    return folder / "build" / f"{spec.name}.so"


def state(spec: ExtensionSpec | None = None) -> str:
    """ "built", "failed" or "absent", from the folder alone (cheap: no compiler runs)."""
    spec = spec or kernels_spec()
    folder = location(spec)
    if (folder / BUILT).is_file() and library(folder, spec).is_file():
        return "built"
    return "failed" if (folder / FAILED).is_file() else "absent"


def failure(spec: ExtensionSpec | None = None) -> str:
    """What the remembered failed build said (its last lines)."""
    try:
        return (location(spec) / FAILED).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def tools_found() -> bool:
    """A C++ compiler and ninja are there (what a build needs; checked without running them)."""
    _find_ninja()
    return shutil.which(compiler_command()) is not None and shutil.which("ninja") is not None


def expected_to_load(spec: ExtensionSpec | None = None) -> bool:
    """Will :func:`build` give the kernels? Built already, or buildable here and not failed before.
    Never compiles: a run names its kernel path (part of a record's identity) with this."""
    current = state(spec)
    return current == "built" or (current == "absent" and tools_found())


def _find_ninja() -> None:
    """torch looks for ninja on PATH; the pip package's binary is not there unless the virtualenv
    is activated, so add its folder."""
    if shutil.which("ninja") is not None:
        return
    try:
        import ninja
    except ImportError:
        return  # torch then says that ninja is required
    os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timeout_seconds() -> float:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        return float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise ValueError(f"${TIMEOUT_ENV} must be a number of seconds, got {text!r}") from None


class BuildFailed(RuntimeError):
    """The kernels could not be compiled here (the message ends with the compiler's last lines)."""


def build(
    verbose: bool = False,
    spec: ExtensionSpec | None = None,
    *,
    retry: bool = False,
    tell: Callable[[str], None] = _tell,
) -> ModuleType:
    """Load the built kernels, building them first if no process has (raises on failure).

    ``retry``: try again after a remembered failure (``mast-bench kernels build``).
    """
    spec = spec or kernels_spec()
    missing = [name for name in spec.sources if not (spec.source_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"C++ sources missing from {spec.source_dir}: {', '.join(missing)}")
    folder = location(spec)
    if state(spec) != "built" and not tools_found():
        missing = compiler_command() if shutil.which(compiler_command()) is None else "ninja"
        raise BuildFailed(f"{folder}: no {missing} on PATH to build the CPU kernels with")
    if state(spec) != "built" and (retry or state(spec) == "absent"):
        build_guard.build_once(
            folder,
            settled=lambda: state(spec) == "built" or (not retry and state(spec) == "failed"),
            compile=lambda guard: _compile(spec, folder, guard, verbose, tell),
            timeout=timeout_seconds(),
            tell=tell,
        )
    if state(spec) == "failed":
        raise BuildFailed(f"{folder}: {_first_error(failure(spec))}")
    return load(spec)


def _first_error(log: str) -> str:
    """The compiler's first ``error:`` line (what to fix), else the log's last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines or ["the build failed"])[0 if errors else -1]


def load(spec: ExtensionSpec | None = None) -> ModuleType:
    """Import the built library (a second, no compiler)."""
    spec = spec or kernels_spec()
    path = library(location(spec), spec)
    module_spec = importlib.util.spec_from_file_location(spec.name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{path}: not an importable extension")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _compile(
    spec: ExtensionSpec, folder: Path, guard: build_guard.Guard, verbose: bool, tell: Callable[[str], None]
) -> None:
    """Under the build lock: copy the sources, compile in a supervised child, mark the outcome."""
    (folder / FAILED).unlink(missing_ok=True)
    source_copy = folder / "src"
    shutil.rmtree(source_copy, ignore_errors=True)
    source_copy.mkdir()
    for path in spec.files():
        shutil.copy2(path, source_copy / path.name)
    (folder / "build").mkdir(exist_ok=True)
    fields = {**asdict(spec), "source_dir": str(source_copy)}
    (folder / SPEC).write_text(json.dumps(fields, indent=1), encoding="utf-8")
    tell(
        f"mast-bench: building the CPU kernels once (about a minute on 2 cores) into {folder}; "
        "`mast-bench kernels build` does this ahead of time"
    )
    started = time.monotonic()
    status = guard.run(
        [sys.executable, "-m", __spec__.name, "compile", str(folder), str(os.getpid())],
        folder / LOG,
        child_environment(os.environ),
    )
    log = (folder / LOG).read_text(encoding="utf-8", errors="replace").strip()
    if verbose:
        tell(log)
    if status < 0:  # killed from outside: not the sources' fault, so nothing is remembered
        raise BuildFailed(f"{folder}: the build was ended by signal {-status}; rerun to build again")
    if status != 0:
        lines = log.splitlines()
        errors = [line for line in lines if "error:" in line][:5]
        tail = "\n".join([*errors, *lines[-20:]]) or f"the compiler process ended with status {status}"
        (folder / FAILED).write_text(tail + "\n", encoding="utf-8")
        return
    (folder / BUILT).write_text(
        json.dumps({"seconds": round(time.monotonic() - started, 1), "torch": torch.__version__}) + "\n",
        encoding="utf-8",
    )


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this package's parent folder first on PYTHONPATH: the compiling child runs
    in the build folder, where a relative entry (``PYTHONPATH=.`` in a checkout that is not
    installed) no longer finds the package, and the build would fail and be remembered as failed."""
    parent = str(Path(__file__).resolve().parents[2])
    entries = [entry for entry in environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    return {**environ, "PYTHONPATH": os.pathsep.join([parent, *entries])}


def _compile_here(folder: Path) -> None:
    """The supervised child: torch's extension builder on the copied sources (ninja, OpenMP)."""
    from torch.utils.cpp_extension import load as torch_load

    _find_ninja()
    fields = json.loads((folder / SPEC).read_text(encoding="utf-8"))
    source_dir = Path(fields["source_dir"])
    torch_load(
        name=fields["name"],
        sources=[str(source_dir / name) for name in fields["sources"]],
        extra_include_paths=[str(source_dir)],
        extra_cflags=list(fields["cflags"]),
        extra_ldflags=list(fields["ldflags"]),
        build_directory=str(folder / "build"),
        verbose=True,
    )


def main(argv: list[str]) -> int:
    """``python -m mast_bench.ops.cpu_build compile FOLDER PARENT_PID`` (started by :func:`build`)."""
    if len(argv) != 3 or argv[0] != "compile":
        print("usage: python -m mast_bench.ops.cpu_build compile FOLDER PARENT_PID", file=sys.stderr)
        return 2
    build_guard.supervise(int(argv[2]))
    _compile_here(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
