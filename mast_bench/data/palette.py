"""Label maps as palette PNGs: pixel value = object id (0 background, 255 void), DAVIS colours.

The DAVIS toolkit reads annotations and results as indexed PNGs and uses the pixel *index*, never the
colour; writing the same 256-entry palette keeps our files viewable and byte-compatible with DAVIS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write
from ..errors import DataError


def _voc_colour_map(entries: int = 256) -> np.ndarray:
    """PASCAL VOC bit-interleaved colour map: bit k of the index goes to bit 7-k//3 of channel k%3."""
    colours = np.zeros((entries, 3), dtype=np.uint8)
    for index in range(entries):
        value, rgb = index, [0, 0, 0]
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
        colours[index] = rgb
    return colours


DAVIS_PALETTE: np.ndarray = _voc_colour_map()
DAVIS_PALETTE.setflags(write=False)


GREY_ID_MODES = ("L", "1", "I;16", "I;16B", "I;16L", "I")  # one id per pixel, no palette


def label_pngs(folder: Path) -> list[Path]:
    """The folder's label PNGs as the toolkit's ``glob('*.png')`` finds them, sorted by name: hidden
    files (macOS's ``._00000.png`` copies) are skipped, as glob skips them."""
    return sorted(p for p in folder.glob("*.png") if not p.name.startswith("."))


def read_label_map(path: str | Path, *, allow_grey: bool = False, role: str = "label map") -> np.ndarray:
    """Read an indexed PNG as a (H, W) uint8 label map; 255 (void) stays 255. The one label-PNG
    reader: datasets, masks and the metrics read through it.

    An RGB PNG would silently turn colours into wrong ids, so only mode 'P' is accepted, and with
    ``allow_grey`` any one-id-per-pixel PNG the DAVIS toolkit's ``np.array(Image.open(...))`` reads as
    ids: 8-bit grey 'L', 1-bit '1' (ids 0 and 1), 16-bit grey (ids up to 255). ``role`` names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode != "P" and not (allow_grey and mode in GREY_ID_MODES):
                raise DataError(
                    f"{path}: {role} PNG has mode {mode!r}; expected an indexed palette PNG (mode 'P')"
                    + (" or grey ids ('L', 1-bit '1', 16-bit 'I;16')" if allow_grey else "")
                    + " whose pixel values are object ids, not colours"
                )
            values = np.array(image)
    except FileNotFoundError:
        raise DataError(f"{path}: {role} missing (expected an indexed PNG)") from None
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: unreadable {role} PNG ({exc})") from None
    if values.dtype != np.uint8 and values.size and int(values.max()) > 255:
        raise DataError(f"{path}: {role} PNG holds id {int(values.max())}; ids are 0..255 (255: void)")
    return values.astype(np.uint8, copy=False)


def read_prediction(path: Path, shape: tuple[int, int], needed: str) -> np.ndarray:
    """A predicted mask to score, as (H, W) ids: palette or grey ids (as the toolkits read them) at
    the annotation's ``shape``; a missing file says which frames need one (``needed``)."""
    if not path.is_file():
        raise DataError(f"{path}: predicted mask not found ({needed})")
    predicted = read_label_map(path, allow_grey=True, role="predicted mask")
    if predicted.shape != shape:
        raise DataError(
            f"{path}: predicted mask is {predicted.shape[1]}x{predicted.shape[0]}, "
            f"expected {shape[1]}x{shape[0]} (the annotation's size)"
        )
    return predicted


def label_map_image(labels: np.ndarray) -> Image.Image:
    """The palette image for ``labels`` (integer (H, W) array with values 0..255)."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise DataError(f"label map must be 2-D (H, W), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) and labels.dtype != np.bool_:
        raise DataError(f"label map must hold integer object ids, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise DataError(f"label map values must be in 0..255, got {labels.min()}..{labels.max()}")
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    image.putpalette(DAVIS_PALETTE.tobytes())
    return image


def write_label_map(path: str | Path, labels: np.ndarray) -> Path:
    """Write ``labels`` as an indexed PNG with the DAVIS palette, atomically."""
    image = label_map_image(labels)
    return atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))
