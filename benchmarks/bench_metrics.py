"""Time DAVIS J&F evaluation on a DAVIS-2017-val-sized synthetic set: ours vs vos-benchmark vs the toolkit.

The set is generated deterministically into a temp folder: 30 sequences, 1999 frames at 854x480, 61 objects
(drifting ellipses), predictions = annotations shifted by a few pixels with objects dropped or grown.
Timed:
- ``mast_bench.metrics.evaluate_semisupervised`` (2 worker processes);
- ``vos_benchmark.benchmark.benchmark`` (PyPI vos-benchmark, 2 processes);
- the official toolkit's semantics: the toolkit itself is not installable here, so its straight port
  (tests/metrics/toolkit_oracle.py, serial like the toolkit) is timed on the first ``--oracle-sequences``
  sequences and the full-set time is extrapolated by frame count (said so in the JSON).
Numbers are checked: ours == the port bit for bit on the timed subset; ours x 100 == vos-benchmark per object.

    python benchmarks/bench_metrics.py [--out FILE.json] [--oracle-sequences N] [--data DIR] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from metrics.synthetic import moving_objects, perturb, write_sequence  # noqa: E402

from mast_bench.atomic import atomic_write_json  # noqa: E402
from mast_bench.metrics import evaluate_semisupervised  # noqa: E402

N_SEQUENCES, N_FRAMES, N_OBJECTS, SHAPE = 30, 1999, 61, (480, 854)


def sequence_lengths(rng: np.random.Generator) -> list[int]:
    lengths = rng.integers(40, 95, size=N_SEQUENCES)
    lengths[-1] += N_FRAMES - lengths.sum()
    while lengths.min() < 25:  # keep every sequence DAVIS-like (25..104 frames)
        i, j = int(lengths.argmin()), int(lengths.argmax())
        lengths[i] += 10
        lengths[j] -= 10
    return [int(n) for n in lengths]


def _write_sequence(base: Path, name: str, n_frames: int, n_obj: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gt = moving_objects(SHAPE, n_frames, n_obj, rng)
    write_sequence(base / "DAVIS" / "Annotations" / "480p" / name, gt)
    write_sequence(base / "results" / name, perturb(gt, rng))


def generate(base: Path, seed: int = 2017, jobs: int = 2) -> tuple[Path, Path, list[str]]:
    """Write the set into ``base`` (deterministic: one seed per sequence), or reuse a finished one."""
    lengths = sequence_lengths(np.random.default_rng(seed))
    objects = [2] * N_SEQUENCES
    objects[0] += N_OBJECTS - sum(objects)
    names = [f"synthetic-{k:02d}" for k in range(N_SEQUENCES)]
    marker = base / f"complete-{seed}"
    if not marker.exists():
        from joblib import Parallel, delayed

        Parallel(n_jobs=jobs)(
            delayed(_write_sequence)(base, name, n, k, seed * 1000 + i)
            for i, (name, n, k) in enumerate(zip(names, lengths, objects, strict=True))
        )
        split_file = base / "DAVIS" / "ImageSets" / "2017" / "val.txt"
        split_file.parent.mkdir(parents=True, exist_ok=True)
        split_file.write_text("".join(f"{n}\n" for n in names))
        marker.touch()
    return base / "DAVIS", base / "results", names


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def cpu_timed(fn):
    """CPU seconds of an in-process (serial) run: far less sensitive than wall time to other users' load."""
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def serial_cpu_seconds(root: Path, results: Path, names: list[str]) -> dict[str, float]:
    from vos_benchmark.benchmark import VideoEvaluator

    gt_root = str(root / "Annotations" / "480p")
    _, ours = cpu_timed(lambda: evaluate_semisupervised(root, results, n_jobs=1))
    _, vos = cpu_timed(lambda: [VideoEvaluator(gt_root, str(results))(n) for n in names])
    return {"mast_bench": round(ours, 2), "vos_benchmark": round(vos, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON (atomically)")
    parser.add_argument(
        "--oracle-sequences", type=int, default=3, help="sequences timed with the toolkit port"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--data", type=Path, default=None, help="generate into / reuse this folder (default: temp)"
    )
    parser.add_argument(
        "--serial-cpu", action="store_true", help="also measure serial CPU seconds (robust to machine load)"
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()

    from metrics.toolkit_oracle import toolkit_evaluate
    from vos_benchmark.benchmark import benchmark as vos_benchmark

    with tempfile.TemporaryDirectory(prefix="bench_metrics_") as tmp:
        data = args.data or Path(tmp)
        (root, results, names), gen_s = timed(lambda: generate(data, jobs=args.jobs))
        print(f"generated {len(names)} sequences in {gen_s:.1f} s")
        ours, ours_s = timed(lambda: evaluate_semisupervised(root, results, n_jobs=args.jobs))
        print(f"mast_bench.metrics: {ours_s:.2f} s  J&F {ours.global_metrics()['J&F-Mean']:.6f}")
        vos_out, vos_s = timed(
            lambda: vos_benchmark(
                [str(root / "Annotations" / "480p")], [str(results)], num_processes=args.jobs, verbose=False
            )
        )
        print(f"vos-benchmark: {vos_s:.2f} s")
        per_object = vos_out[3][0]
        po = ours.per_object
        worst = 0.0
        for _, row in po.iterrows():
            iou, boundary = per_object[row["sequence"]]
            for ours_v, theirs in (
                (row["J-Mean"], iou[row["object"]]),
                (row["F-Mean"], boundary[row["object"]]),
            ):
                worst = max(worst, abs(ours_v * 100 - theirs) / max(abs(theirs), 1e-300))
        same_objects = sum(len(v[0]) for v in per_object.values()) == len(po)
        print(f"vs vos-benchmark: same objects {same_objects}, max relative difference {worst:.2e}")

        subset = names[: args.oracle_sequences]
        subset_frames = sum(len(list((root / "Annotations" / "480p" / s).glob("*.png"))) for s in subset)
        (oracle_out, oracle_s), oracle_cpu = cpu_timed(
            lambda: timed(lambda: toolkit_evaluate(root, results, subset))
        )
        _, _, oracle_frames = oracle_out
        identical = all(
            np.array_equal(
                ours.per_frame[(ours.per_frame["sequence"] == s) & (ours.per_frame["object"] == o + 1)][
                    m
                ].to_numpy(),
                arrays[o],
            )
            for s, (j, f) in oracle_frames.items()
            for m, arrays in (("J", j), ("F", f))
            for o in range(j.shape[0])
        )
        extrapolated = oracle_s * N_FRAMES / subset_frames
        cpu = serial_cpu_seconds(root, results, names) if args.serial_cpu else {}
        if cpu:
            cpu["toolkit_port_extrapolated"] = round(oracle_cpu * N_FRAMES / subset_frames, 1)
            print(f"serial CPU seconds: {cpu}")
        print(
            f"toolkit port: {oracle_s:.2f} s on {len(subset)} sequences ({subset_frames} frames), "
            f"~{extrapolated:.1f} s extrapolated; per-frame identical: {identical}"
        )

    figures = {
        "dataset": {
            "sequences": N_SEQUENCES,
            "frames": N_FRAMES,
            "objects": int(len(po)),
            "size": list(SHAPE),
        },
        "seconds": {
            "mast_bench": round(ours_s, 3),
            "vos_benchmark": round(vos_s, 3),
            "toolkit_port_subset": round(oracle_s, 3),
            "toolkit_port_extrapolated": round(extrapolated, 1),
        },
        "serial_cpu_seconds": cpu or None,
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "toolkit_port_subset": {"sequences": len(subset), "frames": subset_frames},
        "speedup": {
            "vs_vos_benchmark": round(vos_s / ours_s, 2),
            "vs_toolkit_port": round(extrapolated / ours_s, 2),
        },
        "checks": {
            "identical_to_toolkit_port_on_subset": bool(identical),
            "same_objects_as_vos_benchmark": bool(same_objects),
            "max_relative_difference_vs_vos_benchmark": worst,
        },
        "global": ours.global_metrics(),
        "jobs": args.jobs,
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cpus": _cpus()},
        "note": "toolkit timing: straight port of davis2017-evaluation (not installable here), extrapolated",
    }
    if args.out:
        atomic_write_json(args.out, figures)
        print(f"wrote {args.out}")
    return 0 if identical and same_objects and worst < 1e-12 else 1


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
