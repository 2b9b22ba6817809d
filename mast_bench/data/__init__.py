"""Datasets on disk: DAVIS / YouTube-VOS readers and writers, palette PNGs, evaluation sets, training
clips, the embedded defaults, the pre-flight check.

Torch-free on purpose (numpy, Pillow, OpenCV, PyAV only): scoring and data preparation must run
without the model stack, and a torch DataLoader can still wrap :class:`PairSampler` directly.
Names are imported lazily, so a scoring worker that reads label PNGs loads only the palette module.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "ClipSource": "clips",
    "FrameFolderClips": "clips",
    "PairIndex": "clips",
    "PairSampler": "clips",
    "plan_pairs": "clips",
    "DavisDataset": "davis",
    "VideoSequence": "davis",
    "DATASET_KINDS": "detect",
    "detect_kind": "detect",
    "require_kind": "detect",
    "default_root": "embedded",
    "ensure_default": "embedded",
    "make_default": "embedded",
    "train_clips_dir": "embedded",
    "default_youtube_root": "embedded_youtube",
    "ensure_youtube": "embedded_youtube",
    "make_youtube": "embedded_youtube",
    "read_rgb": "images",
    "resize_float": "images",
    "FrameInput": "inputs",
    "VideoInput": "inputs",
    "MaskWriter": "masks",
    "SequenceMasks": "masks",
    "read_mask": "masks",
    "DAVIS_PALETTE": "palette",
    "read_label_map": "palette",
    "write_label_map": "palette",
    "DataSpec": "splits",
    "DavisSplit": "splits",
    "YouTubeSplit": "splits",
    "open_split": "splits",
    "VideoFileClips": "video",
    "decode_video": "video",
    "YouTubeVOSSubmission": "youtube_submission",
    "YouTubeVOSDataset": "youtube_vos",
    "YouTubeVOSVideo": "youtube_vos",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
