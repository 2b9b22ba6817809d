"""The built-in protocols: MAST's own memory and the label propagation of CRW, VFS and DINO.

Every number was read from the trackers' own evaluation code (repository and files in ``source``).
What the field layout cannot say, and what stays uncertain, is in each protocol's notes below.
Audited 2026-12-06 against ajabri/videowalk 047f3f4, xvjiarui/VFS 8e055cc and facebookresearch/dino
7c446df, each loop re-read line by line. VFS's and DINO's, run as copies (outside this repository) on
the features InferenceCore reads, give its labels on every propagated frame at the dataset's size
(VFS's at a reduced size too; scores within 5e-7). CRW's (2026-12-07: vos.py's labels, MaskedAttention,
mem_efficient_batched_affinity, test.py's loop, dump_predictions and convert_davis.py, copied) gives
them on 3 clips at 216x120 (81 frames) and 214x121 (63): 2 pixels of one frame differ, float ties
(CRW sums its top 10 in rank order, this suite per window entry: 0.50000006 against 0.5). At a
reduced size it differs by its blended label colours (below); with those replaced by PIL nearest it
gives the same labels on every frame. What differs is under "Not reproduced" below.
Radii are in feature pixels of the encoder the protocol is run with.

mast  (zlai0/MAST benchmark.py, models/colorizer.py): the variant's reference schedule (frames 0
      and 5, t-1, t-3, t-5), one softmax over raw dot products (temperature 1, no top-k) in a
      radius-12 window, ROI localisation for references more than 15 frames back; labels sampled
      at the top-left pixel of each cell, argmax one-hot fed back.

crw   (ajabri/videowalk code/test.py, code/utils/test_utils.py, code/utils/__init__.py
      MaskedAttention, code/data/vos.py, README.md): first frame + 20 previous, top-10, temperature
      0.05, L2-normalised features. The disk (distance < 12) is added as -1e10 to the 20 previous
      frames only; the first frame is read in full. The video is padded with 20 copies of frame 0
      (vos.py make_paths), so early targets read frame 0 up to 21 times, and top-k ranks the copies
      as separate candidates. Labels: cv2.resize of the one-hot map (its third positional argument
      is ``dst``, so INTER_LINEAR), soft predictions fed back un-normalised, upsampled by cv2
      bilinear and argmaxed (norm_mask is off by default). Uncertain: the temperature is the
      README's test command (``--temperature 0.05``, "the same temperature used at training
      time"); test_args() defaults to 0.07. Not reproduced (no scored frame changes): CRW saves
      frame 0 as its resampled one-hot, argmaxed (test.py ``pred = lbls[0]``), this suite the
      annotation (the toolkit skips frame 0); CRW gives every colour of the first annotation a
      channel, void (255) included, where this suite reads void as background. Float-level only:
      the first labels reach the grid by torch bilinear where CRW uses cv2 INTER_LINEAR, equal at an
      integer scale and within 3e-5 otherwise (480x854 -> 120x214); CRW orders label channels by
      BGR colour, the palette's ids 8 and up out of id order, so an exact tie could break otherwise.

vfs   (xvjiarui/VFS mmaction/models/trackers/vanilla_tracker.py, mmaction/models/common/
      local_attention.py masked_attention_efficient, mmaction/models/common/affinity_utils.py
      spatial_neighbor, configs/r18_nc_sgd_cos_100e_r2_1xNx8_k400.py test_cfg): first frame +
      frames max(0, t-20)..t-1 (precede_frames=20, with_first: frame 0 is read twice while t <= 20),
      top-10, temperature 0.07, L2-normalised (with_norm). ``neighbor_range=24`` is a diameter:
      mode 'circle' keeps distance < 24 // 2 = 12, on every context frame including the first
      (with_first_neighbor -> non_mask_len=0); the ResNet-50 configs use 36 (radius 18).
      Labels: PIL nearest to the feature grid, soft predictions fed back, bilinear upsampling, then
      per-channel min-max normalisation before the argmax. Spa-then-Temp (qianduoduolr/
      Spa-then-Temp configs/test/res18_d4.py) is this tracker with mode 'square' and
      neighbor_range 70 at stride 4, i.e. a square of radius 35: derive it with
      ``context.window = "square"``, ``context.radius = 35``.

dino  (facebookresearch/dino eval_video_segmentation.py): first frame + the 7 previous frames
      (the queue starts at frame 1), top-5, temperature 0.1 (hard-coded ``/ 0.1``), L2-normalised;
      the square neighbourhood of size_mask_neighborhood=12 ((2*12+1)^2) multiplies exp(affinity)
      of every context frame, the first included. Labels: PIL nearest (``resize(..., 0)``), soft
      predictions fed back before normalisation, bilinear upsampling, per-channel min-max
      (norm_mask), argmax. Not reproduced: ties at the k-th weight (DINO keeps every candidate >=
      the k-th largest, torch.topk exactly k); a channel constant and > 0 over a frame (norm_mask
      divides 0 by 0 and the NaN channel wins every pixel; here it scores 0).

Resize routes (``route``; they only matter when the network runs smaller than the dataset, or at an
input size of its own). At the dataset's size every route is the identity, so full-size results are
those of the protocols before routes existed.
mast  never resizes; this suite's route: frames PIL bilinear to the max_side size, annotations PIL
      nearest to it, scores upsampled to the dataset's size and argmaxed there.
crw   code/data/vos.py (--cropSize > 0): frames read as float32 / 255, cv2.resize INTER_LINEAR to
      cropSize x cropSize (``ratio = 1.0``: a square whatever the aspect); scores cv2-resized to that
      image and argmaxed (code/utils/test_utils.py dump_predictions), the label map cv2 INTER_NEAREST
      back to the annotation's size (code/eval/convert_davis.py:69). Not reproduced at reduced size:
      vos.py resizes the *colour* label image with INTER_LINEAR too (``cv2.resize(lblimg, (newh,
      neww), cv2.INTER_NEAREST)`` passes the flag as ``dst``), so blended boundary colours become
      extra label channels (at cropSize 160 on three 480p clips: 15-56 extra channels, 0-4,713
      pixels of 409,920 differ a frame, mean J within 0.006); here the annotation reaches the network
      size by PIL nearest.
vfs   mmaction Resize (mmcv.imresize, cv2 INTER_LINEAR on uint8) of the frames; the annotation PIL
      nearest to the network size, then to the grid (pil_nearest_interpolate); scores bilinear to
      ``original_shape`` (vanilla_tracker.py). VFS's own size, short side 480, is DAVIS-480p's own;
      its Resize scales smaller frames up to it, this suite never scales up.
dino  eval_video_segmentation.py read_frame (cv2 INTER_LINEAR on uint8), read_seg (the original
      annotation PIL NEAREST straight to the grid), lines 74-80 (scores upsampled by the patch size,
      argmax, PIL NEAREST to the original size). ``dino-64`` adds DINO's input size: the width (a
      portrait frame's height) floored to a multiple of 64 (480x854 -> 480x832 at full size, so its
      full-size results differ from ``dino``'s). Not reproduced: for square frames read_seg floors the
      other side than read_frame (its label grid is transposed against the feature grid); read_frame
      scales every frame's short side to 480 (``scale_size=[480]``), up as well as down, where this
      suite keeps the frame's size or shrinks it to ``max_side``: the sizes agree on DAVIS 480p and
      wherever ``max_side`` brings the short side to 480 (1080x1920 or 720x1280 at 854 -> 480x832),
      not where the short side stays below 480.
"""

from __future__ import annotations

from .config import ContextRead, ProtocolConfig, ResizeRoute
from .registry import ProtocolRegistry

MAST_PROTOCOL = ProtocolConfig(
    name="mast",
    description="the variant's own memory: reference schedule, ROI memory, radius, raw dot products",
    source="zlai0/MAST benchmark.py, models/colorizer.py",
)

CRW_PROTOCOL = ProtocolConfig(
    name="crw",
    description="CRW: first frame in full + 20 previous (padded with frame 0) in a disk of radius 12, "
    "top-10, temperature 0.05, soft feedback",
    source="ajabri/videowalk code/test.py, code/utils/test_utils.py, code/utils/__init__.py, "
    "code/data/vos.py, README.md",
    context=ContextRead(
        previous_frames=20,
        queue_start="pad-first",
        top_k=10,
        temperature=0.05,
        radius=12,
        window="disk",
        first_frame="full",
        normalise_features=True,
        label_sampling="bilinear",
        feedback="soft",
        score_normalisation="none",
    ),
    route=ResizeRoute(
        size="square", frames="cv2-linear-float", first_labels="network", output="network-cv2-nearest"
    ),
)

VFS_PROTOCOL = ProtocolConfig(
    name="vfs",
    description="VFS: first frame + 20 previous, all in a disk of radius 12, top-10, temperature 0.07, "
    "soft feedback, min-max normalised scores",
    source="xvjiarui/VFS mmaction/models/trackers/vanilla_tracker.py, "
    "mmaction/models/common/local_attention.py, mmaction/models/common/affinity_utils.py, "
    "configs/r18_nc_sgd_cos_100e_r2_1xNx8_k400.py",
    context=ContextRead(
        previous_frames=20,
        queue_start="with-first",
        top_k=10,
        temperature=0.07,
        radius=12,
        window="disk",
        first_frame="window",
        normalise_features=True,
        label_sampling="nearest",
        feedback="soft",
        score_normalisation="minmax",
    ),
    route=ResizeRoute(size="keep-aspect", frames="cv2-linear", first_labels="network", output="frame"),
)

DINO_PROTOCOL = ProtocolConfig(
    name="dino",
    description="DINO: first frame + 7 previous, all in a square of radius 12, top-5, temperature 0.1, "
    "soft feedback, min-max normalised scores",
    source="facebookresearch/dino eval_video_segmentation.py",
    context=ContextRead(
        previous_frames=7,
        queue_start="after-first",
        top_k=5,
        temperature=0.1,
        radius=12,
        window="square",
        first_frame="window",
        normalise_features=True,
        label_sampling="nearest",
        feedback="soft",
        score_normalisation="minmax",
    ),
    route=ResizeRoute(
        size="keep-aspect", frames="cv2-linear", first_labels="frame", output="network-pil-nearest"
    ),
)

DINO_64_PROTOCOL = DINO_PROTOCOL.replace(
    name="dino-64",
    description="DINO with its own input size: the width (a portrait frame's height) floored to a "
    "multiple of 64",
    route=ResizeRoute(
        size="multiple-of-64", frames="cv2-linear", first_labels="frame", output="network-pil-nearest"
    ),
)


def builtin_protocols() -> list[ProtocolConfig]:
    return [MAST_PROTOCOL, CRW_PROTOCOL, VFS_PROTOCOL, DINO_PROTOCOL, DINO_64_PROTOCOL]


def register_builtins(registry: ProtocolRegistry) -> None:
    for config in builtin_protocols():
        registry.register(config)
