"""ImageNet ResNet trunks: torchvision's key layout, strides, input normalisation, checkpoint loading.

No checkpoint is downloaded: the torchvision files are written here, with random weights, under the
key names torchvision's resnet18/resnet50 use (listed independently below).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mast_bench.errors import CheckpointError, ConfigError
from mast_bench.model import MAST
from mast_bench.model.backbones import IMAGENET_MEAN, IMAGENET_STD, ResNetTrunk, layer_strides
from mast_bench.model.checkpoint import load_weights
from mast_bench.model.colour import prepare_frame
from mast_bench.variants import get_variant

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# torchvision's published parameter counts (resnet18: 11,689,512; resnet50: 25,557,032), minus fc
TRUNK_PARAMETERS = {18: 11_689_512 - (512 * 1000 + 1000), 50: 25_557_032 - (2048 * 1000 + 1000)}


def torchvision_shapes(depth: int) -> dict[str, tuple[int, ...]]:
    """Every state-dict entry of torchvision's resnet{depth}, written out from its architecture."""
    shapes: dict[str, tuple[int, ...]] = {"conv1.weight": (64, 3, 7, 7)}

    def bn(prefix: str, channels: int) -> None:
        for name in BN:
            shapes[f"{prefix}.{name}"] = () if name == "num_batches_tracked" else (channels,)

    bn("bn1", 64)
    bottleneck = depth == 50
    counts = (3, 4, 6, 3) if bottleneck else (2, 2, 2, 2)
    expansion = 4 if bottleneck else 1
    channels = 64
    for layer, (width, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True), start=1):
        for block in range(count):
            p = f"layer{layer}.{block}"
            if bottleneck:
                convs = [(width, channels, 1), (width, width, 3), (width * 4, width, 1)]
            else:
                convs = [(width, channels, 3), (width, width, 3)]
            for n, (out, inp, k) in enumerate(convs, start=1):
                shapes[f"{p}.conv{n}.weight"] = (out, inp, k, k)
                bn(f"{p}.bn{n}", out)
            if block == 0 and (layer > 1 or channels != width * expansion):
                shapes[f"{p}.downsample.0.weight"] = (width * expansion, channels, 1, 1)
                bn(f"{p}.downsample.1", width * expansion)
            channels = width * expansion
    shapes["fc.weight"], shapes["fc.bias"] = (1000, channels), (1000,)
    return shapes


def torchvision_file(path, depth: int, *, seed: int = 0, counters: bool = True) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in torchvision_shapes(depth).items():
        if key.endswith("num_batches_tracked"):
            if counters:
                state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.1
    torch.save(state, path)
    return state


@pytest.mark.parametrize("depth", [18, 50])
def test_full_trunk_has_torchvision_keys_shapes_and_parameter_count(depth):
    trunk = ResNetTrunk(depth, last_layer=4, stride=32)
    expected = {k: v for k, v in torchvision_shapes(depth).items() if not k.startswith("fc.")}
    assert {k: tuple(v.shape) for k, v in trunk.state_dict().items()} == expected
    assert sum(p.numel() for p in trunk.parameters()) == TRUNK_PARAMETERS[depth]


@pytest.mark.parametrize(
    "last_layer,stride,strides",
    [(3, 8, (1, 2, 1)), (3, 16, (1, 2, 2)), (3, 4, (1, 1, 1)), (4, 32, (1, 2, 2, 2)), (4, 8, (1, 2, 1, 1)),
     (2, 8, (1, 2)), (1, 4, (1,))],
)  # fmt: skip
def test_layer_strides(last_layer, stride, strides):
    assert layer_strides(last_layer, stride) == strides


@pytest.mark.parametrize("last_layer,stride", [(3, 32), (3, 2), (2, 6), (5, 8)])
def test_impossible_strides_are_refused(last_layer, stride):
    with pytest.raises(ValueError, match="output stride"):
        layer_strides(last_layer, stride)


@pytest.mark.parametrize("depth,channels", [(18, 256), (50, 1024)])
@pytest.mark.parametrize("size", [(64, 112), (67, 113)])
def test_mast_reads_layer3_at_stride_eight(depth, channels, size):
    model = MAST(get_variant(f"resnet{depth}-imagenet")).eval()
    assert model.stride == 8 and not model.trainable and model.post_convolution is None
    with torch.no_grad():
        out = model.encode(torch.zeros(1, 3, *size))
    assert out.shape == (1, channels, -(-size[0] // 8), -(-size[1] // 8))


def test_input_is_imagenet_normalised_rgb():
    rgb = torch.randint(0, 256, (9, 11, 3), dtype=torch.uint8)
    trunk = ResNetTrunk(18, 1, 4).eval()
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    expected_input = (rgb.permute(2, 0, 1)[None].float() / 255 - mean) / std  # CRW's load_image + normalise
    with torch.no_grad():
        got = trunk(prepare_frame(rgb.numpy(), "rgb")[None])
        expected = trunk.layer1(trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(expected_input)))))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_stride_one_layers_keep_torchvision_weights_and_match_a_functional_forward():
    """layer3 at stride 1 is the same convolutions without their stride (CRW's modify())."""
    trunk = ResNetTrunk(18, 3, 8).eval()
    x = torch.randn(1, 3, 32, 48)
    with torch.no_grad():
        features = trunk.layer2(trunk.layer1(trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(x))))))
        block = trunk.layer3[0]
        main = F.relu(block.bn1(F.conv2d(features, block.conv1.weight, padding=1)))
        main = block.bn2(F.conv2d(main, block.conv2.weight, padding=1))
        shortcut = block.downsample[1](F.conv2d(features, block.downsample[0].weight))
        expected = trunk.layer3[1](F.relu(main + shortcut))
        got = trunk(x * trunk.input_scale.reciprocal() - trunk.input_shift / trunk.input_scale)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("depth", [18, 50])
@pytest.mark.parametrize("counters", [True, False])  # old torchvision files have no num_batches_tracked
def test_torchvision_file_loads_strictly_minus_fc_and_unused_layers(tmp_path, depth, counters):
    path = tmp_path / f"resnet{depth}.pth"
    state = torchvision_file(path, depth, counters=counters)
    model = MAST(get_variant(f"resnet{depth}-imagenet"))
    load_weights(model, path)
    loaded = model.state_dict()
    assert not any(k.startswith("feature_extraction.layer4.") for k in loaded)
    for key, value in state.items():
        if key.startswith(("fc.", "layer4.")) or key.endswith("num_batches_tracked"):
            continue
        assert torch.equal(loaded[f"feature_extraction.{key}"], value), key


def test_our_own_saved_trunk_checkpoint_round_trips(tmp_path):
    from mast_bench.model.checkpoint import save_checkpoint

    torchvision_file(tmp_path / "tv.pth", 18)
    model = MAST(get_variant("resnet18-imagenet"))
    load_weights(model, tmp_path / "tv.pth")
    save_checkpoint(tmp_path / "ours.pt", model)
    again = MAST(get_variant("resnet18-imagenet"))
    load_weights(again, tmp_path / "ours.pt")
    saved, reloaded = model.state_dict(), again.state_dict()
    assert saved.keys() == reloaded.keys() and all(torch.equal(saved[k], reloaded[k]) for k in saved)


def test_mismatched_files_raise_a_checkpoint_error_naming_the_file(tmp_path):
    torchvision_file(tmp_path / "resnet50.pth", 50)
    with pytest.raises(CheckpointError) as err:
        load_weights(MAST(get_variant("resnet18-imagenet")), tmp_path / "resnet50.pth")
    assert "resnet50.pth does not fit the model" in str(err.value) and "conv3" in str(err.value)
    state = torchvision_file(tmp_path / "broken.pth", 18)
    del state["layer2.0.conv1.weight"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="missing keys: feature_extraction.layer2.0.conv1.weight"):
        load_weights(MAST(get_variant("resnet18-imagenet")), tmp_path / "broken.pth")


def test_variant_fields_are_validated():
    base = get_variant("resnet18-imagenet")
    assert base.pretrained_features and not get_variant("mast").pretrained_features
    assert (base.features, base.trunk_layer, base.trunk_stride, base.colour_space) == (
        "resnet18",
        3,
        8,
        "rgb",
    )
    with pytest.raises(ValueError, match="trunk_stride of layer3 must be one of \\[4, 8, 16\\]"):
        base.replace(trunk_stride=32)
    with pytest.raises(ValueError, match="trunk_layer must be 1, 2, 3 or 4"):
        base.replace(trunk_layer=5)
    with pytest.raises(ValueError, match="take RGB input"):
        base.replace(colour_space="lab")
    with pytest.raises(ValueError, match="trunk_layer only applies to features resnet18 or resnet50"):
        get_variant("mast").replace(trunk_layer=4)


def test_unknown_features_are_a_config_error():
    with pytest.raises(ConfigError, match="unknown features 'vit'"):
        MAST(get_variant("mast").replace(features="vit"))


def test_crw_startup_statistics_are_two_momentum_updates_from_zero_images(tmp_path):
    """CRW's ImageNet baseline: code/model.py:35-40 (a 1x3x256x256 zero image) and code/test.py:23
    (10 zero images of 320x320) run the encoder in training mode before model.eval()."""
    from mast_bench.model import create_model

    torchvision_file(tmp_path / "tv.pth", 18)
    plain = create_model("resnet18-imagenet", tmp_path / "tv.pth")
    quirk = create_model("resnet18-imagenet-crw", tmp_path / "tv.pth")
    assert not quirk.training and quirk.config.trunk_batchnorm == "crw-startup"
    batches = {}  # the batch statistics each BatchNorm sees in each pass, from a copy in training mode
    probe = create_model("resnet18-imagenet", tmp_path / "tv.pth").feature_extraction.train()
    for name, module in probe.named_modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.register_forward_hook(
                lambda m, inputs, out, name=name: batches.setdefault(name, []).append(
                    (inputs[0].mean((0, 2, 3)), inputs[0].var((0, 2, 3), unbiased=True))
                )
            )
    with torch.no_grad():
        for shape in ((1, 3, 256, 256), (10, 3, 320, 320)):
            probe.imagenet_forward(torch.zeros(shape))
    before = plain.feature_extraction.state_dict()
    after = quirk.feature_extraction.state_dict()
    for name, [(mean1, var1), (mean2, var2)] in batches.items():
        expected_mean = 0.9 * (0.9 * before[f"{name}.running_mean"] + 0.1 * mean1) + 0.1 * mean2
        expected_var = 0.9 * (0.9 * before[f"{name}.running_var"] + 0.1 * var1) + 0.1 * var2
        torch.testing.assert_close(after[f"{name}.running_mean"], expected_mean)
        torch.testing.assert_close(after[f"{name}.running_var"], expected_var)
    assert len(batches) == 1 + 3 * 2 * 2 + 2  # bn1, 2 per block of layer1..3, layer2/3 downsamples
    # conv1 of a zero image is zero: bn1's statistics just decay twice
    torch.testing.assert_close(after["bn1.running_mean"], 0.81 * before["bn1.running_mean"])
    torch.testing.assert_close(after["bn1.running_var"], 0.81 * before["bn1.running_var"])
    weights = [k for k in before if not k.startswith(("bn", "layer")) or k.endswith(("weight", "bias"))]
    assert all(torch.equal(after[k], before[k]) for k in weights)  # only the statistics change
    with pytest.raises(ValueError, match="trunk_batchnorm only applies to features resnet18 or resnet50"):
        get_variant("mast").replace(trunk_batchnorm="crw-startup")
