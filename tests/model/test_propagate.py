"""propagate_video against the official test loop (which re-encodes every reference each step)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mast_bench.errors import DataError
from mast_bench.model.colour import prepare_frame
from mast_bench.model.official_loop import label_channels, propagate_steps, propagate_video
from mast_bench.model.schedule import reference_indices

# long-term memory from a gap of 3 frames, so a 6-frame clip exercises the ROI path and the
# official offset defect (two long-term references, 0 and 2, at frame 5)
SHORT_CLIP = {"long_term_gap": 2}


def official_loop(model, frames, first_labels, channels=7):
    """benchmark.py's loop: every reference re-encoded at every step, full-resolution label maps
    (one-hot of ``channels``) as values, bilinear upsampling and argmax fed back."""
    inputs = [prepare_frame(f, model.config.colour_space)[None] for f in frames]
    outputs = [torch.from_numpy(first_labels.astype(np.int64))[None, None]]
    h, w = first_labels.shape
    with torch.no_grad():
        for i in range(len(frames) - 1):
            refs = reference_indices(i + 1, model.config.schedule)
            values = [F.one_hot(outputs[r][0, 0], channels).permute(2, 0, 1)[None].float() for r in refs]
            out = model([inputs[r] for r in refs], values, inputs[i + 1], refs, i + 1)
            out = F.interpolate(out, (h, w), mode="bilinear")
            outputs.append(torch.argmax(out, 1, keepdim=True))
    return [o[0, 0].numpy().astype(np.uint8) for o in outputs[1:]]


@pytest.mark.parametrize("variant", ["mast-official", pytest.param("mast", marks=pytest.mark.slow)])
def test_matches_official_loop(small_clip, official_model, variant):
    frames, first = small_clip
    model = official_model("seed0_scaled", variant, **SHORT_CLIP)
    ours = list(propagate_video(model, frames, first, object_ids=range(1, 7)))
    expected = official_loop(model, frames, first)
    assert len(ours) == len(frames) - 1
    for index, (a, b) in enumerate(zip(ours, expected, strict=True), start=1):
        assert a.dtype == np.uint8 and a.shape == first.shape
        assert np.array_equal(a, b), f"frame {index}: {(a != b).sum()} pixels differ"
    assert 2 in ours[0]  # an object is propagated, not only background


def test_channel_count_does_not_change_labels(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0_scaled", **SHORT_CLIP)
    seven = list(propagate_steps(model, frames[:4], first, object_ids=range(1, 7)))
    minimal = list(propagate_steps(model, frames[:4], first))  # channels = max id + 1 = 3
    for a, b in zip(seven, minimal, strict=True):
        assert a.scores.shape[1] == 7 and b.scores.shape[1] == 3
        assert torch.equal(a.labels, b.labels)
        torch.testing.assert_close(a.scores[:, :3], b.scores, rtol=1e-5, atol=1e-6)
        assert torch.equal(a.scores[:, 3:], torch.zeros_like(a.scores[:, 3:]))


def test_object_subset_and_void(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0_scaled", **SHORT_CLIP)
    with_void = first.copy()
    with_void[:4, :4] = 255
    labels = list(propagate_video(model, frames[:4], with_void, object_ids=[2]))
    assert all(set(np.unique(m)) <= {0, 2} for m in labels)


def test_label_channels():
    labels = np.array([[0, 1, 3], [255, 3, 0]], dtype=np.uint8)
    kept, channels = label_channels(labels, None)
    assert channels == 4 and np.array_equal(kept, [[0, 1, 3], [0, 3, 0]])
    kept, channels = label_channels(labels, [1])
    assert channels == 2 and np.array_equal(kept, [[0, 1, 0], [0, 0, 0]])
    assert label_channels(np.zeros((2, 2), np.uint8), None)[1] == 1
    with pytest.raises(DataError):
        label_channels(np.zeros((2, 2, 3), np.uint8), None)


def test_frame_size_mismatch_is_a_data_error(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0", **SHORT_CLIP)
    with pytest.raises(DataError, match="frame 1 has size"):
        list(propagate_video(model, [frames[0], frames[1][:50]], first))


def test_empty_and_single_frame_videos(small_clip, official_model):
    frames, first = small_clip
    model = official_model("seed0")
    assert list(propagate_video(model, [], first)) == []
    assert list(propagate_video(model, frames[:1], first)) == []
