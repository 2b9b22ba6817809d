"""Frame decoding and resizing shared by every reader (one place decides how pixels are produced)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
from PIL import Image

from ..errors import DataError

T = TypeVar("T")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# Bumped when the pixels read_rgb or video.decode_video give for the same file change, so what was
# decoded before (a training set's frames) is made again. 2: EXIF orientation, 16-bit high byte, CMYK
# by OpenCV, videos upright by their display matrix (2026-12-07).
DECODING_VERSION = 2
EXIF_ORIENTATION_TAG = 0x0112
_ORIENTATION_TURNS = {  # EXIF orientation -> the transpose that makes the frame upright (as OpenCV does)
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = (5, 6, 7, 8)
_SIXTEEN_BIT_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # "I": how older Pillow opens them


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode a frame to RGB uint8 (H, W, 3) as the official loader's ``cv2.imread`` sees it.

    Pillow and OpenCV decode DAVIS JPEGs to identical pixels (tested on davis-mini), so Pillow is used
    and the channel order is RGB. Where they differ, OpenCV's pixels are produced: the EXIF orientation
    tag is applied (phone footage stores frames sideways and says so there; annotations drawn on the
    upright frame then fit), 16-bit samples keep their high byte instead of clipping, and CMYK JPEGs
    (whose conversion to RGB rounds differently in Pillow) are decoded by OpenCV itself.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: frame missing (expected an image file)")
    try:
        with Image.open(path) as image:
            if image.mode == "CMYK":
                image.load()  # Pillow refuses a cut file, where OpenCV would return what it decoded
                return _opencv_rgb(path)
            turn = _ORIENTATION_TURNS.get(exif_orientation(image))
            rgb = _to_rgb(image.transpose(turn) if turn is not None else image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: unreadable image ({exc})") from None
    return rgb


def _opencv_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)  # applies the EXIF orientation too
    if bgr is None:
        raise DataError(f"{path}: unreadable image (OpenCV could not decode it)")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in _SIXTEEN_BIT_GREY:
        grey = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)  # OpenCV's 16 -> 8 bits
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1..8; 1 = stored upright) from the header only: a JPEG's APP1
    segment, a PNG's eXIf chunk before its pixels. Anything else or unknown counts as upright."""
    if "exif" not in image.info:
        return 1
    value = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    return value if value in _ORIENTATION_TURNS else 1


def upright_size(image: Image.Image) -> tuple[int, int]:
    """(H, W) of ``image`` once its EXIF orientation is applied (what ``read_rgb`` returns)."""
    width, height = image.size
    return (width, height) if exif_orientation(image) in _QUARTER_TURNS else (height, width)


def read_rgb_sized(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """``read_rgb`` for a frame of a video whose frames must all share frame 0's (H, W)."""
    rgb = read_rgb(path)
    if rgb.shape[:2] != tuple(size):
        raise DataError(f"{path}: frame size {rgb.shape[:2]}, expected {tuple(size)} like frame 0")
    return rgb


def read_rgb_alike(paths: Sequence[Path]) -> list[np.ndarray]:
    """``read_rgb`` of frames that must share the first one's size (a training pair or memory):
    a frame of another size would be stretched against the others, so it is a DataError naming it."""
    frames = [read_rgb(path) for path in paths]
    for path, frame in zip(paths, frames, strict=True):
        if frame.shape != frames[0].shape:
            raise DataError(
                f"{path}: frame size {frame.shape[:2]}, expected {frames[0].shape[:2]} like {paths[0]}"
            )
    return frames


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of the pixels as stored, from the file header only (no decoding): label maps' size."""
    return _from_header(path, lambda image: (image.height, image.width))


def frame_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of the frame ``read_rgb`` decodes (EXIF orientation applied), from the header only."""
    return _from_header(path, upright_size)


def _from_header(path: str | Path, read: Callable[[Image.Image], T]) -> T:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file missing")
    try:
        with Image.open(path) as image:
            return read(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: unreadable image ({exc})") from None


_LABEL_MAP_MODES = ("P", "PA", "1")  # palette (DAVIS, YouTube-VOS, VIP annotations) and 1-bit masks


def training_frames_size(frames: list[Path]) -> tuple[int, int]:
    """:func:`common_size` of a clip's training frames, refusing a label map for a camera frame
    (each frame's, in the same header read): an ``Annotations/`` folder given as frames, or one label
    map among the frames, trained on the label colours, silently."""
    size = None
    for path in frames:
        mode, upright = _from_header(path, lambda image: (image.mode, upright_size(image)))
        if mode in _LABEL_MAP_MODES:
            raise DataError(
                f"{path}: a {'palette' if mode != '1' else '1-bit'} image, as label maps are "
                "(Annotations/), not a camera frame; give the frames' folder (JPEGImages/), or convert "
                "palette frames to RGB"
            )
        size = size or upright
        _same_size(path, upright, size, frames[0])
    return size


def common_size(frames: list[Path], label_maps: list[Path]) -> tuple[int, int]:
    """The (H, W) every frame (upright) and label map (as stored) of a video shares, from headers only;
    DataError naming the first file that differs from frame 0."""
    size = frame_size(frames[0])
    sized = [(path, frame_size) for path in frames[1:]] + [(path, image_size) for path in label_maps]
    for path, measure in sized:
        _same_size(path, measure(path), size, frames[0])
    return size


def _same_size(path: Path, size: tuple[int, int], expected: tuple[int, int], first: Path) -> None:
    if size != expected:
        raise DataError(f"{path}: size (H, W) = {size}, expected {expected} like {first}")


def resize_float(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """float32 [0, 1] image resized to ``size`` = (H, W) as the official training loader does.

    The official code resizes the float image with cv2.resize's default INTER_LINEAR; bilinear
    interpolation acts on each channel separately, so resizing RGB instead of BGR gives the same values.
    """
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / np.float32(255.0)
    height, width = size
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image, dtype=np.float32)
    return cv2.resize(image.astype(np.float32, copy=False), (width, height), interpolation=cv2.INTER_LINEAR)


def has_images(folder: Path) -> bool:
    """Whether ``folder`` holds a frame :func:`list_images` would list (no listing, no checks)."""
    return any(
        p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        for p in folder.iterdir()
    )


def list_images(folder: Path) -> list[Path]:
    """Image files of ``folder`` in natural order (numeric names compare as numbers). Hidden files
    (``.DS_Store``, macOS's ``._00000.jpg`` copies) are not frames; two images of one name
    (``00002.jpg`` and ``00002.png``) are a DataError naming both, not a guess."""
    named = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    broken = next((p for p in sorted(named) if p.is_symlink() and not p.exists()), None)
    if broken is not None:  # skipped, a clip read one frame short: a pair 2 apart was 3 apart
        raise DataError(f"{broken}: a symbolic link to nothing (broken, or a loop); expected an image file")
    files = [p for p in named if p.is_file()]
    by_stem: dict[str, Path] = {}
    for path in sorted(files):
        if path.stem in by_stem:
            raise DataError(
                f"{path}: a second image named {path.stem!r} beside {by_stem[path.stem].name} "
                "(expected one image file per frame)"
            )
        by_stem[path.stem] = path
    return sorted(files, key=lambda p: (0, int(p.stem), p.name) if p.stem.isdigit() else (1, 0, p.name))


def list_video_frames(folder: Path) -> list[Path]:
    """The frames of an evaluated video (:func:`list_images`), refusing names whose order as text,
    which the official code and the toolkits read (``sorted(os.listdir(...))``), is not their order as
    numbers (``9.jpg``, ``10.jpg``): either order would be wrong for one of them."""
    frames = list_images(folder)
    as_text = sorted(frames, key=lambda p: p.name)
    if as_text != frames:
        first = next(i for i, (a, b) in enumerate(zip(frames, as_text, strict=True)) if a != b)
        raise DataError(
            f"{folder}: frame names sort differently as text ({as_text[first].name} before "
            f"{frames[first].name}) and as numbers; the official code and the toolkit read them as text: "
            "zero-pad them (00000.jpg, 00001.jpg ...)"
        )
    return frames
