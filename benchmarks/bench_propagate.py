"""Propagation cost with the native kernels and with the reference path, idle and beside a neighbour.

    python benchmarks/bench_propagate.py --out bench-results/propagate.json [--frames 0] [--size 240x432]
        [--sequence bmx-trees] [--davis ../shared/data/davis-mini] [--weights PATH | --random-init]
        [--threads N]

All frames (--frames 0) of one davis-mini sequence, resized to --size (H x W; bilinear frames,
nearest labels), propagated with the mast-official variant (the official reference schedule).
Every run is a fresh worker process with MAST_BENCH_KERNELS set (so its peak RSS is its own: the
high-water mark is reset once the model and the frames are loaded) and reports s/frame, encoder
and memory-read s/frame, the read's share and the peak RSS. Each kernel path runs twice: on the
idle machine and while a second process runs a 2-thread float32 matmul loop (the slowdown shows
how the path copes with contention: every small torch op of the reference path is an OpenMP region
that waits for all its threads).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_ops import machine_description, write_json_atomic  # noqa: E402

DEFAULT_DAVIS = REPO.parent / "shared" / "data" / "davis-mini"
DEFAULT_WEIGHTS = REPO.parent / "shared" / "reference" / "mast-official-cpu" / "weights_seed0_scaled.pt"
NEIGHBOUR = "import torch\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\nwhile True:\n    a @ a\n"


# --- in the worker ----------------------------------------------------------------------------------


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} missing from /proc/self/status")


def read_clip(davis: Path, sequence: str, frames: int | None, size: tuple[int, int]):
    """RGB uint8 frames (H, W, 3) and the first label map, resized to size = (H, W)."""
    import numpy as np
    from PIL import Image

    names = sorted((davis / "JPEGImages" / "480p" / sequence).glob("*.jpg"))[: frames or None]
    if not names:
        raise SystemExit(f"no frames in {davis / 'JPEGImages' / '480p' / sequence}")
    height, width = size
    rgb = [np.asarray(Image.open(p).convert("RGB").resize((width, height), Image.BILINEAR)) for p in names]
    first = Image.open(davis / "Annotations" / "480p" / sequence / f"{names[0].stem}.png")
    return rgb, np.asarray(first.resize((width, height), Image.NEAREST))


class Timers:
    """Seconds spent in model.encode and model.read (wrapped on the instance)."""

    def __init__(self, model) -> None:
        self.encoder = self.read = 0.0
        encode, read = model.encode, model.read

        def timed_encode(*args, **kwargs):
            start = time.perf_counter()
            out = encode(*args, **kwargs)
            self.encoder += time.perf_counter() - start
            return out

        def timed_read(*args, **kwargs):
            start = time.perf_counter()
            out = read(*args, **kwargs)
            self.read += time.perf_counter() - start
            return out

        model.encode, model.read = timed_encode, timed_read


def measure(job: dict) -> dict:
    import torch

    from mast_bench.model import MAST
    from mast_bench.model.checkpoint import load_weights
    from mast_bench.model.official_loop import propagate_steps
    from mast_bench.ops import kernel_path
    from mast_bench.variants import get_variant

    if job["threads"]:
        torch.set_num_threads(job["threads"])
    model = MAST(get_variant(job["variant"]))
    if job["weights"]:
        load_weights(model, job["weights"])
    model.eval()
    frames, first = read_clip(Path(job["davis"]), job["sequence"], job["frames"], tuple(job["size"]))
    warm = list(propagate_steps(model, frames[:2], first))  # imports, kernel loading, allocator
    assert len(warm) == 1
    timers = Timers(model)
    rss_before = _status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    start = time.perf_counter()
    steps = sum(1 for _ in propagate_steps(model, frames, first))
    seconds = time.perf_counter() - start
    per_frame = seconds / max(steps, 1)
    return {
        "kernel_path": kernel_path("cpu"),
        "frames": steps,
        "frame_size": list(job["size"]),
        "seconds": seconds,
        "seconds_per_frame": per_frame,
        "encoder_seconds_per_frame": timers.encoder / max(steps, 1),
        "read_seconds_per_frame": timers.read / max(steps, 1),
        "read_share": timers.read / seconds if seconds else None,
        "peak_rss_bytes": _status_bytes("VmHWM"),
        "rss_before_bytes": rss_before,
        "torch_threads": torch.get_num_threads(),
    }


# --- driver -----------------------------------------------------------------------------------------


def run_worker(job: dict, impl: str, timeout: float, wait_policy: str | None) -> dict:
    env = {**os.environ, "MAST_BENCH_KERNELS": impl}
    if wait_policy:  # as the commands' workers get it (OMP_WAIT_POLICY=PASSIVE unless the user set one)
        env["OMP_WAIT_POLICY"] = wait_policy
    command = [sys.executable, __file__, "--worker", json.dumps(job)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_neighbour() -> subprocess.Popen:
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], start_new_session=True)
    time.sleep(3.0)  # torch imported, the loop running
    return neighbour


def stop_neighbour(neighbour: subprocess.Popen) -> None:
    os.killpg(neighbour.pid, signal.SIGTERM)
    neighbour.wait(timeout=30)


def summary(runs: dict) -> dict:
    def per_frame(impl, load):
        run = runs.get(f"{impl}/{load}", {})
        return run.get("seconds_per_frame")

    out = {}
    for impl in ("native", "reference"):
        idle, busy = per_frame(impl, "idle"), per_frame(impl, "busy")
        out[f"{impl}_slowdown_beside_neighbour"] = busy / idle if idle and busy else None
    for load in ("idle", "busy"):
        native, reference = per_frame("native", load), per_frame("reference", load)
        out[f"reference_over_native_{load}"] = reference / native if native and reference else None
    return out


def parse_size(text: str) -> list[int]:
    height, width = (int(v) for v in text.lower().split("x"))
    return [height, width]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="JSON file to write (atomically)")
    parser.add_argument("--davis", default=str(DEFAULT_DAVIS))
    parser.add_argument("--sequence", default="bmx-trees")
    parser.add_argument("--frames", type=int, default=0, help="first N frames (0 = all)")
    parser.add_argument("--size", type=parse_size, default=[240, 432], help="H x W, default 240x432")
    parser.add_argument("--variant", default="mast-official")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS) if DEFAULT_WEIGHTS.is_file() else None)
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--threads", type=int, help="torch threads in the workers (default: torch's own)")
    parser.add_argument("--impls", default="native,reference")
    parser.add_argument("--no-neighbour", action="store_true", help="skip the runs beside a busy process")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument(
        "--wait-policy",
        default=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        help="OMP_WAIT_POLICY of the workers (default: the commands' own, PASSIVE; '' leaves it unset)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker))))
        return 0
    if args.out is None:
        parser.error("--out is required")
    job = {
        "variant": args.variant,
        "weights": None if args.random_init else args.weights,
        "davis": args.davis,
        "sequence": args.sequence,
        "frames": args.frames or None,
        "size": args.size,
        "threads": args.threads,
    }
    load_before = os.getloadavg()
    machine = machine_description()
    runs = {}
    for load in ("idle",) if args.no_neighbour else ("idle", "busy"):
        for impl in args.impls.split(","):
            neighbour = start_neighbour() if load == "busy" else None
            try:
                runs[f"{impl}/{load}"] = run_worker(job, impl, args.timeout, args.wait_policy)
            finally:
                if neighbour is not None:
                    stop_neighbour(neighbour)
            run = runs[f"{impl}/{load}"]
            print(
                f"{impl:9s} {load:4s} "
                + (
                    run.get("error")
                    or f"{run['frames']} frames: {run['seconds_per_frame']:.3f} s/frame (encoder "
                    f"{run['encoder_seconds_per_frame']:.3f}, read {run['read_seconds_per_frame']:.3f} = "
                    f"{100 * run['read_share']:.0f}%), peak RSS {run['peak_rss_bytes'] / 2**30:.2f} GiB"
                ),
                flush=True,
            )
    payload = {
        "schema": 2,
        "command": [sys.executable, *sys.argv],
        "machine": machine,
        "job": job,
        "omp_wait_policy": args.wait_policy or None,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "runs": runs,
        "summary": summary(runs),
    }
    print(json.dumps(payload["summary"], indent=1))
    write_json_atomic(args.out, payload)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
