"""The frozen, typed description of one test-time label-propagation protocol.

Self-supervised trackers are compared under different test-time rules (which earlier frames are
read, how candidates are selected and weighted, how labels reach the feature grid and are fed
back), so a published gap mixes the representation with the propagation rule. A protocol is that
rule as data, crossed with a variant (the features) to tell the two apart. Torch-free, as the
variants: the model side reads these fields and never a protocol's name.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from ..config import check_name

# How the queue of previous frames starts, for a target t <= previous_frames (N):
#   pad-first:   the video is padded in front with copies of frame 0, so the queue always holds N
#                frames, copies of frame 0 included (they count as N separate candidates sets)
#   with-first:  frames max(0, t-N) .. t-1: frame 0 is read as the first frame and as a previous one
#   after-first: frames max(1, t-N) .. t-1: frame 0 is read only as the first frame
QueueStart = Literal["pad-first", "with-first", "after-first"]
# square: candidates with |dy| <= radius and |dx| <= radius; disk: Euclidean offset < radius (strict)
# as a variant's radii: a window of radius 64 (129 x 129 candidates per pixel) already spans a 480p
# frame at stride 4, and a larger one only asks for memory (radius 100000: a 480 GB allocation)
MAX_RADIUS = 64
# the context queue: every previous frame is kept (and "pad-first" fills the queue with copies of frame
# 0 on any video), so 100000 asked for gigabytes of copies; the field's protocols keep 7 to 20
MAX_PREVIOUS_FRAMES = 500
# (query . key) / temperature: below this a raw dot product over the temperature overflows float32,
# and every score of the read is NaN (scored as J&F 0); the field's temperatures are 0.01 to 0.1
MIN_TEMPERATURE = 1e-6
WindowShape = Literal["square", "disk"]
# how annotated frames (the first frame) are read: every position ("full"), or through the window
FirstFrame = Literal["full", "window"]
# window candidates outside the key grid: not candidates ("excluded"), or logit 0 and value 0 ("zero")
Outside = Literal["excluded", "zero"]
# how an annotated label map reaches the feature grid (h, w) = ceil(H/s), ceil(W/s):
#   top-left: the top-left pixel of each s x s cell (labels[::s, ::s])
#   bilinear: bilinear resize of the one-hot map (half-pixel centres, no antialiasing)
#   nearest:  nearest resize with half-pixel centres (source pixel floor((i + 0.5) * H / h))
LabelSampling = Literal["top-left", "bilinear", "nearest"]
# what a propagated frame stores as its values: the one-hot of its argmax labels, resampled as the
# annotations ("hard"), or the read's own scores on the feature grid ("soft")
Feedback = Literal["hard", "soft"]
# before the argmax of the upsampled scores: nothing, or each channel rescaled to [0, 1] over the
# frame (x - min) / (max - min) wherever its max is > 0
ScoreNormalisation = Literal["none", "minmax"]

# The resize route: how a frame of the dataset's size reaches the network, how the first labels reach
# the feature grid and how scores come back as labels at the dataset's size. Each original has its own
# and they differ only when the network runs smaller than the dataset (or at its own input size).
# The network input size, from the frame's (H, W) and the job's max_side:
#   keep-aspect:    the longer side shrunk to max_side, aspect kept (this suite's rule, max_side.py)
#   square:         max_side x max_side whenever max_side is given (CRW's --cropSize sets both sides)
#   multiple-of-64: keep-aspect, then the width (the height of a portrait frame) floored to a multiple
#                   of 64 (DINO's read_frame: short side 480, the other floored to a multiple of 64)
NetworkSize = Literal["keep-aspect", "square", "multiple-of-64"]
# How frames are resized to it (nothing happens at the frame's own size):
#   pil-bilinear:     PIL's bilinear on the uint8 frame, antialiased when shrinking (this suite's)
#   cv2-linear:       cv2.resize INTER_LINEAR on the uint8 frame (DINO's read_frame, VFS's mmcv Resize)
#   cv2-linear-float: cv2.resize INTER_LINEAR on the frame as float32 / 255 (CRW's load_image + resize)
FrameResize = Literal["pil-bilinear", "cv2-linear", "cv2-linear-float"]
# Where the label sampling to the feature grid starts for annotated frames:
#   network: the annotation resized to the network input (PIL nearest) first (this suite's, VFS's)
#   frame:   the annotation at the frame's size, straight to the grid (DINO's read_seg)
FirstLabels = Literal["network", "frame"]
# How scores become labels at the frame's size:
#   frame:               upsampled to the frame's size, argmax there (this suite's, VFS's)
#   network-pil-nearest: upsampled to the network input, argmax, PIL NEAREST to the frame (DINO)
#   network-cv2-nearest: upsampled to the network input, argmax, cv2 INTER_NEAREST to the frame (CRW)
OutputLabels = Literal["frame", "network-pil-nearest", "network-cv2-nearest"]


@dataclass(frozen=True)
class ResizeRoute:
    """The protocol's route between the dataset's size and the network's (the defaults: this suite's,
    and MAST's own, which never resizes)."""

    size: NetworkSize = "keep-aspect"
    frames: FrameResize = "pil-bilinear"
    first_labels: FirstLabels = "network"
    output: OutputLabels = "frame"


@dataclass(frozen=True)
class ContextRead:
    """A context-queue tracker's read: the annotated frames + the ``previous_frames`` before the
    target, ONE top-k softmax of (query . key) / temperature over all their candidates jointly.

    Radius and grid are in feature pixels of the variant's encoder (its own stride).
    """

    previous_frames: int
    queue_start: QueueStart
    top_k: int | None  # None: softmax over every candidate
    temperature: float
    radius: int
    window: WindowShape
    first_frame: FirstFrame
    normalise_features: bool  # L2 over channels, once per frame, before it is stored or read
    label_sampling: LabelSampling
    feedback: Feedback
    score_normalisation: ScoreNormalisation
    outside: Outside = "excluded"

    def __post_init__(self) -> None:
        if not 0 <= self.previous_frames <= MAX_PREVIOUS_FRAMES:
            raise ValueError(
                f"previous_frames must be >= 0 and <= {MAX_PREVIOUS_FRAMES}, got {self.previous_frames}"
            )
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be >= 1 (or 'none' for every candidate), got {self.top_k}")
        if not (self.temperature >= MIN_TEMPERATURE and math.isfinite(self.temperature)):
            raise ValueError(
                f"temperature must be a finite number >= {MIN_TEMPERATURE:g}, got {self.temperature}"
            )
        if not 1 <= self.radius <= MAX_RADIUS:
            raise ValueError(f"radius must be >= 1 and <= {MAX_RADIUS} feature pixels, got {self.radius}")


@dataclass(frozen=True)
class ProtocolConfig:
    """One named protocol; ``context`` None means the variant's own memory read (MAST: its
    reference schedule, ROI memory, radius and affinity scale, exactly as without a protocol)."""

    name: str
    description: str = ""
    source: str = ""  # where its numbers were read: repository and files
    context: ContextRead | None = None
    route: ResizeRoute = ResizeRoute()

    def __post_init__(self) -> None:
        check_name(self.name, "protocol name")
        if self.context is not None and not isinstance(self.context, ContextRead):
            raise ValueError(f"context must be a ContextRead or None, got {type(self.context).__name__}")
        if not isinstance(self.route, ResizeRoute):
            raise ValueError(f"route must be a ResizeRoute, got {type(self.route).__name__}")
        sampling = self.context.label_sampling if self.context is not None else "top-left"
        if self.route.first_labels == "frame" and sampling == "top-left":
            raise ValueError(
                "route.first_labels = 'frame' needs a label sampling that resizes (bilinear or nearest); "
                "the top-left sample of each cell is defined at the network's size only"
            )

    @property
    def uses_variant_memory(self) -> bool:
        return self.context is None

    def replace(self, **changes) -> ProtocolConfig:
        return dataclasses.replace(self, **changes)
