"""Small video files written on the fly (OpenCV's mp4v / MJPG writers, PyAV for MPEG transport
streams), for the training-set tests."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

SIZE = (48, 64)  # H, W


def scene(index: int, t: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame ``t`` of scene ``index``: a flat scene colour with a white square moving right."""
    colours = [(40, 80, 160), (200, 60, 30), (30, 170, 60), (180, 180, 40)]
    frame = np.zeros((*SIZE, 3), np.uint8)
    frame[:] = colours[index % len(colours)]
    frame[10:22, (2 * t) % 50 : (2 * t) % 50 + 12] = 255
    return frame


def write_video(path: Path, frames: int, frame: Callable[[int], np.ndarray], codec: str = "mp4v") -> Path:
    """An RGB frame function -> a video file of ``frames`` frames at 10 fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 10, (SIZE[1], SIZE[0]))
    for t in range(frames):
        writer.write(np.ascontiguousarray(frame(t)[..., ::-1]))
    writer.release()
    return path


def cut_video(path: Path, frames: int = 30, cut: int = 12) -> Path:
    """One scene, then another from frame ``cut`` on."""
    return write_video(path, frames, lambda t: scene(0 if t < cut else 1, t))


def still_video(path: Path, frames: int = 20) -> Path:
    """Nothing moves (a talking head with its mouth shut)."""
    return write_video(path, frames, lambda t: scene(2, 0))


_ROTATIONS = {  # the track header's display matrix (16.16 fixed point; w in 2.30) per clockwise turn
    90: (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000),
    180: (-0x10000, 0, 0, 0, -0x10000, 0, 0, 0, 0x40000000),
    270: (0, -0x10000, 0, 0x10000, 0, 0, 0, 0, 0x40000000),
}


def rotate_mp4(path: Path, degrees: int) -> Path:
    """Mark an MP4 as filmed sideways, as phones do: its pixels stay, its display matrix turns them."""
    data = bytearray(path.read_bytes())
    box = data.find(b"tkhd")
    times = 8 + 8 + 4 + 4 + 8 if data[box + 4] == 1 else 4 + 4 + 4 + 4 + 4  # version 1: 64-bit times
    matrix = box + 4 + 4 + times + 8 + 2 + 2 + 2 + 2
    data[matrix : matrix + 36] = struct.pack(">9i", *_ROTATIONS[degrees])
    path.write_bytes(bytes(data))
    return path


def _transport_stream(frames: list[np.ndarray]) -> bytes:
    """MPEG-2 video in an MPEG transport stream (what broadcast and camcorders record)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("mpeg2video", rate=10)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def resolution_switch_video(path: Path, frames: int = 24, switch: int = 12) -> Path:
    """One scene whose stream switches to a larger frame size part-way (two transport streams end
    to end, as a recorder or a stream that adapts its resolution writes them)."""
    before = [scene(1, t) for t in range(switch)]
    after = [cv2.resize(scene(1, t), (96, 64), interpolation=cv2.INTER_AREA) for t in range(switch, frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_transport_stream(before) + _transport_stream(after))
    return path
