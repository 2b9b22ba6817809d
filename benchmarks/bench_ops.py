"""Benchmark of the memory operations: native kernels vs the reference path, one fresh process per case.

    python benchmarks/bench_ops.py --out bench-results/ops.json [--repeats 3] [--threads N]
        [--heavy] [--quick]

Cases, each forward and forward+backward:
- read_480p: one 480p memory read (query 64ch 120x214, 5 references of which 2 are long-term ROI
  entries with offsets from a dilation-2 coarse search, P=25, 7 value channels);
- train_read: the training read (batch 12, 64ch 64x64 features, P=13, 3 value channels), also for
  the official-style unfold code;
- correlation: the local correlation alone at both sizes (plus the unfold baseline at the training
  size, at 480p only with --heavy: ~8 GB; plus spatial-correlation-sampler when installed).
"native" runs the kernels of this machine (ops.kernel_path), "reference" the pure-PyTorch path
(MAST_BENCH_KERNELS=reference), both in the same run.

Peak memory: after a warm-up on tiny inputs (library loading, kernel build) and once the inputs
exist, the high-water mark is reset (5 -> /proc/self/clear_refs); "peak_extra_bytes" = VmHWM -
VmRSS before the run. Times are the minimum over --repeats warm runs (the first run is reported
separately). The JSON holds the command, the machine (CPU model, CPUs this process may use, dense
matmul GFLOP/s) and the load average before and after: on a shared machine timings vary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # support.spatial_sampler: the optional sampler wrapper

from mast_bench.harness.provenance import cpu_model  # noqa: E402
from mast_bench.ops import (  # noqa: E402
    KERNELS_ENV,
    MemoryEntry,
    kernel_path,
    local_correlation,
    memory_read,
    soft_argmax_offset,
)
from mast_bench.threads import available_cpus  # noqa: E402

SHAPES = {
    "train": {"batch": 12, "channels": 64, "height": 64, "width": 64, "radius": 6, "values": 3},
    "480p": {"batch": 1, "channels": 64, "height": 120, "width": 214, "radius": 12, "values": 7},
    "quick": {"batch": 2, "channels": 16, "height": 16, "width": 20, "radius": 3, "values": 3},
}
MODES = ("forward", "forward_backward")


# --- implementations compared ------------------------------------------------------------------


def unfold_correlation(query, key, radius, dilation=1):
    """The straightforward baseline: materialise every candidate with F.unfold."""
    b, c, h, w = query.shape
    size = 2 * radius + 1
    cols = F.unfold(key, size, dilation=dilation, padding=radius * dilation).view(b, c, size * size, h, w)
    return (query.unsqueeze(2) * cols).sum(1)


def unfold_memory_read(query, key, value, radius, scale):
    """Official Colorizer code path for one short-term reference (unfold + softmax + sum)."""
    b, _, h, w = query.shape
    size = 2 * radius + 1
    logits = unfold_correlation(query, key, radius).flatten(2) * scale
    weights = torch.softmax(logits, dim=1).unsqueeze(1)
    cols = F.unfold(value, size, padding=radius).view(b, value.shape[1], size * size, h * w)
    return (weights * cols).sum(2).view(b, -1, h, w)


def correlation_impl(name):
    if name in ("native", "reference"):
        return local_correlation
    if name == "unfold":
        return unfold_correlation
    if name == "sampler":
        from support.spatial_sampler import sampler_correlation

        return sampler_correlation()
    raise ValueError(name)


# --- one measured case (runs inside the worker process) -----------------------------------------


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_high_water_mark() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _read_480p(s, gen, grad):
    b, c, h, w, r = s["batch"], s["channels"], s["height"], s["width"], s["radius"]
    query = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    keys = [(torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad) for _ in range(5)]
    values = [torch.rand(b, s["values"], h, w, generator=gen) for _ in range(5)]

    def run():
        with torch.set_grad_enabled(grad):
            entries = []
            for n in range(5):
                if n < 2:  # long-term: coarse dilated search, then the bilinear ROI window
                    with torch.no_grad():
                        offset = soft_argmax_offset(query, keys[n], r, 2)
                    entries.append(MemoryEntry(keys[n], values[n], "window", r, offset=offset))
                else:
                    entries.append(MemoryEntry(keys[n], values[n], "window", r))
            out = memory_read(query, entries, scale=c**-0.5)
            if grad:
                out.square().sum().backward()
            return out

    return run


def _train_read(s, gen, grad, impl):
    b, c, h, w, r = s["batch"], s["channels"], s["height"], s["width"], s["radius"]
    query = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    key = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    value = torch.rand(b, s["values"], h, w, generator=gen)
    target = torch.rand(b, s["values"], h, w, generator=gen)

    def run():
        with torch.set_grad_enabled(grad):
            if impl == "unfold":
                out = unfold_memory_read(query, key, value, r, c**-0.5)
            else:
                out = memory_read(query, [MemoryEntry(key, value, "window", r)], scale=c**-0.5)
            if grad:
                F.smooth_l1_loss(out * 20, target * 20).backward()
            return out

    return run


def _correlation(s, gen, grad, impl):
    b, c, h, w, r = s["batch"], s["channels"], s["height"], s["width"], s["radius"]
    query = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    key = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    correlate = correlation_impl(impl)

    def run():
        with torch.set_grad_enabled(grad):
            out = correlate(query, key, r, 1)
            if grad:
                out.sum().backward()
            return out

    return run


def build_case(case: dict):
    """A zero-argument callable running one case on freshly made inputs."""
    gen = torch.Generator().manual_seed(0)
    shape = SHAPES[case["shape"]]
    grad = case["mode"] == "forward_backward"
    if case["kind"] == "read_480p":
        return _read_480p(shape, gen, grad)
    if case["kind"] == "train_read":
        return _train_read(shape, gen, grad, case["impl"])
    if case["kind"] == "correlation":
        return _correlation(shape, gen, grad, case["impl"])
    raise ValueError(case["kind"])


def measure(case: dict, repeats: int) -> dict:
    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    # Warm the code paths (imports, operator registration, kernel loading) on tiny inputs first,
    # so the measured peak is the case's temporaries, not one-time library loading.
    build_case({**case, "shape": "quick"})()
    run = build_case(case)
    rss_before = _status_bytes("VmRSS")
    _reset_high_water_mark()
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    peak = _status_bytes("VmHWM")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {
        **case,
        "shape_detail": SHAPES[case["shape"]],
        "kernel_path": kernel_path("cpu"),
        "first_seconds": first,
        "seconds": min(times) if times else first,
        "all_seconds": times,
        # the high-water mark restarts at the RSS of the moment it is reset; pages the process gives
        # back before the run (a loaded machine reclaims them) can leave it below rss_before
        "peak_extra_bytes": max(0, peak - rss_before),
        "peak_bytes": peak,
        "rss_before_bytes": rss_before,
        "torch_threads": torch.get_num_threads(),
    }


# --- driver ---------------------------------------------------------------------------------------


def cases(quick: bool, heavy: bool, sampler: bool, threads: int | None) -> list[dict]:
    out = []
    train, big = ("quick", "quick") if quick else ("train", "480p")
    for mode in MODES:
        for impl in ("native", "reference"):
            out.append({"kind": "read_480p", "shape": big, "mode": mode, "impl": impl})
        for impl in ("native", "reference", "unfold"):
            out.append({"kind": "train_read", "shape": train, "mode": mode, "impl": impl})
        for shape in dict.fromkeys((train, big)):
            for impl in ("native", "reference", "unfold", *(["sampler"] if sampler else [])):
                if impl == "unfold" and shape == "480p" and not heavy:
                    continue  # ~8 GB of temporaries forward, more with backward: only with --heavy
                out.append({"kind": "correlation", "shape": shape, "mode": mode, "impl": impl})
    return [{**case, "threads": threads} for case in out]


def sampler_available() -> bool:
    from support.spatial_sampler import SamplerUnavailable, sampler_correlation

    try:
        sampler_correlation()
    except SamplerUnavailable:
        return False
    return True


def run_worker(case: dict, repeats: int, timeout: float) -> dict:
    command = [sys.executable, __file__, "--worker", json.dumps(case), "--repeats", str(repeats)]
    env = {**os.environ, KERNELS_ENV: "reference" if case["impl"] == "reference" else "native"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return {**case, "error": [f"timed out after {timeout:.0f} s"]}
    if done.returncode != 0:
        return {**case, "error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def speedups(results: list[dict]) -> list[dict]:
    """reference seconds / native seconds for every case measured both ways."""
    by_case = {(r["kind"], r["shape"], r["mode"], r["impl"]): r for r in results if "error" not in r}
    out = []
    for (kind, shape, mode, impl), native in by_case.items():
        reference = by_case.get((kind, shape, mode, "reference"))
        if impl == "native" and reference is not None:
            ratio = reference["seconds"] / native["seconds"]
            out.append({"kind": kind, "shape": shape, "mode": mode, "reference_over_native": ratio})
    return out


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Dense float32 matmul throughput of this process (2 FLOPs per multiply-add)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def machine_description() -> dict:
    return {
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "available_cpus": available_cpus(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "kernel_path_cpu": kernel_path("cpu"),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "matmul_gflops": matmul_gflops(),
    }


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(payload, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="JSON file to write (atomically)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny shapes: a smoke test of the script")
    parser.add_argument("--heavy", action="store_true", help="also the 480p unfold baseline (~8+ GB)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    parser.add_argument("--threads", type=int, help="torch threads per case (default: torch's own)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker), args.repeats)))
        return 0
    if args.out is None:
        parser.error("--out is required")
    load_before = os.getloadavg()
    machine = machine_description()
    results = []
    for case in cases(args.quick, args.heavy, sampler_available(), args.threads):
        result = run_worker(case, args.repeats, args.timeout)
        results.append(result)
        summary = (
            result.get("error") or f"{result['seconds']:.3f} s, +{result['peak_extra_bytes'] / 2**20:.0f} MiB"
        )
        print(
            f"{case['kind']:12s} {case['shape']:6s} {case['mode']:16s} {case['impl']:9s} {summary}",
            flush=True,
        )
    ratios = speedups(results)
    for ratio in ratios:
        case = f"{ratio['kind']:12s} {ratio['shape']:6s} {ratio['mode']:16s}"
        print(f"reference / native  {case} {ratio['reference_over_native']:.2f}x")
    payload = {
        "schema": 2,
        "command": [sys.executable, *sys.argv],
        "machine": machine,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "shapes": SHAPES,
        "results": results,
        "speedups": ratios,
    }
    write_json_atomic(args.out, payload)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
