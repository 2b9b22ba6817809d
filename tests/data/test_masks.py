from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mast_bench.data.masks import MaskWriter, read_mask
from mast_bench.data.palette import DAVIS_PALETTE
from mast_bench.errors import DataError


def test_results_layout_and_read_back(tmp_path: Path):
    writer = MaskWriter(tmp_path / "results")
    labels = np.zeros((6, 9), np.uint8)
    labels[1:3, 2:5] = 2
    labels[4, :] = 255
    path = writer.write("bmx-trees", 3, labels)
    assert path == tmp_path / "results" / "bmx-trees" / "00003.png"
    np.testing.assert_array_equal(read_mask(tmp_path / "results", "bmx-trees", 3), labels)
    np.testing.assert_array_equal(read_mask(tmp_path / "results", "bmx-trees", "00003"), labels)
    with Image.open(path) as image:
        assert image.mode == "P" and bytes(image.getpalette()) == DAVIS_PALETTE.tobytes()
    writer.write("bmx-trees", "00010", labels)
    assert writer.written_frames("bmx-trees") == ("00003", "00010")
    assert writer.written_frames("other") == ()
    assert sorted(p.name for p in path.parent.iterdir()) == ["00003.png", "00010.png"]


@pytest.mark.parametrize("sequence, frame", [("../x", 0), ("", 0), ("seq", -1), ("seq", "a/b")])
def test_bad_names_are_refused(tmp_path: Path, sequence, frame):
    with pytest.raises(DataError):
        MaskWriter(tmp_path).write(sequence, frame, np.zeros((2, 2), np.uint8))


def test_missing_result_is_a_data_error(tmp_path: Path):
    with pytest.raises(DataError, match="seq/00000.png: predicted mask missing"):
        read_mask(tmp_path, "seq", 0)
