"""Propagation one frame at a time, with objects that may start at any frame (YouTube-VOS).

Each step encodes its frame once, reads the memory of earlier frames through a
:class:`~mast_bench.model.policy.ReadPolicy`, takes the argmax, then pastes the annotation of the
objects that start at this frame over the prediction (their pixels override it; earlier objects keep
their prediction elsewhere). Prediction and annotation together become this frame's values.

Channels: 0 is background, channel c the c-th object known (declared up front, then in order of
arrival). A new object appends a channel and every value kept in memory gets a zero channel, since
the object was absent from those frames; frames before the arrival therefore read exactly as in a
run where the object never exists.

Anchors: the frame where an object is annotated stays a reference for the rest of the video wherever
the schedule keeps frame 0 so (see MastPolicy: the annotation is the object's only ground truth).
A frame's features and values are dropped once the policy says no later target can read it, so
memory stays bounded on long videos.

Sizes: frames and annotations come at the dataset's size and labels go back at that size. With
``max_side`` the network sees frames of a smaller size, reached by the protocol's resize route
(:class:`~mast_bench.protocols.ResizeRoute`): its size rule and frame resampler, whether annotated
frames reach the feature grid from the network's size or their own, and whether scores are argmaxed
at the frame's size or at the network's and the label map brought back by a nearest rule. The new
objects' annotation is always pasted over the output at full resolution. At the dataset's own size
every route gives the same labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from ..label_ids import MAX_OBJECT_ID
from ..max_side import check_max_side, route_network_size
from ..protocols.config import ResizeRoute
from .frame_memory import FrameMemory, encode_frame
from .labels import keep_objects, nearest_labels, resize_labels
from .policy import MastPolicy, ReadPolicy

NEAREST_OUTPUTS = {"network-pil-nearest": "pil", "network-cv2-nearest": "cv2"}


@dataclass(frozen=True)
class StepOutput:
    """One propagated frame. ``channel_ids[c]`` is the object id of channel c (``channel_ids[0] == 0``)."""

    target: int  # index of the frame in the stream (0 = the first step)
    references: list[int]  # frames read; [] at the first step
    scores: torch.Tensor | None  # (1, channels read, h, w) before upsampling; None at the first step
    labels: torch.Tensor  # (H, W) int64 object ids at the frame's size, annotation of the new objects pasted
    channel_ids: tuple[int, ...]
    new_ids: tuple[int, ...]  # objects that started at this frame

    def channel(self, object_id: int) -> int:
        return self.channel_ids.index(object_id)


class InferenceCore:
    """``core.step(frame, new_labels)`` once per frame, in order; one core per video.

    ``object_ids`` declares objects whose channels exist from the start, in that order (DAVIS passes
    1..max id, so channel k is object k); any other id gets a channel when it first appears.
    ``max_side``: the longest side of the network input (None: frames as they come); ``route``: how
    frames, annotations and labels change size (default: this suite's, MAST's protocol's).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        device: str | torch.device = "cpu",
        policy: ReadPolicy | None = None,
        object_ids: Sequence[int] = (),
        max_side: int | None = None,
        route: ResizeRoute | None = None,
    ) -> None:
        check_max_side(max_side)
        declared = [int(i) for i in object_ids]
        if any(not 0 < i <= MAX_OBJECT_ID for i in declared) or len(set(declared)) != len(declared):
            raise DataError(f"declared object ids must be distinct and in 1..{MAX_OBJECT_ID}, got {declared}")
        self.model = model.eval()  # BatchNorm running statistics, test radius
        self.policy = policy if policy is not None else MastPolicy(model)
        self.device = torch.device(device)
        self._channel_ids = [0, *declared]
        self._start_frames: dict[int, int] = {}
        self._memory = FrameMemory(self.policy)
        self._size: tuple[int, int] | None = None
        self._input_size: tuple[int, int] | None = None
        self._max_side = max_side
        self.route = route if route is not None else ResizeRoute()
        self._next = 0

    @property
    def channel_ids(self) -> tuple[int, ...]:
        return tuple(self._channel_ids)

    @property
    def anchors(self) -> tuple[int, ...]:
        return tuple(self._memory.anchors)

    @property
    def start_frames(self) -> dict[int, int]:
        """Object id -> the step where it was annotated."""
        return dict(self._start_frames)

    @property
    def input_size(self) -> tuple[int, int] | None:
        """(h, w) of the network input (the frames' size shrunk to ``max_side``); None before step 0."""
        return self._input_size

    @property
    def stored_frames(self) -> tuple[int, ...]:
        """Frames whose features and values are still in memory."""
        return self._memory.stored_frames

    def step(
        self, frame: np.ndarray, new_labels: np.ndarray | None = None, new_ids: Sequence[int] | None = None
    ) -> StepOutput:
        """Propagate to ``frame`` (RGB uint8 (H,W,3)). ``new_labels`` (H,W): the objects that start here,
        0 elsewhere (required at the first step, where it may hold no object yet); with ``new_ids``, an
        annotation as stored, of which only those objects are taken (void and others become 0)."""
        index = self._next
        labels, started = self._check_new_labels(index, new_labels, new_ids)
        size = self._check_frame(index, frame)
        small = self._input_size
        with torch.inference_mode():
            encoded = encode_frame(self.model, frame, small, self.route.frames, self.device)
            query = self.policy.features(encoded)
            references: list[int] = []
            scores = None
            channels = torch.zeros(small, dtype=torch.int64, device=self.device)
            if index > 0:
                references, scores = self._memory.read(index, query)
                channels = self.policy.labels(scores, small)
            sampled = channels  # the channel map the stored values are sampled from
            full = None  # an annotated frame's channels at its own size, where the route makes them
            if labels is not None:
                self._register(started, index)
                channels = self._paste(channels, resize_labels(labels, small))
                if self.route.first_labels != "network":
                    sampled = full = self._full_size(scores, labels)
                else:
                    sampled = channels
            count, grid = len(self._channel_ids), tuple(query.shape[-2:])
            values = self.policy.values(sampled, count, scores if labels is None else None, grid)
            self._memory.store(index, query, values)
            ids = torch.tensor(self._channel_ids, dtype=torch.int64, device=self.device)
            if small == size:
                object_labels = ids[channels]
            elif full is not None:  # the same labels _at_frame_size would compute a second time
                object_labels = ids[full]
            else:
                object_labels = self._at_frame_size(ids, scores, labels, size)
        self._next += 1
        return StepOutput(index, references, scores, object_labels, self.channel_ids, started)

    def _full_size(self, scores: torch.Tensor | None, labels: np.ndarray) -> torch.Tensor:
        """Channel indices at the frame's size: the prediction there (none at the first step) with the
        annotation pasted, for a route whose annotated frames reach the grid from their own size."""
        if scores is None:
            predicted = torch.zeros(labels.shape, dtype=torch.int64, device=self.device)
        else:
            predicted = self._output_channels(scores, labels.shape)
        return self._paste(predicted, labels)

    def _output_channels(self, scores: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The route's labels of ``scores`` at the frame ``size``: argmaxed there, or at the network's
        size and brought back by a nearest rule."""
        rule = NEAREST_OUTPUTS.get(self.route.output)
        if rule is None:
            return self.policy.labels(scores, size)
        return nearest_labels(self.policy.labels(scores, self._input_size), size, rule)

    def _at_frame_size(
        self, ids: torch.Tensor, scores: torch.Tensor | None, labels: np.ndarray | None, size: tuple[int, int]
    ) -> torch.Tensor:
        """Object ids at the frame's own size: the route's labels of the scores, then the new objects'
        annotation (full resolution) pasted over them."""
        if scores is None:
            out = torch.zeros(size, dtype=torch.int64, device=self.device)
        else:
            out = ids[self._output_channels(scores, size)]
        if labels is None:
            return out
        annotation = torch.from_numpy(labels.astype(np.int64)).to(self.device)
        return torch.where(annotation > 0, annotation, out)

    def _check_frame(self, index: int, frame: np.ndarray) -> tuple[int, int]:
        size = tuple(np.shape(frame)[:2])
        if size != self._size:
            raise DataError(f"frame {index} has size {size}, the first labels {self._size}")
        return self._size

    def _check_new_labels(
        self, index: int, new_labels: np.ndarray | None, new_ids: Sequence[int] | None
    ) -> tuple[np.ndarray | None, tuple]:
        """The new objects' (H, W) uint8 label map at the frame's size and their ids (None, () if none)."""
        where = f"new labels of frame {index}"
        if new_labels is None:
            if index == 0:
                raise DataError(f"{where}: required at the first step (the annotation of the first objects)")
            return None, ()
        labels = np.asarray(new_labels)
        if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{where}: expected an (H, W) integer label map, {labels.dtype} {labels.shape}")
        if index > 0 and labels.shape != self._size:
            raise DataError(f"{where}: size {labels.shape}, the frames are {self._size}")
        if new_ids is not None:
            labels = keep_objects(labels, new_ids)
        ids = tuple(int(i) for i in np.unique(labels) if i != 0)
        if any(not 0 < i <= MAX_OBJECT_ID for i in ids):
            raise DataError(
                f"{where}: ids {list(ids)}; objects are 1..{MAX_OBJECT_ID} and 0 is background "
                "(map void 255 to 0 first, or name the new objects' ids)"
            )
        if not ids and index > 0:
            raise DataError(f"{where}: no object starts here (only 0); pass None instead")
        started = [i for i in ids if i in self._start_frames]
        if started:
            raise DataError(
                f"{where}: object {started[0]} already started at frame {self._start_frames[started[0]]}; "
                "new labels hold only the objects that start at this frame"
            )
        if index == 0:
            self._size = labels.shape
            self._input_size = route_network_size(labels.shape, self._max_side, self.route.size)
        return labels.astype(np.uint8), ids

    def _register(self, new_ids: tuple, index: int) -> None:
        """Give the new objects channels (zero channels appended to the stored values); an annotated
        frame becomes an anchor."""
        added = [i for i in new_ids if i not in self._channel_ids]
        if added:
            self._channel_ids += added
            self._memory.add_channels(len(added))
        for object_id in new_ids:
            self._start_frames[object_id] = index
        if new_ids or index == 0:
            self._memory.anchors.append(index)

    def _paste(self, channels: torch.Tensor, labels: np.ndarray) -> torch.Tensor:
        """``channels`` with the objects of ``labels`` (ids, same size) pasted as their channel indices."""
        lookup = torch.zeros(MAX_OBJECT_ID + 1, dtype=torch.int64, device=self.device)
        lookup[torch.tensor(self._channel_ids, device=self.device)] = torch.arange(
            len(self._channel_ids), device=self.device
        )
        annotation = torch.from_numpy(labels.astype(np.int64)).to(self.device)
        return torch.where(annotation > 0, lookup[annotation], channels)
