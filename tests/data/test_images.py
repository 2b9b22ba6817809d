"""Frames decode to the pixels the official loader's ``cv2.imread`` gives, in the cases where Pillow alone
would not: EXIF orientation, 16-bit samples, CMYK JPEGs; sizes follow, and the layout checks with them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mast_bench.__main__ import main
from mast_bench.data.check import check_davis
from mast_bench.data.davis import DavisDataset
from mast_bench.data.images import frame_size, image_size, list_images, read_rgb
from mast_bench.data.palette import write_label_map
from mast_bench.errors import DataError

STORED = (24, 40)  # (H, W) of the pixels as stored: not square, so a quarter turn shows


def _pattern(seed: int = 0) -> np.ndarray:
    """Smooth enough that JPEG keeps it recognisable, asymmetric so every turn and flip differs."""
    y, x = np.mgrid[: STORED[0], : STORED[1]]
    rgb = np.stack([x * 6, y * 10, (x + 2 * y + 40 * seed) % 256], axis=-1)
    return rgb.clip(0, 255).astype(np.uint8)


def _jpeg(path: Path, orientation: int = 1, mode: str = "RGB", seed: int = 0) -> Path:
    image = Image.fromarray(_pattern(seed)).convert(mode)
    exif = image.getexif()
    if orientation != 1:
        exif[0x0112] = orientation
    image.save(path, quality=95, exif=exif)
    return path


def _official(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_an_exif_orientation_is_applied_as_opencv_applies_it(orientation, tmp_path):
    path = _jpeg(tmp_path / "frame.jpg", orientation)
    ours = read_rgb(path)
    np.testing.assert_array_equal(ours, _official(path))
    turned = orientation in (5, 6, 7, 8)
    assert frame_size(path) == ours.shape[:2] == (STORED[::-1] if turned else STORED)
    assert image_size(path) == STORED  # label maps are read as stored, as the toolkit reads them
    if orientation != 1:
        assert not np.array_equal(ours, read_rgb(_jpeg(tmp_path / "upright.jpg")))


def test_sixteen_bit_and_cmyk_frames_give_opencvs_pixels(tmp_path):
    levels = np.array([[0x01FF, 0x0180, 0x017F, 0xFFFF, 0x0080, 0x00FF]], np.uint16).repeat(4, axis=0)
    grey16 = tmp_path / "grey16.png"
    cv2.imwrite(str(grey16), levels)
    colour16 = tmp_path / "colour16.png"
    cv2.imwrite(str(colour16), np.stack([levels, levels[:, ::-1], levels // 3], axis=-1))
    cmyk = _jpeg(tmp_path / "cmyk.jpg", mode="CMYK")
    cmyk_turned = _jpeg(tmp_path / "cmyk6.jpg", orientation=6, mode="CMYK")
    for path in (grey16, colour16, cmyk, cmyk_turned):
        np.testing.assert_array_equal(read_rgb(path), _official(path), err_msg=path.name)
    assert read_rgb(grey16)[0, :, 0].tolist() == [1, 1, 1, 255, 0, 0]  # the high byte, not clipped to 255
    assert frame_size(cmyk_turned) == STORED[::-1]


def test_a_cut_cmyk_jpeg_is_refused_naming_it(tmp_path):
    path = _jpeg(tmp_path / "cmyk.jpg", mode="CMYK")
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match="cmyk.jpg: unreadable image"):
        read_rgb(path)


def _sideways_davis(root: Path, frames: int, annotation_size: tuple[int, int]) -> Path:
    """Phone footage: frames stored sideways with orientation 6, annotations of ``annotation_size``."""
    frame_dir, anno_dir = root / "JPEGImages/480p/phone", root / "Annotations/480p/phone"
    frame_dir.mkdir(parents=True)
    anno_dir.mkdir(parents=True)
    for t in range(frames):
        _jpeg(frame_dir / f"{t:05d}.jpg", orientation=6, seed=t)
        labels = np.zeros(annotation_size, np.uint8)
        labels[4 + t : 12 + t, 3:10] = 1
        write_label_map(anno_dir / f"{t:05d}.png", labels)
    (root / "ImageSets/2017").mkdir(parents=True)
    (root / "ImageSets/2017/val.txt").write_text("phone\n")
    return root


def test_sideways_stored_frames_with_upright_annotations_are_a_valid_sequence(tmp_path):
    root = _sideways_davis(tmp_path / "davis", 3, annotation_size=STORED[::-1])
    assert check_davis(root).ok
    sequence = DavisDataset(root).sequence("phone")
    assert sequence.size == STORED[::-1]
    assert sequence.frame(2).shape == (*STORED[::-1], 3) == (*sequence.labels(2).shape, 3)
    np.testing.assert_array_equal(sequence.frame(1), _official(sequence.frame_paths[1]))


def test_annotations_drawn_on_the_stored_pixels_are_one_error_naming_the_first(tmp_path, capsys):
    root = _sideways_davis(tmp_path / "davis", 3, annotation_size=STORED)
    with pytest.raises(DataError, match=r"phone/00000.png: size \(H, W\) = \(24, 40\), expected \(40, 24\)"):
        DavisDataset(root).sequence("phone")
    assert main(["check", "--data", str(root)]) == 2
    assert "phone/00000.png: size (H, W) = (24, 40), expected (40, 24)" in capsys.readouterr().err


def test_hidden_files_are_not_frames_and_two_images_of_one_name_are_refused(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t in (10, 2, 1):
        _jpeg(folder / f"{t:05d}.jpg", seed=t)
    (folder / "._00001.jpg").write_bytes(b"\0\5\26\7 AppleDouble resource fork")  # macOS on exFAT
    (folder / ".DS_Store").write_bytes(b"Bud1")
    assert [p.name for p in list_images(folder)] == ["00001.jpg", "00002.jpg", "00010.jpg"]
    _jpeg(folder / "00002.png", seed=9)
    with pytest.raises(DataError, match=r"00002.png: a second image named '00002' beside 00002.jpg"):
        list_images(folder)
