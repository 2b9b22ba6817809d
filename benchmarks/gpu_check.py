"""One command that checks the CUDA memory engine on a GPU machine and measures it.

    PYTHONPATH=. python3 benchmarks/gpu_check.py --out DIR --reference DIR [--frames 60] [--dry-run]
        [--footage DIR --davis DIR [--work DIR] [--train-budget 240] [--total-budget 480]]

Needs only python3 with torch (CUDA) and triton, numpy, pillow, opencv and pytest: nothing that
imports av, dask or submitit is touched (they are blocked, so an accidental import fails loudly).
--reference is a folder holding the official-code outputs this check compares with: clip/ (the
frames and anno_00000.png), prop_seed0_scaled_buggy.npz and weights_seed0_scaled.pt. Steps, each
timed, written to DIR/gpu_check.json after each one (a run cut short still reports):

1. kernel tests: pytest on the Triton tests (GPU kernels, custom operators, opcheck, gradcheck,
   the CUDA read against the CPU read);
2. the official reference clip on CUDA: labels identical to the official (CPU) outputs in IEEE
   fp32 (what evaluation runs), and the share of pixels that TF32 changes;
3. one bf16-autocast training step (finite loss and gradients);
4. the benchmark: 480p propagation with the fp32 encoder, in IEEE fp32 and with TF32 (frames/s,
   the memory read's share of the frame time, peak CUDA memory) and the time a DAVIS-2017-val-sized
   run (1999 frames) takes;
5. with --footage and --davis: the GPU training recipe (benchmarks/gpu_train.py) in --work: training
   speed per stage at 256x256, batch 12, bf16; the gpu preset's three stages fitted to
   the smaller of --train-budget seconds and what --total-budget leaves after the earlier steps, on
   the real footage; its learning curve on davis-mini beside random init
   and Lab pixels. DIR gets DIR/gpu_train.json and DIR/training-report.tar.gz (report/: report.md,
   figures, tables, the study's records): the device machine returns at most eight files.

`scripts/gpu-prepare` copies what this needs into .gpu-carry/ and prints the command.

Without CUDA it says so and exits with status 2, unless --dry-run: then the same steps run on CPU
with tiny sizes (the Triton tests under the interpreter), to check the plumbing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the checkout, installed or not
sys.path.insert(0, str(REPO / "benchmarks"))
BLOCKED = ("av", "dask", "distributed", "submitit")  # absent on the GPU machine
DAVIS_VAL_FRAMES = 1999
TRAINING_OVERHEAD = 200.0  # seconds of the training step that are not steps: set-up, speeds, scoring
CLIP_WEIGHTS = "weights_seed0_scaled.pt"
CLIP_OUTPUTS = "prop_seed0_scaled_buggy.npz"


def block_absent_packages() -> None:
    for name in BLOCKED:
        sys.modules[name] = None  # type: ignore[assignment]  # `import av` now raises ImportError


def timed(name: str, results: dict, step) -> None:
    start = time.perf_counter()
    try:
        results[name] = step()
    except Exception as exc:  # a failed step is recorded; the others still run
        results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    results[name]["seconds"] = time.perf_counter() - start
    verdict = "ok" if results[name].get("ok") else "FAILED"
    if results[name].get("skipped"):
        verdict = f"skipped: {results[name]['skipped']}"
    print(f"[gpu_check] {name}: {verdict} ({results[name]['seconds']:.1f} s)", flush=True)


# --- 1. kernel tests ------------------------------------------------------------------------------


def kernel_tests(dry_run: bool) -> dict:
    if dry_run and importlib.util.find_spec("triton") is None:  # a rehearsal, not a failed kernel
        return {"ok": True, "skipped": "triton is not installed in this Python (the `triton` extra)"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("TRITON_INTERPRET", None)  # tests/conftest.py chooses: GPU, or the interpreter without one
    tests = ["tests/ops/test_triton_kernels.py"]
    if not dry_run:
        tests.append("tests/ops/test_flops.py::test_cuda_results_equal_cpu_results")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    if dry_run and done.returncode == 5:  # nothing ran: the module skipped itself (Triton's interpreter)
        reasons = [line.split(": ", 1)[-1] for line in lines if line.startswith("SKIPPED")]
        return {
            "ok": True,
            "skipped": "; ".join(reasons) or "no kernel test ran",
            "command": " ".join(command),
        }
    tail = lines[-15:]
    return {
        "ok": done.returncode == 0,
        "command": " ".join(command),
        "returncode": done.returncode,
        "tail": tail,
    }


# --- 2. the official reference clip ---------------------------------------------------------------


def read_clip(reference: Path, count: int, size: tuple[int, int] | None = None):
    """RGB uint8 frames of the reference clip and its first label map (size = (W, H) resizes)."""
    import numpy as np
    from PIL import Image

    frames, first = [], Image.open(reference / "clip" / "anno_00000.png")
    for index in range(count):
        image = Image.open(reference / "clip" / f"{index:05d}.png").convert("RGB")
        frames.append(np.asarray(image.resize(size, Image.BILINEAR) if size else image))
    if size:
        first = first.resize(size, Image.NEAREST)
    return frames, np.asarray(first)


def official_model(reference: Path, device):
    from mast_bench.model import MAST
    from mast_bench.model.checkpoint import load_weights
    from mast_bench.variants import get_variant

    model = MAST(get_variant("mast-official"))
    load_weights(model, reference / CLIP_WEIGHTS)
    return model.to(device).eval()


def clip_mismatches(reference: Path, device, frames: int, mode: str) -> dict:
    import numpy as np

    from mast_bench.model.official_loop import propagate_steps
    from mast_bench.model.precision import fp32_precision

    expected = np.load(reference / CLIP_OUTPUTS)["pred_labels"]
    model = official_model(reference, device)
    clip, first = read_clip(reference, frames)
    mismatches = {}
    with fp32_precision(mode):
        for step in propagate_steps(model, clip, first, device=device, object_ids=range(1, 7)):
            mismatches[step.target] = int((step.labels.cpu().numpy() != expected[step.target - 1]).sum())
    pixels = first.size * len(mismatches)
    return {"frames": len(mismatches), "mismatched_pixels": mismatches,
            "mismatched_share": sum(mismatches.values()) / pixels}  # fmt: skip


def official_clip(reference: Path, device, frames: int) -> dict:
    """Labels against the official outputs in IEEE fp32 (must be identical) and with TF32 (reported)."""
    runs = {mode: clip_mismatches(reference, device, frames, mode) for mode in ("ieee", "tf32")}
    return {"ok": not any(runs["ieee"]["mismatched_pixels"].values()), **runs}


# --- 3. bf16 training step ------------------------------------------------------------------------


def bf16_training_step(reference: Path, device, size: tuple[int, int]) -> dict:
    import torch

    from mast_bench.model.colour import prepare_frame
    from mast_bench.model.train_step import reconstruction_loss

    model = official_model(reference, device).train()
    clip, _ = read_clip(reference, 2, size)
    ref, target = (prepare_frame(frame, "lab")[None].to(device) for frame in clip)
    with torch.autocast(device.type, dtype=torch.bfloat16):
        loss, _ = reconstruction_loss(model, [ref], target, dropped_channel=0)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    finite = bool(torch.isfinite(loss)) and all(bool(torch.isfinite(g).all()) for g in grads)
    return {"ok": finite and bool(grads), "loss": float(loss.detach()), "parameters_with_grad": len(grads)}


# --- 4. the benchmark -----------------------------------------------------------------------------


def looped(frames: list, count: int) -> list:
    """``count`` frames going back and forth through the clip (a smooth video of any length)."""
    cycle = frames + frames[-2:0:-1]
    return [cycle[i % len(cycle)] for i in range(count)]


def timed_propagation(reference: Path, device, frames: int, size: tuple[int, int]) -> dict:
    import torch

    from mast_bench.model.official_loop import propagate_steps
    from mast_bench.ops import kernel_path

    model = official_model(reference, device)
    clip, first = read_clip(reference, 25, size)
    video = looped(clip, frames)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    read_seconds = [0.0]
    read = model.read

    def timed_read(*args, **kwargs):
        sync()
        start = time.perf_counter()
        out = read(*args, **kwargs)
        sync()
        read_seconds[0] += time.perf_counter() - start
        return out

    for _ in propagate_steps(model, video[:3], first, device=device, object_ids=range(1, 7)):
        pass  # warm-up: kernel compilation, allocator
    model.read = timed_read
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    read_seconds[0] = 0.0
    sync()
    start = time.perf_counter()
    steps = sum(1 for _ in propagate_steps(model, video, first, device=device, object_ids=range(1, 7)))
    sync()
    seconds = time.perf_counter() - start
    fps = steps / seconds
    return {
        "ok": steps == frames - 1,
        "kernel_path": kernel_path(device),
        "frame_size": [size[1], size[0]],
        "frames": steps,
        "seconds": seconds,
        "frames_per_second": fps,
        "read_seconds_per_frame": read_seconds[0] / steps,
        "read_share": read_seconds[0] / seconds,
        "peak_cuda_memory_bytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
        "davis_val_frames": DAVIS_VAL_FRAMES,
        "davis_val_estimate_seconds": DAVIS_VAL_FRAMES / fps,
    }


def benchmark(reference: Path, device, frames: int, size: tuple[int, int]) -> dict:
    """The propagation benchmark in IEEE fp32 (what evaluation runs) and with TF32 (what it would buy)."""
    from mast_bench.model.precision import fp32_precision

    runs = {}
    for mode in ("ieee", "tf32"):
        with fp32_precision(mode):
            runs[mode] = timed_propagation(reference, device, frames, size)
    return {"ok": all(run["ok"] for run in runs.values()), **runs}


# --- 5. the training recipe ----------------------------------------------------------------------


def training(args, started: float) -> dict:
    """benchmarks/gpu_train.py on the footage: speeds, the fitted gpu preset, its learning curve.

    It works in --work (thousands of files: caches, masks, records); only its summary and its report,
    packed as one archive, go to --out, since the device machine returns at most eight files."""
    import gpu_train

    work = args.work / "training"
    left = args.total_budget - (time.perf_counter() - started) - TRAINING_OVERHEAD
    budget = max(60.0, min(args.train_budget, left))
    words = ["--footage", str(args.footage), "--davis", str(args.davis), "--out", str(work),
             "--budget", str(budget), *(["--dry-run"] if args.dry_run else [])]  # fmt: skip
    status = gpu_train.main(words)
    summary = {}
    if status == 0:
        summary = json.loads((work / "gpu_train.json").read_text())
        shutil.copy2(work / "gpu_train.json", args.out / "gpu_train.json")
        with tarfile.open(args.out / "training-report.tar.gz", "w:gz") as archive:
            archive.add(work / "report", arcname="report")
    keep = ("speeds_256_batch12", "iteration_factor", "train", "scores", "verdicts", "seconds")
    return {"ok": status == 0, "step_budget_seconds": budget, **{k: summary.get(k) for k in keep}}


def save(path: Path, results: dict) -> None:
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=1) + "\n")
    partial.replace(path)


def describe(device) -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "device": str(device)}
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json (a few files)")
    parser.add_argument(
        "--work", type=Path, help="scratch folder of the training step (default: a temporary one)"
    )
    parser.add_argument(
        "--reference", type=Path, default=REPO.parent / "shared" / "reference" / "mast-official-cpu"
    )
    parser.add_argument("--frames", type=int, default=60, help="frames of the 480p benchmark")
    parser.add_argument("--dry-run", action="store_true", help="no GPU: run every step on CPU, tiny sizes")
    parser.add_argument("--footage", type=Path, help="real footage (videos) for the training step")
    parser.add_argument("--davis", type=Path, help="evaluation data of the training step (davis-mini)")
    parser.add_argument("--train-budget", type=float, default=240.0, help="seconds of training steps")
    parser.add_argument(
        "--total-budget", type=float, default=480.0,
        help="seconds for the whole check: the training steps get what the earlier steps left",
    )  # fmt: skip
    args = parser.parse_args(argv)
    block_absent_packages()
    import torch

    if not torch.cuda.is_available() and not args.dry_run:
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False); nothing checked. "
              "Use --dry-run to check the script's plumbing on CPU.", file=sys.stderr)  # fmt: skip
        return 2
    missing = [n for n in ("clip", CLIP_OUTPUTS, CLIP_WEIGHTS) if not (args.reference / n).exists()]
    if missing:
        print(
            f"gpu_check: {args.reference} lacks {', '.join(missing)} (the official reference files)",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    device = torch.device("cpu" if args.dry_run else "cuda")
    results: dict = {
        "machine": describe(device),
        "dry_run": args.dry_run,
        "command": [sys.executable, *sys.argv],
    }
    train_size = (112, 64) if args.dry_run else (432, 240)
    bench_size, bench_frames = ((216, 120), 4) if args.dry_run else ((854, 480), args.frames)
    steps = {
        "kernel_tests": lambda: kernel_tests(args.dry_run),
        "official_clip": lambda: official_clip(args.reference, device, 4 if args.dry_run else 25),
        "bf16_training_step": lambda: bf16_training_step(args.reference, device, train_size),
        "benchmark_480p": lambda: benchmark(args.reference, device, bench_frames, bench_size),
    }
    if args.footage and args.davis:
        args.work = args.work or Path(tempfile.mkdtemp(prefix="mast-bench-gpu-"))
        steps["training"] = lambda: training(args, started)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, step in steps.items():  # saved after every step: a run cut short still reports
        timed(name, results, step)
        done = [k for k in steps if k in results]
        results["ok"] = len(done) == len(steps) and all(results[k].get("ok") for k in done)
        save(args.out / "gpu_check.json", results)
    verdict = "all ok" if results["ok"] else "SOME STEPS FAILED"
    print(f"[gpu_check] {verdict}; wrote {args.out / 'gpu_check.json'}")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
