"""Time DAVIS J&F evaluation: ours vs vos-benchmark (and the toolkit), on the same frames in the same run.

``--real DAVIS_ROOT``: real DAVIS annotations (e.g. ../shared/data/davis-mini), each sequence copied
``--copies`` times, predictions = the annotation shifted by a few pixels (real boundaries, scores
below 1). Timed as a user runs them, each a fresh process, interleaved ``--repeats`` times:
``mast-bench evaluate --jobs 2`` (the command: start-up, scoring, the toolkit's CSVs) against
``vos_benchmark.benchmark.benchmark(..., num_processes=2)``; the medians and their ratio are written.
Per-object J and F are checked equal (x100) first.

Without ``--real``: a DAVIS-2017-val-sized synthetic set, timed in-process:

The set is generated deterministically into a temp folder: 30 sequences, 1999 frames at 854x480, 61 objects
(drifting ellipses), predictions = annotations shifted by a few pixels with objects dropped or grown.
Timed:
- ``mast_bench.metrics.evaluate_semisupervised`` (2 threads);
- ``vos_benchmark.benchmark.benchmark`` (PyPI vos-benchmark, 2 processes);
- the official toolkit's semantics: the toolkit itself is not installable here, so its straight port
  (tests/support/toolkit_oracle.py, serial like the toolkit) is timed on the first ``--oracle-sequences``
  sequences and the full-set time is extrapolated by frame count (said so in the JSON).
Numbers are checked: ours == the port bit for bit on the timed subset; ours x 100 == vos-benchmark per object.

    python benchmarks/bench_metrics.py [--out FILE.json] [--oracle-sequences N] [--data DIR] [--jobs 2]
    python benchmarks/bench_metrics.py --real ../shared/data/davis-mini [--copies 5] [--repeats 5] [--out F]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from support.label_sets import moving_objects, perturb, write_sequence  # noqa: E402

from mast_bench.atomic import atomic_write_json  # noqa: E402
from mast_bench.metrics import evaluate_semisupervised  # noqa: E402
from mast_bench.threads import available_cpus  # noqa: E402

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


def real_set(davis_root: Path, base: Path, copies: int) -> tuple[Path, Path, int]:
    """(annotations root, predictions root, frames): every sequence of ``davis_root`` ``copies``
    times; a prediction is its annotation shifted by a deterministic few pixels."""
    from mast_bench.data.palette import read_label_map, write_label_map

    rng = np.random.default_rng(0)
    annotations, predictions, frames = base / "Annotations" / "480p", base / "predictions", 0
    for copy in range(copies):
        for source in sorted((davis_root / "Annotations" / "480p").iterdir()):
            name = f"{source.name}-{copy}"
            shift = tuple(int(v) for v in rng.integers(-6, 7, 2))
            for png in sorted(source.glob("*.png")):
                truth = read_label_map(png, allow_grey=True)
                write_label_map(annotations / name / png.name, truth)
                write_label_map(predictions / name / png.name, np.roll(truth, shift, axis=(0, 1)))
                frames += 1
    names = sorted(p.name for p in annotations.iterdir())
    (base / "ImageSets" / "2017").mkdir(parents=True)
    (base / "ImageSets" / "2017" / "val.txt").write_text("".join(f"{n}\n" for n in names))
    return annotations, predictions, frames


VOS_BENCHMARK = (
    "import sys; from vos_benchmark.benchmark import benchmark; "
    "benchmark([sys.argv[1]], [sys.argv[2]], num_processes=int(sys.argv[3]), verbose=False)"
)


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def compare_real(davis_root: Path, copies: int, repeats: int, jobs: int) -> dict:
    """The two evaluators as processes on the same real frames, interleaved; medians and the ratio."""
    from vos_benchmark.benchmark import benchmark as vos_benchmark

    with tempfile.TemporaryDirectory(prefix="bench_metrics_real_") as tmp:
        base = Path(tmp)
        annotations, predictions, frames = real_set(davis_root, base, copies)
        ours = evaluate_semisupervised(base, predictions, n_jobs=jobs)
        theirs = vos_benchmark([str(annotations)], [str(predictions)], num_processes=jobs, verbose=False)[3][
            0
        ]
        worst = max(
            abs(row[metric] * 100 - theirs[row["sequence"]][k][row["object"]])
            for _, row in ours.per_object.iterrows()
            for k, metric in enumerate(("J-Mean", "F-Mean"))
        )
        script = shutil.which("mast-bench") or str(Path(sys.executable).with_name("mast-bench"))
        mast = [script, "evaluate", "--data", str(base), "--masks", str(predictions), "--jobs", str(jobs)]
        vos = [sys.executable, "-c", VOS_BENCHMARK, str(annotations), str(predictions), str(jobs)]
        times: dict[str, list[float]] = {"mast_bench_evaluate": [], "vos_benchmark": []}
        for _ in range(repeats):
            times["mast_bench_evaluate"].append(wall_seconds(mast))
            times["vos_benchmark"].append(wall_seconds(vos))
    medians = {name: round(statistics.median(values), 3) for name, values in times.items()}
    ratio = medians["vos_benchmark"] / medians["mast_bench_evaluate"]
    print(
        f"{frames} real frames: mast-bench evaluate {medians['mast_bench_evaluate']} s, vos-benchmark "
        f"{medians['vos_benchmark']} s (medians of {repeats}): {ratio:.2f}x; J, F x100 within {worst:.1e}"
    )
    return {
        "dataset": {"source": str(davis_root), "copies": copies, "frames": frames,
                    "sequences": copies * len(list((davis_root / "Annotations" / "480p").iterdir()))},
        "seconds": times,
        "median_seconds": medians,
        "speedup_vs_vos_benchmark": round(ratio, 2),
        "max_abs_difference_x100_vs_vos_benchmark": worst,
        "jobs": jobs,
    }  # fmt: skip


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument("--real", type=Path, default=None, help="a DAVIS root whose annotations are timed")
    parser.add_argument("--copies", type=int, default=5, help="with --real: copies of each sequence")
    parser.add_argument("--repeats", type=int, default=5, help="with --real: timed runs of each evaluator")
    return parser


def worst_relative_difference(ours, per_object: dict) -> float:
    """The largest relative difference of our per-object J and F means (x100) from vos-benchmark's."""
    worst = 0.0
    for _, row in ours.per_object.iterrows():
        iou, boundary = per_object[row["sequence"]]
        for ours_value, theirs in (
            (row["J-Mean"], iou[row["object"]]),
            (row["F-Mean"], boundary[row["object"]]),
        ):
            worst = max(worst, abs(ours_value * 100 - theirs) / max(abs(theirs), 1e-300))
    return worst


def identical_to_port(ours, oracle_frames: dict) -> bool:
    """Whether every per-frame J and F of the toolkit port's sequences equals ours, bit for bit."""
    frames = ours.per_frame
    return all(
        np.array_equal(
            frames[(frames["sequence"] == sequence) & (frames["object"] == obj + 1)][metric].to_numpy(),
            arrays[obj],
        )
        for sequence, (j, f) in oracle_frames.items()
        for metric, arrays in (("J", j), ("F", f))
        for obj in range(j.shape[0])
    )


def compare_generated(args: argparse.Namespace, root: Path, results: Path, names: list[str]) -> dict:
    """Ours, vos-benchmark and the toolkit port (on a subset, extrapolated) on the generated set."""
    from support.toolkit_oracle import toolkit_evaluate
    from vos_benchmark.benchmark import benchmark as vos_benchmark

    ours, ours_s = timed(lambda: evaluate_semisupervised(root, results, n_jobs=args.jobs))
    print(f"mast_bench.metrics: {ours_s:.2f} s  J&F {ours.global_metrics()['J&F-Mean']:.6f}")
    annotations = [str(root / "Annotations" / "480p")]
    vos_out, vos_s = timed(
        lambda: vos_benchmark(annotations, [str(results)], num_processes=args.jobs, verbose=False)
    )
    print(f"vos-benchmark: {vos_s:.2f} s")
    per_object = vos_out[3][0]
    worst = worst_relative_difference(ours, per_object)
    same_objects = sum(len(v[0]) for v in per_object.values()) == len(ours.per_object)
    print(f"vs vos-benchmark: same objects {same_objects}, max relative difference {worst:.2e}")

    subset = names[: args.oracle_sequences]
    subset_frames = sum(len(list((root / "Annotations" / "480p" / s).glob("*.png"))) for s in subset)
    (oracle_out, oracle_s), oracle_cpu = cpu_timed(
        lambda: timed(lambda: toolkit_evaluate(root, results, subset))
    )
    identical = identical_to_port(ours, oracle_out[2])
    extrapolated = oracle_s * N_FRAMES / subset_frames
    cpu = serial_cpu_seconds(root, results, names) if args.serial_cpu else {}
    if cpu:
        cpu["toolkit_port_extrapolated"] = round(oracle_cpu * N_FRAMES / subset_frames, 1)
        print(f"serial CPU seconds: {cpu}")
    print(
        f"toolkit port: {oracle_s:.2f} s on {len(subset)} sequences ({subset_frames} frames), "
        f"~{extrapolated:.1f} s extrapolated; per-frame identical: {identical}"
    )
    return {
        "dataset": {"sequences": N_SEQUENCES, "frames": N_FRAMES, "objects": int(len(ours.per_object)),
                    "size": list(SHAPE)},
        "seconds": {"mast_bench": round(ours_s, 3), "vos_benchmark": round(vos_s, 3),
                    "toolkit_port_subset": round(oracle_s, 3),
                    "toolkit_port_extrapolated": round(extrapolated, 1)},
        "serial_cpu_seconds": cpu or None,
        "toolkit_port_subset": {"sequences": len(subset), "frames": subset_frames},
        "speedup": {"vs_vos_benchmark": round(vos_s / ours_s, 2),
                    "vs_toolkit_port": round(extrapolated / ours_s, 2)},
        "checks": {"identical_to_toolkit_port_on_subset": bool(identical),
                   "same_objects_as_vos_benchmark": bool(same_objects),
                   "max_relative_difference_vs_vos_benchmark": worst},
        "global": ours.global_metrics(),
        "jobs": args.jobs,
        "note": "toolkit timing: straight port of davis2017-evaluation (not installable here), extrapolated",
    }  # fmt: skip


def passed(figures: dict) -> bool:
    if "checks" not in figures:  # --real
        return figures["max_abs_difference_x100_vs_vos_benchmark"] < 1e-9
    checks = figures["checks"]
    return (
        checks["identical_to_toolkit_port_on_subset"]
        and checks["same_objects_as_vos_benchmark"]
        and checks["max_relative_difference_vs_vos_benchmark"] < 1e-12
    )


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(words)
    load_before = os.getloadavg()
    if args.real is not None:
        figures = compare_real(args.real, args.copies, args.repeats, args.jobs)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_metrics_") as tmp:
            (root, results, names), gen_s = timed(lambda: generate(args.data or Path(tmp), jobs=args.jobs))
            print(f"generated {len(names)} sequences in {gen_s:.1f} s")
            figures = compare_generated(args, root, results, names)
    from mast_bench.harness.provenance import cpu_model  # torch comes with it: after the timings

    figures.update(
        load_average_1min={"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        machine={"python": platform.python_version(), "cpu_model": cpu_model(), "cpus": available_cpus()},
        command=shlex.join(["python", "benchmarks/bench_metrics.py", *words]),
    )
    if args.out:
        atomic_write_json(args.out, figures)
        print(f"wrote {args.out}")
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
