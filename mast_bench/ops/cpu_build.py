"""Build and import the CPU kernels (csrc/*.cpp) with torch's JIT extension loader.

torch.utils.cpp_extension.load compiles once (ninja, OpenMP) and caches the result under
TORCH_EXTENSIONS_DIR (default ~/.cache/torch_extensions); later imports take a second.
The cache entry is keyed by the torch version and the instruction set the code is built for,
so a home folder shared by different machines or torch installs never loads a foreign binary;
the flags also carry a hash of every source and header, so an edited header rebuilds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from types import ModuleType

import torch

CSRC = Path(__file__).resolve().parent / "csrc"
SOURCES = ("bindings.cpp", "window_ops.cpp", "roi_ops.cpp", "softmax_ops.cpp")


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


def build(verbose: bool = False) -> ModuleType:
    """Compile (first use on this machine and torch) or load the cached extension; raises on failure."""
    from torch.utils.cpp_extension import load

    _find_ninja()

    missing = [name for name in SOURCES if not (CSRC / name).is_file()]
    if missing:
        raise FileNotFoundError(f"C++ sources missing from {CSRC}: {', '.join(missing)}")
    isa = instruction_set()
    return load(
        name=extension_name(isa),
        sources=[str(CSRC / name) for name in SOURCES],
        extra_include_paths=[str(CSRC)],
        extra_cflags=compile_flags(isa),
        extra_ldflags=["-fopenmp"],
        verbose=verbose,
    )
