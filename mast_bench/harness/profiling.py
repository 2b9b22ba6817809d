"""Cost figures for one propagation run: FLOPs split encoder/memory read, time, peak memory.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (2 FLOPs per
multiply-add); the ops helper registers formulas for the custom memory ops so
they are counted. ``model.encode`` and ``model.read`` are wrapped on the
instance, so the split encoder / memory read is by call, not by op type.
Peak CPU memory is VmHWM after a reset through /proc/self/clear_refs (Linux),
so it covers only the measured stage of the (isolated worker) process, not the
whole session; tracemalloc would not see torch tensors at all.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

FLOPS_UNIT = "GFLOPs (2 FLOPs per multiply-add)"
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class EncoderMeter:
    """Calls, frames, seconds and FLOPs of ``model.encode`` and ``model.read`` during a run."""

    calls: int = 0
    frames: int = 0
    seconds: float = 0.0
    flops: int = 0
    read_calls: int = 0
    read_seconds: float = 0.0
    read_flops: int = 0


@contextlib.contextmanager
def meter_model(
    model: torch.nn.Module, device: torch.device, count_flops: bool = True, reader=None
) -> Iterator[EncoderMeter]:
    """Wrap ``model.encode`` and ``reader.read`` (default: the model's own) on the instances to time
    and count them (a test-time protocol's read policy is the reader).

    FlopCounterMode runs every aten op through Python and decomposes convolutions, which
    would triple the encoder's time: encoder FLOPs are therefore counted once per input
    shape, outside the timed call. The memory read (a handful of custom ops with
    registered formulas) is counted in place.
    """
    meter = EncoderMeter()
    reader = model if reader is None else reader
    encode, read = model.encode, reader.read
    encoder_flops: dict[tuple[int, ...], int] = {}

    def timed_encode(frames: torch.Tensor, *args, **kwargs):
        shape = tuple(frames.shape[1:])
        if count_flops and shape not in encoder_flops:
            with flop_counter() as counter, torch.inference_mode():
                encode(frames[:1], *args, **kwargs)
            encoder_flops[shape] = counter.get_total_flops()
        _sync(device)
        start = time.perf_counter()
        out = encode(frames, *args, **kwargs)
        _sync(device)
        meter.seconds += time.perf_counter() - start
        meter.calls += 1
        meter.frames += int(frames.shape[0])
        meter.flops += encoder_flops.get(shape, 0) * int(frames.shape[0])
        return out

    def timed_read(*args, **kwargs):
        counter = flop_counter() if count_flops else contextlib.nullcontext()
        _sync(device)
        start = time.perf_counter()
        with counter:
            out = read(*args, **kwargs)
        _sync(device)
        meter.read_seconds += time.perf_counter() - start
        meter.read_calls += 1
        if count_flops:
            meter.read_flops += counter.get_total_flops()
        return out

    model.encode, reader.read = timed_encode, timed_read  # instance attributes shadow the methods
    try:
        yield meter
    finally:
        del model.encode
        del reader.read


def flop_counter() -> FlopCounterMode:
    return FlopCounterMode(display=False)


# ---------------------------------------------------------------- memory


def cpu_peak_supported() -> bool:
    return _STATUS.is_file() and _CLEAR_REFS.exists()


def reset_cpu_peak() -> None:
    """Reset VmHWM to the current RSS (Linux); later peaks are this stage's own."""
    with open(_CLEAR_REFS, "w") as fh:
        fh.write("5")


def read_status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{_STATUS} has no {field} line")


def cpu_peak_bytes() -> int:
    return read_status_kib("VmHWM") * 1024


@dataclass
class PeakMemory:
    peak_bytes: int | None = None
    kind: str = ""
    cuda_reserved_bytes: int | None = None


@contextlib.contextmanager
def measure_peak_memory(device: torch.device) -> Iterator[PeakMemory]:
    result = PeakMemory()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        yield result
        result.peak_bytes = int(torch.cuda.max_memory_allocated(device))
        result.cuda_reserved_bytes = int(torch.cuda.max_memory_reserved(device))
        result.kind = "cuda-max-allocated"
        return
    supported = cpu_peak_supported()
    if supported:
        reset_cpu_peak()
    yield result
    if supported:
        result.peak_bytes = cpu_peak_bytes()
        result.kind = "cpu-rss-isolated"


# ---------------------------------------------------------------- machine throughput


@functools.lru_cache(maxsize=8)
def matmul_gflops(device: torch.device, size: int = 1024, repeats: int = 5) -> float:
    """Best-of-``repeats`` dense fp32 matmul throughput of this device, in GFLOP/s."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def build_profile(
    *,
    parameters: int,
    encoder: EncoderMeter,
    frames: int,
    seconds: float,
    memory: PeakMemory,
    frame_size: tuple[int, int],
    machine_gflops: float | None,
) -> dict:
    """The record's ``profile`` block (docs/DESIGN.md); per-frame figures over processed frames."""
    per = max(frames, 1)
    total_flops = encoder.flops + encoder.read_flops
    gflops_total = total_flops / 1e9 / per
    gflops_encoder = encoder.flops / 1e9 / per
    achieved = (total_flops / 1e9 / seconds) if seconds > 0 else None
    return {
        "parameters": parameters,
        "gflops_per_frame": {
            "encoder": gflops_encoder,
            "memory_read": gflops_total - gflops_encoder,
            "total": gflops_total,
        },
        "flops_unit": FLOPS_UNIT,
        "seconds_per_frame": seconds / per,
        "encoder_seconds_per_frame": encoder.seconds / per,
        "frames_per_second": per / seconds if seconds > 0 else None,
        "peak_memory_bytes": memory.peak_bytes,
        "peak_memory_kind": memory.kind,
        "cuda_max_reserved_bytes": memory.cuda_reserved_bytes,
        "matmul_fraction": (achieved / machine_gflops) if (achieved and machine_gflops) else None,
        "frames": frames,
        "frame_size": list(frame_size),
    }
