"""Video files: find them, decode them in order (PyAV, or OpenCV where PyAV is missing), and read
frames by index.

Both decoders are FFmpeg underneath and give the same RGB pixels for the registry footage (checked
on all 13 clips: identical for 12, MPEG-2 cityCC0.mpg within 1.4 grey levels on average), so a
machine without PyAV (the lent GPU machine) still reads every clip. A video whose display matrix
says it is rotated (phone footage) comes out upright from both: OpenCV turns it, and so does
``upright_rgb`` for PyAV. A frame that fails to decode is named by its index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from ..errors import DataError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg")

try:  # PyAV is a dependency, but a bare machine (the GPU one) may only have OpenCV
    import av
except ImportError:  # pragma: no cover - exercised on machines without PyAV
    av = None


def is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def video_files(folder: Path) -> list[Path]:
    """The video files directly inside ``folder``, by name; hidden files (macOS's ``._clip.mp4``
    copies) are not videos."""
    return sorted(p for p in folder.iterdir() if is_video(p) and not p.name.startswith("."))


def decoder_name() -> str:
    return "pyav" if av is not None else "opencv"


def shrink(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    """Scale a frame down (area averaging) so its longer side is at most ``max_side``."""
    height, width = frame.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return frame
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def upright_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A PyAV frame as RGB, turned upright by its display matrix as OpenCV turns it (phone videos are
    stored sideways and say so there; PyAV leaves them sideways)."""
    rgb = frame.to_ndarray(format="rgb24")
    quarter_turns = round(getattr(frame, "rotation", 0) / 90) % 4  # counter-clockwise, in degrees
    return np.ascontiguousarray(np.rot90(rgb, quarter_turns)) if quarter_turns else rgb


def _decode_pyav(path: Path) -> Iterator[np.ndarray]:
    index = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"{path}: no video stream")
            for frame in container.decode(container.streams.video[0]):
                yield upright_rgb(frame)
                index += 1
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        where = "not a readable video" if index == 0 else f"frame {index} does not decode"
        raise DataError(f"{path}: {where} ({exc})") from None


def _decode_opencv(path: Path) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"{path}: not a readable video (OpenCV cannot open it)")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(frame[..., ::-1])
    finally:
        capture.release()


def decode_video(path: str | Path, max_side: int | None = None) -> Iterator[np.ndarray]:
    """Every frame of ``path`` in order, RGB uint8 (H, W, 3), shrunk to ``max_side`` if given.

    Raises DataError naming the file (and the frame) when the file is missing, is not a video,
    has no frame, or stops decoding part-way.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: video file missing")
    frames = _decode_pyav(path) if av is not None else _decode_opencv(path)
    count = 0
    for frame in frames:
        count += 1
        yield shrink(frame, max_side)
    if count == 0:
        raise DataError(f"{path}: no decodable frame (expected a video with at least one frame)")


def check_decodes(path: str | Path) -> None:
    """DataError naming ``path`` unless its first frame decodes: a cheap look before a long decode
    of other videos (a folder's last video, unreadable, was found after all the others)."""
    frames = decode_video(path)
    try:
        next(frames)
    finally:
        frames.close()


def declared_frames(path: str | Path) -> int | None:
    """The frame count the container declares (None where it declares none); a file whose frames
    partly fail to decode yields fewer (opencv-doc's tree.avi declares 444 and 68 decode)."""
    try:
        if av is not None:
            with av.open(str(path)) as container:
                count = container.streams.video[0].frames if container.streams.video else 0
        else:
            capture = cv2.VideoCapture(str(path))
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            capture.release()
    except Exception:  # unreadable files are reported by decode_video, with the reason
        return None
    return count or None


def _probe_timestamps(path: Path) -> tuple[int, ...]:
    """Presentation timestamps of every video frame, from the packets (demuxing only, no decoding)."""
    if av is None:
        raise DataError(f"{path}: reading frames by index needs PyAV (pip install av)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"{path}: no video stream")
            stream = container.streams.video[0]
            stamps = [packet.pts for packet in container.demux(stream) if packet.size > 0]
    except DataError:
        raise
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable video ({exc})") from None
    if not stamps:
        raise DataError(f"{path}: video has no frames")
    if any(s is None for s in stamps):
        raise DataError(f"{path}: video packets have no timestamps (cannot seek to frames)")
    return tuple(sorted(stamps))


class VideoFileClips:
    """Each video file is a clip; frames are decoded with PyAV from the nearest keyframe before them.

    Random access straight into the files, without cuts or weights; a training set
    (:mod:`.training_set`) is the better source for training (decoded once, split at cuts).
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]) -> None:
        if isinstance(paths, (str, Path)):
            folder = Path(paths)
            paths = video_files(folder) if folder.is_dir() else [folder]
        self.paths = tuple(Path(p) for p in paths)
        if not self.paths:
            raise DataError("no video files given (expected .mp4/.avi/.mkv/... files)")
        for path in self.paths:
            if not path.is_file():
                raise DataError(f"{path}: video file missing")
        self._stamps = tuple(_probe_timestamps(p) for p in self.paths)

    @property
    def clip_names(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.paths)

    def num_frames(self, clip: int) -> int:
        return len(self._stamps[clip])

    def check(self) -> None:
        """Nothing more to learn without decoding: every file was probed when opened."""

    def read_frames(self, clip: int, indices: Sequence[int]) -> list[np.ndarray]:
        path, stamps = self.paths[clip], self._stamps[clip]
        wanted = {stamps[i]: i for i in indices}
        decoded: dict[int, np.ndarray] = {}
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                container.seek(min(wanted), stream=stream, backward=True, any_frame=False)
                last = max(wanted)
                for frame in container.decode(stream):
                    if frame.pts in wanted:
                        decoded[wanted[frame.pts]] = upright_rgb(frame)
                    if frame.pts is not None and frame.pts >= last:
                        break
        except (av.error.FFmpegError, OSError) as exc:
            raise DataError(f"{path}: cannot decode frames {sorted(indices)} ({exc})") from None
        missing = [i for i in indices if i not in decoded]
        if missing:
            raise DataError(f"{path}: frame {missing[0]} could not be decoded")
        return [decoded[i] for i in indices]
