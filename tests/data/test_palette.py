from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.palette import DAVIS_PALETTE, read_label_map, write_label_map
from mast_bench.errors import DataError


def test_palette_first_entries_and_last_by_hand():
    # index bits (b2 b1 b0) go to the top bit of (B, G, R); next three bits to the next bit down...
    expected = {
        0: (0, 0, 0),
        1: (128, 0, 0),
        2: (0, 128, 0),
        3: (128, 128, 0),
        4: (0, 0, 128),
        5: (128, 0, 128),
        7: (128, 128, 128),
        8: (64, 0, 0),
        9: (192, 0, 0),
        255: (224, 224, 192),  # the VOC "void" colour
    }
    for index, rgb in expected.items():
        assert tuple(DAVIS_PALETTE[index]) == rgb
    assert DAVIS_PALETTE.shape == (256, 3) and DAVIS_PALETTE.dtype == np.uint8
    assert len({tuple(c) for c in DAVIS_PALETTE}) == 256
    assert not DAVIS_PALETTE.flags.writeable


def test_palette_equals_the_davis_annotations(davis_mini: Path):
    with Image.open(davis_mini / "Annotations/480p/bmx-trees/00000.png") as image:
        assert bytes(image.getpalette()) == DAVIS_PALETTE.tobytes()


def test_round_trip_keeps_every_value_and_the_palette(tmp_path: Path):
    labels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    labels[0, :3] = 255
    path = write_label_map(tmp_path / "a" / "00000.png", labels)
    np.testing.assert_array_equal(read_label_map(path), labels)
    with Image.open(path) as image:
        assert image.mode == "P"
        assert bytes(image.getpalette()) == DAVIS_PALETTE.tobytes()
    assert [p.name for p in path.parent.iterdir()] == ["00000.png"]  # no temp file left


def test_round_trip_of_a_real_annotation_is_identical(davis_mini: Path, tmp_path: Path):
    source = davis_mini / "Annotations/480p/bmx-trees/00040.png"
    labels = read_label_map(source)
    assert set(np.unique(labels)) == {0, 1, 2}
    copy = write_label_map(tmp_path / "x.png", labels)
    with Image.open(source) as a, Image.open(copy) as b:
        assert np.array_equal(np.array(a), np.array(b)) and a.getpalette() == b.getpalette()


def test_rgb_png_is_refused_naming_the_file(tmp_path: Path):
    path = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    with pytest.raises(DataError, match=r"rgb\.png.*mode 'RGB'"):
        read_label_map(path)


def test_grey_png_only_when_allowed(tmp_path: Path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((4, 4), 255, np.uint8), mode="L").save(path)
    with pytest.raises(DataError, match="grey.png"):
        read_label_map(path)
    assert (read_label_map(path, allow_grey=True) == 255).all()


def test_unreadable_and_missing_files(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    with pytest.raises(DataError, match="broken.png: unreadable"):
        read_label_map(broken)
    with pytest.raises(DataError, match="nothere.png: label map missing"):
        read_label_map(tmp_path / "nothere.png")


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.zeros((2, 2, 3), np.uint8), "2-D"),
        (np.zeros((2, 2), np.float32), "integer"),
        (np.full((2, 2), 256, np.int32), "0..255"),
        (np.full((2, 2), -1, np.int32), "0..255"),
    ],
)
def test_writer_refuses_bad_label_maps(tmp_path: Path, labels, message):
    with pytest.raises(DataError, match=message):
        write_label_map(tmp_path / "bad.png", labels)
    assert not list(tmp_path.iterdir())
