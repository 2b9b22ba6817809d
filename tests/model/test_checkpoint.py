"""Checkpoint files: official layout, DataParallel prefix, wrappers, clear errors."""

from __future__ import annotations

import pytest
import torch

from mast_bench.errors import CheckpointError
from mast_bench.model import MAST
from mast_bench.model.checkpoint import load_weights, read_state_dict, save_checkpoint, state_dict_sha256
from mast_bench.variants import get_variant


@pytest.fixture(scope="module")
def trained_like() -> MAST:
    torch.manual_seed(1)
    model = MAST(get_variant("mast"))
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand_like(tensor))  # make every entry differ from a fresh model
    return model


def _equal_states(a: MAST, b: MAST) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_official_layout_round_trip(tmp_path, trained_like):
    path = tmp_path / "ckpt.pt"
    optimizer = torch.optim.Adam(trained_like.parameters(), lr=1e-3)
    save_checkpoint(path, trained_like, optimizer, epoch=3)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"epoch", "state_dict", "optimizer"} and raw["epoch"] == 3
    assert "post_convolution.weight" in raw["state_dict"]
    fresh = MAST(get_variant("mast"))
    assert not _equal_states(fresh, trained_like)
    load_weights(fresh, path)
    assert _equal_states(fresh, trained_like)


@pytest.mark.parametrize("wrap", ["bare", "module-prefix", "wrapped-prefix"])
def test_accepted_layouts(tmp_path, trained_like, wrap):
    state = trained_like.state_dict()
    if wrap != "bare":
        state = {f"module.{k}": v for k, v in state.items()}
    payload = {"state_dict": state, "epoch": 0} if wrap == "wrapped-prefix" else state
    torch.save(payload, tmp_path / "w.pt")
    fresh = MAST(get_variant("mast"))
    load_weights(fresh, tmp_path / "w.pt")
    assert _equal_states(fresh, trained_like)


def test_a_model_wrapper_and_files_without_batch_counters_load(tmp_path):
    """{'model': ...} as CRW and timm save; BatchNorm's num_batches_tracked absent, as in files of
    torch < 0.4.1 or from converters: the same weights, the same outputs."""
    torch.manual_seed(3)
    source = MAST(get_variant("mast")).eval()  # trained_like's outputs overflow; these stay finite
    with torch.no_grad():
        for name, tensor in source.state_dict().items():
            if name.endswith(("running_mean", "running_var")):
                tensor.add_(0.1 * torch.rand_like(tensor))
    state = source.state_dict()
    torch.save({"model": state, "epoch": 9}, tmp_path / "model.pt")
    counterless = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert len(counterless) < len(state)
    torch.save({"state_dict": counterless}, tmp_path / "old.pt")
    frame = torch.rand(1, 3, 32, 48)
    expected = source.encode(frame)
    assert expected.isfinite().all()
    for name in ("model.pt", "old.pt"):
        fresh = MAST(get_variant("mast"))
        load_weights(fresh, tmp_path / name)
        loaded = fresh.state_dict()
        assert all(torch.equal(loaded[k], v) for k, v in counterless.items())
        torch.testing.assert_close(fresh.eval().encode(frame), expected, rtol=0, atol=0)
    del counterless["post_convolution.bias"]
    torch.save(counterless, tmp_path / "short.pt")
    with pytest.raises(
        CheckpointError, match=r"short.pt does not fit the model: missing keys: post_convolution.bias$"
    ):
        load_weights(MAST(get_variant("mast")), tmp_path / "short.pt")


def test_weights_sha256_is_the_weights_not_the_file(tmp_path, trained_like):
    """Two files of the same weights (other seconds, another layout) share it; one changed value,
    a changed dtype or a renamed tensor does not."""
    save_checkpoint(tmp_path / "a.pt", trained_like, seconds=1.0)
    state = {f"module.{k}": v for k, v in trained_like.state_dict().items()}
    torch.save({"state_dict": state, "seconds": 2.0}, tmp_path / "b.pt")
    digest = state_dict_sha256(read_state_dict(tmp_path / "a.pt"))
    assert (tmp_path / "a.pt").read_bytes() != (tmp_path / "b.pt").read_bytes()
    assert state_dict_sha256(read_state_dict(tmp_path / "b.pt")) == digest
    plain = trained_like.state_dict()
    name = "post_convolution.weight"
    changed = {**plain, name: plain[name].clone().index_put_((torch.tensor(0),), torch.tensor(0.5))}
    assert state_dict_sha256(changed) != digest
    assert state_dict_sha256({**plain, name: plain[name].double()}) != digest
    assert state_dict_sha256({**{k: v for k, v in plain.items() if k != name}, "x": plain[name]}) != digest
    assert state_dict_sha256({"b": torch.tensor(2, dtype=torch.bfloat16)}) != state_dict_sha256(
        {"b": torch.tensor(2.0)}
    )


def test_official_reference_weights_have_official_keys(official_reference):
    state = read_state_dict(official_reference / "weights_seed0.pt")
    assert len(state) == 116
    assert set(state) == set(MAST(get_variant("mast")).state_dict())
    assert "feature_extraction.layer4.1.left.4.running_var" in state


def test_missing_and_unexpected_keys_are_named(tmp_path, trained_like):
    state = dict(trained_like.state_dict())
    del state["post_convolution.bias"]
    state["colorizer.extra"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as err:
        load_weights(MAST(get_variant("mast")), tmp_path / "bad.pt")
    message = str(err.value)
    assert "bad.pt" in message
    assert "missing keys: post_convolution.bias" in message
    assert "unexpected keys: colorizer.extra" in message


def test_shape_mismatch_is_named(tmp_path, trained_like):
    state = dict(trained_like.state_dict())
    state["post_convolution.weight"] = torch.zeros(32, 256, 3, 3)
    torch.save(state, tmp_path / "shape.pt")
    with pytest.raises(
        CheckpointError, match=r"post_convolution.weight \(32, 256, 3, 3\) != \(64, 256, 3, 3\)"
    ):
        load_weights(MAST(get_variant("mast")), tmp_path / "shape.pt")


def test_truncated_file(tmp_path, trained_like):
    path = tmp_path / "full.pt"
    save_checkpoint(path, trained_like)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: cannot read as a torch checkpoint"):
        load_weights(MAST(get_variant("mast")), tmp_path / "cut.pt")


class _NotATensor:
    pass


def test_pickled_code_refused_by_weights_only(tmp_path):
    torch.save({"state_dict": {"x": _NotATensor()}}, tmp_path / "code.pt")
    with pytest.raises(CheckpointError, match="cannot read"):
        read_state_dict(tmp_path / "code.pt")


def test_not_a_state_dict_and_missing_file(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a state dict"):
        read_state_dict(tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        read_state_dict(tmp_path / "nope.pt")
