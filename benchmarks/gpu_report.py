"""What a GPU check measured, against the GPU issue's targets: bench-results/gpu.json and a table.

    python benchmarks/gpu_report.py FILES_AT [--out bench-results/gpu.json]

FILES_AT is the folder the device run's $OUT came back to (gpu_check.json, and gpu_train.json when
the training step ran). Writes one JSON (the command, the machine with torch/Triton/CUDA versions,
every measured figure, each target with its verdict and the margin) and prints the Markdown table
that goes into the README. A target whose step did not run or failed reads "not measured", never met.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

GIB = 2**30


@dataclass(frozen=True)
class Verdict:
    what: str
    target: str
    measured: str
    met: bool | None  # None: not measured


def _get(data: dict, *keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


LABELS = "CUDA labels = official CPU labels (IEEE fp32)"
PAIRS = "training throughput, pairs, 256x256, batch 12, bf16"
NOT_MEASURED = "not measured"


def label_verdicts(check: dict) -> list[Verdict]:
    ieee, tf32 = _get(check, "official_clip", "ieee"), _get(check, "official_clip", "tf32")
    if ieee is None:
        return [Verdict(LABELS, "0 pixels differ", NOT_MEASURED, None)]
    wrong = sum(ieee["mismatched_pixels"].values())
    measured = f"{wrong} pixels differ over {ieee['frames']} frames"
    rows = [Verdict(LABELS, "0 pixels differ", measured, wrong == 0)]
    if tf32 is not None:
        share = f"{100 * tf32['mismatched_share']:.3f} % of pixels differ"
        rows.append(Verdict("the same with TF32 (for information)", "-", share, None))
    return rows


def speed_verdicts(check: dict) -> list[Verdict]:
    rows = []
    for mode in ("ieee", "tf32"):
        run = _get(check, "benchmark_480p", mode)
        if run is None:
            what = f"propagation at 480p, 5 references, {mode}"
            rows.append(Verdict(what, ">= 60 frames/s", NOT_MEASURED, None))
            continue
        height, width = run["frame_size"]
        what = f"propagation {width}x{height}, 5 references, {mode}"
        fps, peak = run["frames_per_second"], run["peak_cuda_memory_bytes"]
        speed = f"{fps:.1f} frames/s (memory read {100 * run['read_share']:.0f} % of it)"
        memory = NOT_MEASURED if peak is None else f"{peak / GIB:.2f} GiB"
        small = None if peak is None else peak <= 2 * GIB
        val, val_frames = run["davis_val_estimate_seconds"], run["davis_val_frames"]
        rows += [
            Verdict(f"{what}: speed", ">= 60 frames/s", speed, fps >= 60),
            Verdict(f"{what}: peak CUDA memory", "<= 2 GiB", memory, small),
            Verdict(f"DAVIS-2017 val ({val_frames} frames), {mode}", "< 60 s", f"{val:.0f} s", val < 60),
        ]
    return rows


def training_verdicts(train: dict | None) -> list[Verdict]:
    speeds = _get(train or {}, "speeds_256_batch12")
    if not speeds:
        return [Verdict(PAIRS, ">= 600 pairs/s", NOT_MEASURED, None)]
    rows = []
    for speed in speeds:
        rate = speed["samples_per_s"]
        if speed["stage"] == "pairs":
            rows.append(Verdict(PAIRS, ">= 600 pairs/s", f"{rate:.0f} pairs/s", rate >= 600))
        else:
            what = f"training throughput, {speed['stage']} ({speed['references']} references)"
            rows.append(Verdict(what, "-", f"{rate:.0f} samples/s", None))
    for verdict in train.get("verdicts", []):
        low, high = verdict["frame_blocks"]
        measured = f"{verdict['mean']:+.2f} J&F [{low:+.2f}, {high:+.2f}]"
        what = f"short training, {verdict['protocol']} protocol: {verdict['comparison']}"
        if "random init" in verdict["comparison"]:
            rows.append(Verdict(what, "> 0 J&F (interval)", measured, low > 0))
        else:
            rows.append(Verdict(what, "-", measured, None))
    return rows


def table(verdicts: list[Verdict]) -> str:
    marks = {True: "met", False: "**missed**", None: ""}
    lines = ["| what | target | measured | |", "| --- | --- | --- | --- |"]
    lines += [f"| {v.what} | {v.target} | {v.measured} | {marks[v.met]} |" for v in verdicts]
    return "\n".join(lines)


def summarise(files_at: Path) -> dict:
    check_path = files_at / "gpu_check.json"
    if not check_path.is_file():
        raise SystemExit(f"gpu_report: {check_path} is missing (expected the device run's gpu_check.json)")
    check = json.loads(check_path.read_text())
    train_path = files_at / "gpu_train.json"
    train = json.loads(train_path.read_text()) if train_path.is_file() else None
    verdicts = label_verdicts(check) + speed_verdicts(check) + training_verdicts(train)
    return {
        "command": check.get("command"),
        "machine": check.get("machine"),
        "dry_run": check.get("dry_run"),
        "all_steps_ok": check.get("ok"),
        "targets": [asdict(v) for v in verdicts],
        "check": check,
        "training": train,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files_at", type=Path, help="the folder the device run's files came back to")
    parser.add_argument("--out", type=Path, default=Path("bench-results/gpu.json"))
    args = parser.parse_args(argv)
    summary = summarise(args.files_at)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1, default=str) + "\n")
    if summary["dry_run"]:
        print("DRY RUN (on CPU, toy sizes): plumbing only, not GPU figures\n")
    print(table([Verdict(**v) for v in summary["targets"]]))
    print(f"\ngpu_report: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
