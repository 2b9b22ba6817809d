"""Benchmark of the memory operations: time and honest peak memory, one fresh process per case.

    python benchmarks/bench_ops.py --out results/bench_ops.json [--repeats 3] [--heavy] [--quick]

Cases: local correlation forward and forward+backward at the official training size
(B=12, 64ch, 64x64 features, P=13) and at 480p (B=1, 64ch, 120x214, P=25) for ours / a naive
unfold implementation / spatial-correlation-sampler and the csrc/ kernels (each when available);
the training-path memory read (window R=6, 1 value channel) forward+backward, ours vs the
official-style unfold code; and one 480p memory_read step with 5 references (two long-term ROI
entries whose offsets come from a dilation-2 coarse search, three short-term windows, P=25,
7 value channels).

Peak memory: each case runs in its own subprocess; after a warm-up on tiny inputs (library
loading) and once the inputs exist, we reset the high-water mark (write 5 to
/proc/self/clear_refs), run the case once and read VmHWM from /proc/self/status.
"peak_extra_bytes" = VmHWM - VmRSS before the run, i.e. the temporaries. Times are the minimum
over --repeats warm runs (first run reported separately). The machine's load average is
recorded: on a shared 2-core machine timings vary with other work.
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

from mast_bench.ops import (  # noqa: E402
    BackendUnavailable,
    MemoryEntry,
    get_backend,
    local_correlation,
    memory_read,
    soft_argmax_offset,
)

SHAPES = {
    "train": {"batch": 12, "channels": 64, "height": 64, "width": 64, "radius": 6},
    "480p": {"batch": 1, "channels": 64, "height": 120, "width": 214, "radius": 12},
    "quick": {"batch": 2, "channels": 16, "height": 16, "width": 20, "radius": 3},
}


# --- implementations compared ------------------------------------------------------------------


def unfold_correlation(query, key, radius, dilation=1):
    """The straightforward baseline: materialise every candidate with F.unfold."""
    b, c, h, w = query.shape
    size = 2 * radius + 1
    cols = F.unfold(key, size, dilation=dilation, padding=radius * dilation).view(b, c, size * size, h, w)
    return (query.unsqueeze(2) * cols).sum(1)


def unfold_memory_read(query, key, value, radius):
    """Official Colorizer code path for one short-term reference (unfold + softmax + sum)."""
    b, _, h, w = query.shape
    size = 2 * radius + 1
    weights = torch.softmax(unfold_correlation(query, key, radius).flatten(2), dim=1).unsqueeze(1)
    cols = F.unfold(value, size, padding=radius).view(b, value.shape[1], size * size, h * w)
    return (weights * cols).sum(2).view(b, -1, h, w)


def correlation_impl(name):
    if name == "ours":
        return local_correlation
    if name == "unfold":
        return unfold_correlation
    if name in ("sampler", "cpp"):
        return get_backend(name).local_correlation
    raise ValueError(name)


# --- one measured case (runs inside the worker process) -----------------------------------------


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_high_water_mark() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def build_case(case: dict):
    """Inputs and a zero-argument callable for one case."""
    gen = torch.Generator().manual_seed(0)
    kind = case["kind"]
    s = SHAPES[case["shape"]]
    b, c, h, w, r = s["batch"], s["channels"], s["height"], s["width"], s["radius"]
    grad = case["mode"] == "forward_backward"
    query = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
    if kind == "correlation":
        key = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(grad)
        correlate = correlation_impl(case["impl"])

        def run():
            out = correlate(query, key, r, 1)
            if grad:
                out.sum().backward()
            return out

        return run
    if kind == "train_read":
        key = (torch.randn(b, c, h, w, generator=gen) * 0.1).requires_grad_(True)
        value = torch.rand(b, 1, h, w, generator=gen)
        target = torch.rand(b, 1, h, w, generator=gen)

        def run():
            if case["impl"] == "ours":
                out = memory_read(query, [MemoryEntry(key, value, "window", r)])
            else:
                out = unfold_memory_read(query, key, value, r)
            F.smooth_l1_loss(out * 20, target * 20).backward()
            return out

        return run
    if kind == "read_480p":
        keys = [torch.randn(b, c, h, w, generator=gen) * 0.1 for _ in range(5)]
        values = [torch.rand(b, 7, h, w, generator=gen) for _ in range(5)]

        def run():
            with torch.no_grad():
                entries = []
                for n in range(5):
                    if n < 2:  # long-term: coarse dilated search, then the bilinear ROI window
                        offset = soft_argmax_offset(query, keys[n], r, 2)
                        entries.append(MemoryEntry(keys[n], values[n], "window", r, offset=offset))
                    else:
                        entries.append(MemoryEntry(keys[n], values[n], "window", r))
                return memory_read(query, entries)

        return run
    raise ValueError(kind)


def measure(case: dict, repeats: int) -> dict:
    torch.set_num_threads(case.get("threads") or torch.get_num_threads())
    # Warm the code paths (lazy imports, operator registration) on tiny inputs first, so the
    # measured peak is the case's temporaries, not one-time library loading.
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
        "first_seconds": first,
        "seconds": min(times) if times else first,
        "all_seconds": times,
        "peak_extra_bytes": peak - rss_before,
        "rss_before_bytes": rss_before,
        "torch_threads": torch.get_num_threads(),
    }


# --- driver ---------------------------------------------------------------------------------------


def cases(quick: bool, heavy: bool, optional: list[str], threads: int | None) -> list[dict]:
    impls = ["ours", "unfold", *optional]
    out = []
    for shape in ["quick"] if quick else ["train", "480p"]:
        for mode in ("forward", "forward_backward"):
            for impl in impls:
                if impl == "unfold" and shape == "480p" and not heavy:
                    continue  # ~8 GB of temporaries forward, more with backward: only with --heavy
                out.append({"kind": "correlation", "shape": shape, "mode": mode, "impl": impl})
        for impl in ("ours", "unfold"):
            if shape != "480p":
                out.append({"kind": "train_read", "shape": shape, "mode": "forward_backward", "impl": impl})
    out.append(
        {"kind": "read_480p", "shape": "quick" if quick else "480p", "mode": "forward", "impl": "ours"}
    )
    return out


def _available(name: str) -> bool:
    try:
        get_backend(name)
    except BackendUnavailable:
        return False
    return True


def run_worker(case: dict, repeats: int, timeout: float) -> dict:
    command = [sys.executable, __file__, "--worker", json.dumps(case), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        return {**case, "error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    results = []
    load_before = os.getloadavg()
    optional = [name for name in ("sampler", "cpp") if _available(name)]
    for case in cases(args.quick, args.heavy, optional, args.threads):
        result = run_worker(case, args.repeats, args.timeout)
        results.append(result)
        summary = (
            result.get("error") or f"{result['seconds']:.3f} s, +{result['peak_extra_bytes'] / 2**20:.0f} MiB"
        )
        print(
            f"{case['kind']:12s} {case['shape']:6s} {case['mode']:16s} {case['impl']:8s} {summary}",
            flush=True,
        )
    payload = {
        "schema": 1,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "shapes": SHAPES,
        "results": results,
    }
    write_json_atomic(args.out, payload)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
