"""Cost figures for one propagation run: FLOPs split encoder/memory read, time, peak memory.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (2 FLOPs per
multiply-add); the ops helper registers formulas for the custom memory ops so
they are counted. ``model.encode`` and ``model.read`` are wrapped on the
instance, so the split encoder / memory read is by call, not by op type.
Counting runs every op through Python (4x a context protocol's read at small
sizes), so it never runs inside a timed call: each distinct call is counted
once, in an extra untimed call, and its time is kept apart (``counting_seconds``).
A read is distinct by its tensors' shapes and its reader's ``read_cost_key``
(which references are long-term, or anchors), so most frames of a video share one.
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
from typing import Any

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
    """Calls, frames, seconds and FLOPs of ``model.encode`` and ``model.read`` during a run;
    ``counting_seconds``: the untimed FLOP-counting calls (``counting_calls`` of them), to leave out
    of any wall clock."""

    calls: int = 0
    frames: int = 0
    seconds: float = 0.0
    flops: int = 0
    read_calls: int = 0
    read_seconds: float = 0.0
    read_flops: int = 0
    counting_seconds: float = 0.0
    counting_calls: int = 0


def call_shape_key(value: Any, tensors_only: bool = False) -> Any:
    """What decides a call's FLOPs: its tensors' shapes and dtypes and its other arguments (reads
    branch on frame indices, never on tensor contents), nested sequences and dicts included;
    ``tensors_only``: the other arguments left out (None), where something else describes them."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), str(value.dtype))
    if isinstance(value, (list, tuple)):
        return tuple(call_shape_key(item, tensors_only) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, call_shape_key(item, tensors_only)) for key, item in value.items()))
    return None if tensors_only else value


def read_shape_key(reader, args: tuple, kwargs: dict) -> Any:
    """The key of a read: its tensors' shapes and what the reader's ``read_cost_key`` says its FLOPs
    depend on besides them; a reader without one keys on every argument (``call_shape_key``)."""
    cost_key = getattr(reader, "read_cost_key", None)
    if cost_key is None:
        return call_shape_key((args, kwargs))
    return call_shape_key((args, kwargs), tensors_only=True), cost_key(*args, **kwargs)


class _FlopCache:
    """FLOPs of each distinct call of ``fn``, counted once in an extra untimed call (synchronised,
    so that none of its GPU work runs into the timed calls)."""

    def __init__(self, fn, meter: EncoderMeter, device: torch.device):
        self.fn, self.meter, self.device, self.flops = fn, meter, device, {}

    def __call__(self, key, *args, **kwargs) -> int:
        try:
            hash(key)
        except TypeError:  # an argument this key cannot describe: count this call on its own
            key = object()
        if key not in self.flops:
            with flop_counter() as counter, torch.inference_mode():
                _, seconds = _timed(self.fn, self.device, *args, **kwargs)
            self.flops[key] = counter.get_total_flops()
            self.meter.counting_seconds += seconds
            self.meter.counting_calls += 1
        return self.flops[key]


def _timed(fn, device: torch.device, *args, **kwargs) -> tuple[Any, float]:
    _sync(device)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    _sync(device)
    return out, time.perf_counter() - start


@contextlib.contextmanager
def meter_model(
    model: torch.nn.Module, device: torch.device, count_flops: bool = True, reader=None
) -> Iterator[EncoderMeter]:
    """Wrap ``model.encode`` and ``reader.read`` (default: the model's own) on the instances to time
    and count them (a test-time protocol's read policy is the reader).

    FlopCounterMode runs every aten op through Python and decomposes convolutions, so the timed
    calls run without it: the encoder is counted once per input shape (on one frame), a read once
    per distinct read (``read_shape_key``: in a video of one size most frames share one read, and
    every video of that size shares them), each in an extra untimed call.
    """
    meter = EncoderMeter()
    reader = model if reader is None else reader
    encode, read = model.encode, reader.read
    encode_flops, read_flops = _FlopCache(encode, meter, device), _FlopCache(read, meter, device)

    def timed_encode(frames: torch.Tensor, *args, **kwargs):
        if count_flops:
            key = call_shape_key((frames[:1], args, kwargs))
            meter.flops += encode_flops(key, frames[:1], *args, **kwargs) * int(frames.shape[0])
        out, seconds = _timed(encode, device, frames, *args, **kwargs)
        meter.seconds += seconds
        meter.calls += 1
        meter.frames += int(frames.shape[0])
        return out

    def timed_read(*args, **kwargs):
        if count_flops:
            meter.read_flops += read_flops(read_shape_key(reader, args, kwargs), *args, **kwargs)
        out, seconds = _timed(read, device, *args, **kwargs)
        meter.read_seconds += seconds
        meter.read_calls += 1
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
