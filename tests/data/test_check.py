from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from mast_bench.data.check import check_data, check_davis, check_youtube_vos, verify_image
from mast_bench.data.palette import write_label_map
from mast_bench.errors import DataError

PROPAGATION_SECONDS_PER_FRAME = 6.0  # MAST on one 480p frame, 2 CPU cores


def _cut(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def test_davis_mini_passes_for_a_small_fraction_of_one_propagated_frame(davis_mini: Path):
    result = check_davis(davis_mini)
    assert (result.sequences, result.files, result.problems) == (3, 320, ())
    assert check_data(davis_mini, sequences=["car-shadow"]).files == 80
    # 160 frames are checked in well under the time MAST spends on a single frame
    assert result.seconds < PROPAGATION_SECONDS_PER_FRAME / 5


def test_a_jpeg_cut_anywhere_is_caught(davis_mini: Path, tmp_path: Path):
    original = (davis_mini / "JPEGImages/480p/bmx-trees/00005.jpg").read_bytes()
    path = tmp_path / "00005.jpg"
    for size in (
        10,
        600,
        2000,
        len(original) // 2,
        len(original) - 100,
        len(original) - 2,
        len(original) - 1,
    ):
        path.write_bytes(original[:size])
        with pytest.raises(DataError, match=r"00005.jpg: (truncated JPEG|unreadable image)"):
            verify_image(path)
        if size >= 2000:  # the header is intact: only the missing end-of-image marker tells
            with Image.open(path) as image:
                assert image.size == (854, 480)
            with pytest.raises(DataError, match="truncated JPEG"):
                verify_image(path)
    path.write_bytes(original + b"\0" * 16)  # padding after the marker is harmless
    assert verify_image(path).size == (480, 854)
    path.write_bytes(original + b"trailer")  # documented limit: other bytes after FFD9 count as truncation
    with pytest.raises(DataError, match="truncated JPEG"):
        verify_image(path)


def test_a_png_cut_anywhere_or_corrupted_is_caught(davis_mini: Path, tmp_path: Path):
    original = (davis_mini / "Annotations/480p/bmx-trees/00000.png").read_bytes()
    header = verify_image(davis_mini / "Annotations/480p/bmx-trees/00000.png")
    assert (header.format, header.mode, header.size) == ("PNG", "P", (480, 854))
    path = tmp_path / "00000.png"
    for size in (10, 200, len(original) // 2, len(original) - 12, len(original) - 4, len(original) - 1):
        path.write_bytes(original[:size])
        with pytest.raises(DataError, match=r"00000.png: (truncated|damaged) PNG"):
            verify_image(path)
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0xFF  # inside the compressed pixels: its chunk CRC no longer matches
    path.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match="damaged PNG .*checksum"):
        verify_image(path)
    with pytest.raises(DataError, match="missing.png: file missing"):
        verify_image(tmp_path / "missing.png")


def test_every_problem_is_reported_at_once(make_davis, tmp_path: Path):
    root = make_davis(tmp_path / "davis", {"a": 6, "b": 6, "c": 3})
    frames, annotations = root / "JPEGImages/480p", root / "Annotations/480p"
    _cut(frames / "a/00002.jpg", 300)
    _cut(frames / "a/00004.jpg", (frames / "a/00004.jpg").stat().st_size - 1)
    (annotations / "a/00005.png").unlink()
    Image.new("RGB", (32, 24)).save(annotations / "b/00001.png")
    Image.new("RGB", (40, 24)).save(frames / "b/00003.jpg")
    write_label_map(annotations / "c/00000.png", np.zeros((24, 32), np.uint8))
    with pytest.raises(DataError) as error:
        check_davis(root)
    lines = str(error.value).splitlines()
    assert lines[0] == f"{root}: 6 problems in 3 sequence(s) (29 files checked):"
    expected = [
        f"{frames / 'a/00002.jpg'}: unreadable image",
        f"{frames / 'a/00004.jpg'}: truncated JPEG",
        f"{annotations / 'a/00005.png'}: annotation missing; 5 annotations for 6 frames",
        f"{frames / 'b/00003.jpg'}: size (H, W) = (24, 40), expected (24, 32) like {frames / 'b/00000.jpg'}",
        f"{annotations / 'b/00001.png'}: image mode 'RGB', expected a palette PNG (mode 'P')",
        f"{annotations / 'c/00000.png'}: first-frame annotation has no object",
    ]
    assert len(lines) == 1 + len(expected)
    for line, start in zip(sorted(lines[1:]), sorted(expected), strict=True):
        assert line.strip().startswith(start), (line, start)


def test_a_long_list_of_problems_is_cut_at_the_limit(make_davis, tmp_path: Path):
    root = make_davis(tmp_path / "davis", {"long": 25})
    for path in sorted((root / "JPEGImages/480p/long").iterdir()):
        _cut(path, path.stat().st_size - 2)
    with pytest.raises(DataError) as error:
        check_davis(root)
    lines = str(error.value).splitlines()
    assert lines[0].startswith(f"{root}: 25 problems in 1 sequence(s)")
    assert len(lines) == 1 + 20 + 1 and lines[-1] == "  ... and 5 more"
    assert all("truncated JPEG" in line for line in lines[1:21])


def test_a_bad_split_or_folder_is_one_clear_error(make_davis, tmp_path: Path):
    root = make_davis(tmp_path / "davis", {"a": 2})
    with pytest.raises(DataError, match="ImageSets/2017/test-dev.txt: split list missing"):
        check_davis(root, "test-dev")
    with pytest.raises(DataError, match="JPEGImages/480p/nope: frame folder of sequence 'nope' missing"):
        check_davis(root, sequences=["nope"])
    with pytest.raises(DataError, match="nowhere: dataset folder missing"):
        check_data(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a YouTube-VOS valid layout"):
        check_data(tmp_path / "empty")


def _youtube_vos(root: Path) -> Path:
    """valid/: video 'a' with object 1 from 00000 and object 2 from 00010 (sparse annotations)."""
    split = root / "valid"
    rng = np.random.default_rng(0)
    names = ["00000", "00005", "00010", "00015"]
    for name in names:
        (split / "JPEGImages/a").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(
            split / f"JPEGImages/a/{name}.jpg"
        )
    first = np.zeros((20, 30), np.uint8)
    first[2:8, 3:9] = 1
    later = first.copy()
    later[10:15, 20:28] = 2
    write_label_map(split / "Annotations/a/00000.png", first)
    write_label_map(split / "Annotations/a/00010.png", later)
    objects = {"1": {"category": "cat", "frames": names}, "2": {"category": "dog", "frames": names[2:]}}
    (split / "meta.json").write_text(json.dumps({"videos": {"a": {"objects": objects}}}))
    return split


def test_youtube_vos_split(tmp_path: Path):
    split = _youtube_vos(tmp_path)
    result = check_data(split)
    assert (result.sequences, result.files, result.problems) == (1, 6, ())
    write_label_map(split / "Annotations/a/00010.png", np.zeros((20, 30), np.uint8))
    result = check_youtube_vos(tmp_path)  # an object its annotation does not show is a note, no problem
    assert result.problems == () and len(result.notes) == 1
    assert result.notes[0].startswith(
        f"{split / 'Annotations/a'}: object 2: meta.json lists it from frame 00010"
    )
    _cut(split / "JPEGImages/a/00015.jpg", 200)
    with pytest.raises(DataError) as error:
        check_youtube_vos(tmp_path)
    lines = str(error.value).splitlines()
    assert lines[0] == f"{split}: 1 problem in 1 sequence(s) (6 files checked):"
    assert lines[1].startswith(f"  {split / 'JPEGImages/a/00015.jpg'}: unreadable image")


def test_the_check_decodes_no_frame(davis_mini: Path, monkeypatch):
    """Cheap by construction: headers and checksums; only each first annotation is decoded."""
    decoded = []
    original_load = ImageFile.ImageFile.load

    def counting_load(image):
        decoded.append(image.format)
        return original_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    check_davis(davis_mini)
    assert decoded == ["PNG"] * 3  # the first annotation of each sequence, for its objects
