"""harness.precise_bn: a checkpoint's BatchNorm statistics re-estimated over many training batches
are the plain mean of what its encoder calls saw; the weights are kept."""

from __future__ import annotations

import torch

from mast_bench.data.clips import FrameFolderClips
from mast_bench.harness.precise_bn import batchnorm_layers, recompute_batchnorm_statistics
from mast_bench.model import MAST
from mast_bench.variants import get_variant

from .conftest import tiny_preset


def test_running_statistics_become_the_mean_of_the_encoder_calls_batch_statistics(tiny_davis):
    torch.manual_seed(0)
    model = MAST(get_variant("mast"))
    layers = batchnorm_layers(model)
    first = layers[0]
    seen: list[torch.Tensor] = []
    first.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().mean(dim=(0, 2, 3))))
    weights = {
        k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k
    }
    stage = tiny_preset().stages[0]

    count = recompute_batchnorm_statistics(
        model, FrameFolderClips(tiny_davis), stage, 0, 3, torch.device("cpu")
    )

    assert count == len(layers) > 0 and not model.training
    assert len(seen) == 3 * 2  # 3 pair steps, 2 frames each: one encoder call per frame
    assert torch.allclose(first.running_mean, torch.stack(seen).mean(dim=0), atol=1e-6)
    assert all(int(layer.num_batches_tracked) == 6 for layer in layers)
    assert all(layer.momentum == 0.1 for layer in layers)  # restored
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in weights.items())


def test_the_estimate_is_reproducible_and_ignores_the_old_statistics(tiny_davis):
    clips, stage = FrameFolderClips(tiny_davis), tiny_preset().stages[0]
    torch.manual_seed(0)
    a, b = MAST(get_variant("mast")), MAST(get_variant("mast"))
    b.load_state_dict(a.state_dict())
    for layer in batchnorm_layers(b):
        layer.running_mean.fill_(5.0)  # stale statistics: reset first
    for model in (a, b):
        recompute_batchnorm_statistics(model, clips, stage, 7, 2, torch.device("cpu"))
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
