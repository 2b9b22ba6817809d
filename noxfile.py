"""Sessions: tests, lint, bench, ablate, report (`nox -l` lists them).

Each session installs the pinned torch before the project (an unpinned
resolution would pull a CUDA build) and reuses its virtualenv between runs.
Never use the uv backend: it ignores the local torch wheel.
"""

from __future__ import annotations

import os

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests"]

TORCH = os.environ.get("MAST_BENCH_TORCH", "torch==2.13.0").split()
BENCH_OUT = "bench-results"


def install(session: nox.Session, extras: str = "dev,cluster") -> None:
    session.install(*TORCH)
    session.install("-e", f".[{extras}]")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (GPU tests skip, visibly, without CUDA; without one the Triton kernels are
    tested under Triton's interpreter, which tests/conftest.py selects). The slowest 15 tests are
    listed at the end, so the CI log shows what spends its 30-minute budget."""
    install(session, "dev,cluster,triton")
    session.run("python", "-m", "pytest", *(session.posargs or ["-q", "--durations=15"]))


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", "mast_bench", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "mast_bench", "tests", "benchmarks", "noxfile.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks (ops: kernels vs reference; metrics: ours vs vos-benchmark and the
    toolkit, also on real frames; propagate: idle and beside a busy process); results go to
    bench-results/*.json. `nox -s bench -- ops` runs one."""
    install(session)
    os.makedirs(BENCH_OUT, exist_ok=True)
    names = session.posargs or ["ops", "metrics", "propagate"]
    for name in names:
        session.run("python", f"benchmarks/bench_{name}.py", "--out", f"{BENCH_OUT}/{name}.json")
    davis_mini = os.path.join(os.environ.get("MAST_BENCH_SHARED", "../shared"), "data", "davis-mini")
    if "metrics" in names and os.path.isdir(davis_mini):  # mast-bench evaluate vs vos-benchmark, real frames
        real = ["--real", davis_mini, "--out", f"{BENCH_OUT}/metrics-real.json"]
        session.run("python", "benchmarks/bench_metrics.py", *real)


@nox.session
def ablate(session: nox.Session) -> None:
    """`nox -s ablate -- NAME [--preset smoke|paper] [--data PATH] [--jobs N]`: a study and its report."""
    if not session.posargs:
        session.error("name a study: nox -s ablate -- colour_space (studies: mast-bench ablate --help)")
    install(session)
    session.run("mast-bench", "ablate", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Regenerate reports/example: the README's main job, its results folder vendored, its report."""
    install(session)
    session.run("bash", "scripts/vendor_example", external=True, env={"MAST_BENCH": "mast-bench"})
