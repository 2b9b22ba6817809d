"""Datasets on disk: DAVIS / YouTube-VOS readers and writers, palette PNGs, training clips, embedded default.

Torch-free on purpose (numpy, Pillow, OpenCV, PyAV only): scoring and data preparation must run
without the model stack, and a torch DataLoader can still wrap :class:`PairSampler` directly.
"""

from .clips import ClipSource, FrameFolderClips, PairIndex, PairSampler, plan_pairs
from .davis import DavisDataset, VideoSequence
from .embedded import default_root, ensure_default, make_default, train_clips_dir
from .embedded_youtube import default_youtube_root, ensure_youtube, make_youtube
from .images import read_rgb, resize_float
from .palette import DAVIS_PALETTE, read_label_map, write_label_map
from .results import ResultsWriter, read_result
from .video import VideoFileClips, decode_video
from .youtube_submission import YouTubeVOSSubmission
from .youtube_vos import FrameInput, YouTubeVOSDataset, YouTubeVOSVideo

__all__ = [
    "DAVIS_PALETTE",
    "ClipSource",
    "DavisDataset",
    "FrameFolderClips",
    "FrameInput",
    "PairIndex",
    "PairSampler",
    "ResultsWriter",
    "VideoFileClips",
    "VideoSequence",
    "YouTubeVOSDataset",
    "YouTubeVOSSubmission",
    "YouTubeVOSVideo",
    "decode_video",
    "default_root",
    "default_youtube_root",
    "ensure_default",
    "ensure_youtube",
    "make_default",
    "make_youtube",
    "plan_pairs",
    "read_label_map",
    "read_result",
    "read_rgb",
    "resize_float",
    "train_clips_dir",
    "write_label_map",
]
