"""The built-in protocols: MAST's own memory and the label propagation of CRW, VFS and DINO.

Every number was read from the trackers' own evaluation code (repository and files in ``source``).
What the field layout cannot say, and what stays uncertain, is in each protocol's notes below.
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
      time"); test_args() defaults to 0.07.

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
      (norm_mask), argmax. Not reproduced: frames resized so that each side is a multiple of 64
      (a ViT input constraint), and ties at the k-th weight (DINO keeps every candidate >= the
      k-th largest, torch.topk exactly k).
"""

from __future__ import annotations

from .config import ContextRead, ProtocolConfig
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
)


def builtin_protocols() -> list[ProtocolConfig]:
    return [MAST_PROTOCOL, CRW_PROTOCOL, VFS_PROTOCOL, DINO_PROTOCOL]


def register_builtins(registry: ProtocolRegistry) -> None:
    for config in builtin_protocols():
        registry.register(config)
