from __future__ import annotations

import numpy as np
import pytest
import torch

from mast_bench.harness import profiling


class ToyModel(torch.nn.Module):
    """encode = one 3x3 conv (known FLOPs); read = one bmm (known FLOPs)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)

    def encode(self, frames):
        return self.conv(frames)

    def read(self, q, k):
        return torch.bmm(q, k)


def test_model_meter_splits_flops_by_call_and_counts_frames():
    model = ToyModel()
    with profiling.meter_model(model, torch.device("cpu")) as meter:
        for _ in range(3):
            model.encode(torch.zeros(2, 3, 10, 12))
            model.read(torch.zeros(1, 5, 7), torch.zeros(1, 7, 4))
        model.encode(torch.zeros(1, 3, 4, 4))  # another shape is counted separately
    conv_flops = 2 * (8 * 10 * 12) * (3 * 3 * 3)  # per frame: 2 x outputs x (Cin*k*k)
    small_conv = 2 * (8 * 4 * 4) * (3 * 3 * 3)
    bmm_flops = 2 * 5 * 7 * 4
    assert meter.calls == 4 and meter.frames == 7 and meter.read_calls == 3
    assert meter.flops == 3 * 2 * conv_flops + small_conv
    assert meter.read_flops == 3 * bmm_flops
    assert meter.seconds > 0 and meter.read_seconds > 0
    assert "encode" not in vars(model) and "read" not in vars(model)  # wrappers removed afterwards


def test_meter_without_flop_counting_only_times():
    model = ToyModel()
    with profiling.meter_model(model, torch.device("cpu"), count_flops=False) as meter:
        model.encode(torch.zeros(1, 3, 8, 8))
    assert meter.frames == 1 and meter.flops == 0 and meter.seconds > 0


def test_build_profile_per_frame_figures():
    meter = profiling.EncoderMeter(
        calls=4, frames=4, seconds=2.0, flops=8_000_000_000, read_flops=4_000_000_000
    )
    mem = profiling.PeakMemory(peak_bytes=123, kind="cpu-rss-isolated")
    prof = profiling.build_profile(
        parameters=10,
        encoder=meter,
        frames=4,
        seconds=4.0,
        memory=mem,
        frame_size=(48, 64),
        machine_gflops=6.0,
    )
    assert prof["gflops_per_frame"] == {"encoder": 2.0, "memory_read": 1.0, "total": 3.0}
    assert prof["seconds_per_frame"] == 1.0 and prof["encoder_seconds_per_frame"] == 0.5
    assert prof["frames_per_second"] == 1.0
    assert prof["matmul_fraction"] == pytest.approx(12 / 4 / 6.0)
    assert prof["frame_size"] == [48, 64] and prof["peak_memory_bytes"] == 123


@pytest.mark.skipif(not profiling.cpu_peak_supported(), reason="needs Linux /proc/self/clear_refs")
def test_cpu_peak_sees_a_large_numpy_allocation_after_reset():
    with profiling.measure_peak_memory(torch.device("cpu")) as before:
        pass
    with profiling.measure_peak_memory(torch.device("cpu")) as mem:
        block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
        del block
    assert mem.kind == "cpu-rss-isolated"
    assert mem.peak_bytes - before.peak_bytes > 250 * 2**20
    # after a fresh reset the freed block no longer counts
    with profiling.measure_peak_memory(torch.device("cpu")) as after:
        pass
    assert after.peak_bytes < mem.peak_bytes - 250 * 2**20


def test_matmul_throughput_positive():
    assert profiling.matmul_gflops(torch.device("cpu"), size=128, repeats=2) > 0


class CountingRead(ToyModel):
    """read(q, k, times) = ``times`` bmms: its FLOPs follow a plain argument, and the calls of
    the real (unwrapped) read are listed."""

    def __init__(self):
        super().__init__()
        self.read_calls = []

    def read(self, q, k, times):
        self.read_calls.append(torch.is_inference_mode_enabled())
        return sum(torch.bmm(q, k) for _ in range(times))


def test_each_distinct_read_is_counted_once_outside_the_timed_calls():
    model = CountingRead()
    q, k = torch.zeros(1, 5, 7), torch.zeros(1, 7, 4)
    with profiling.meter_model(model, torch.device("cpu")) as meter:
        for times in (1, 2, 1, 2, 2):
            model.read(q, k, times)
    bmm_flops = 2 * 5 * 7 * 4
    assert meter.read_flops == (1 + 2 + 1 + 2 + 2) * bmm_flops and meter.read_calls == 5
    # 5 timed calls (not inference mode) and one counting call per distinct read (inference mode)
    assert sorted(model.read_calls) == [False] * 5 + [True] * 2
    assert meter.counting_seconds > 0


def test_a_read_with_an_argument_the_key_cannot_describe_is_counted_each_time():
    class Times:
        """An unhashable repeat count."""

        __hash__ = None

        def __init__(self, value):
            self.value = value

        def __index__(self):
            return self.value

    model = CountingRead()
    q, k = torch.zeros(1, 5, 7), torch.zeros(1, 7, 4)
    with profiling.meter_model(model, torch.device("cpu")) as meter:
        model.read(q, k, Times(1))
        model.read(q, k, Times(2))
    assert meter.read_flops == 3 * 2 * 5 * 7 * 4 and sorted(model.read_calls) == [False, False, True, True]


# frames per video, the distinct reads of its frames 1.. at one size, and the variant's changes. MAST
# with long-term references from a gap of 4 on (its official schedule, offsets from the target):
# {0} | {2,1} = {3,1} | {4,3,1} = {5,3,1}: frame 0 long-term at dilation 2 | {6,5,3,1} = {8,5,3,1}: 3 and
# 2 | {7,5,3,2,1} | {9,5,4,3,1}: 4, 2 and 2. CRW: frame 0 and a queue of 20 (padded with frame 0).
PROPAGATIONS = {"mast": (10, 6, {"long_term_gap": 3}), "crw": (5, 1, {})}


@pytest.mark.parametrize("protocol", ["mast", "crw"])
def test_a_propagation_counts_the_flops_of_counting_every_read_in_place(protocol, tmp_path, monkeypatch):
    """The per-read cache gives what counting each read where it runs gives (frames of a video, and
    videos of one size, share their reads; MAST's long-term references go through a coarse search at
    three dilations), and the wall clock leaves the counting calls out."""
    from support.scripts import benchmark_script

    from mast_bench.data.splits import DataSpec, open_split
    from mast_bench.harness import segmentation
    from mast_bench.model import create_model
    from mast_bench.protocols import get_protocol

    from .conftest import make_tiny_davis

    frames, distinct_reads, changes = PROPAGATIONS[protocol]
    root = make_tiny_davis(tmp_path / "data", {"one": 1, "two": 2, "three": 1}, frames=frames, size=(32, 40))
    split = open_split(DataSpec(root=str(root)))
    model = create_model("mast-scaled", seed=0, **changes)
    cached = segmentation.segment_split(
        model, split, tmp_path / "cached", get_protocol(protocol), progress=False
    ).encoder
    in_place = [0]  # the old records' counting, as benchmarks/bench_flop_counting.py emulates it
    counted_in_place = benchmark_script("bench_flop_counting").in_place_policies(
        segmentation.make_policy, in_place
    )
    monkeypatch.setattr(segmentation, "make_policy", counted_in_place)
    segmentation.segment_split(
        model, split, tmp_path / "plain", get_protocol(protocol), progress=False, count_flops=False
    )
    assert cached.read_calls == 3 * (frames - 1) and cached.read_flops == in_place[0] > 0
    # one encoder shape; two sizes of values (one and two objects), each with its distinct reads
    assert cached.counting_seconds > 0 and cached.counting_calls == 1 + 2 * distinct_reads
