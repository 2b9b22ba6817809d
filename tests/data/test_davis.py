from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import mast_bench.data.davis as davis_module
from mast_bench.__main__ import main
from mast_bench.data.davis import DavisDataset
from mast_bench.data.palette import write_label_map
from mast_bench.errors import DataError

EXPECTED = {"bmx-trees": (80, (1, 2)), "car-shadow": (40, (1,)), "motocross-jump": (40, (1,))}


def test_davis_mini_counts_sizes_and_objects(davis_mini: Path):
    dataset = DavisDataset(davis_mini)
    assert dataset.sequence_names("val") == tuple(EXPECTED)
    assert dataset.splits() == ("val",)
    for name, (frames, ids) in EXPECTED.items():
        sequence = dataset.sequence(name)
        assert sequence.num_frames == frames == len(sequence.annotation_paths)
        assert sequence.size == (480, 854)
        assert sequence.object_ids() == ids
        assert sequence.frame_names[0] == "00000" and sequence.frame_names[-1] == f"{frames - 1:05d}"
        first = sequence.first_labels()
        assert first.dtype == np.uint8 and first.shape == (480, 854)
        assert set(np.unique(first)) == {0, *ids}


def test_pillow_decoding_equals_opencv(davis_mini: Path):
    dataset = DavisDataset(davis_mini)
    for name, (frames, _) in EXPECTED.items():
        sequence = dataset.sequence(name)
        for index in (0, frames // 2, frames - 1):
            ours = sequence.frame(index)
            theirs = cv2.imread(str(sequence.frame_paths[index]))[..., ::-1]
            assert ours.dtype == np.uint8 and ours.shape == (480, 854, 3)
            np.testing.assert_array_equal(ours, theirs)


def test_frames_are_read_lazily(davis_mini: Path, monkeypatch):
    reads = []
    original = davis_module.read_rgb_sized
    monkeypatch.setattr(
        davis_module, "read_rgb_sized", lambda path, size: reads.append(path) or original(path, size)
    )
    sequence = DavisDataset(davis_mini).sequence("bmx-trees")
    frames = sequence.frames()
    assert reads == []
    first = next(frames)
    second = next(frames)
    assert [p.name for p in reads] == ["00000.jpg", "00001.jpg"]
    assert not np.array_equal(first, second)


def test_labels_of_later_frames(davis_mini: Path):
    sequence = DavisDataset(davis_mini).sequence("car-shadow")
    labels = sequence.labels(39)
    with Image.open(davis_mini / "Annotations/480p/car-shadow/00039.png") as image:
        np.testing.assert_array_equal(labels, np.array(image))
    assert labels.sum() > 0
    with pytest.raises(IndexError):
        sequence.labels(40)


def test_first_frame_only_annotations_are_allowed(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 3}, split="test-dev")
    for i in (1, 2):
        (root / f"Annotations/480p/seq/{i:05d}.png").unlink()
    sequence = DavisDataset(root).sequence("seq")
    assert not sequence.fully_annotated and sequence.num_frames == 3
    assert sequence.object_ids() == (1,)
    with pytest.raises(DataError, match="00001 has no annotation"):
        sequence.labels(1)


def test_void_is_kept_and_not_an_object(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    labels = np.zeros((24, 32), np.uint8)
    labels[0:4, 0:4] = 255
    labels[10:12, 10:12] = 2
    write_label_map(root / "Annotations/480p/seq/00000.png", labels)
    sequence = DavisDataset(root).sequence("seq")
    assert (sequence.first_labels()[0:4, 0:4] == 255).all()
    assert sequence.object_ids() == (1, 2)


def test_no_davis_layout_lists_what_is_missing(tmp_path: Path, make_davis):
    (tmp_path / "JPEGImages" / "480p").mkdir(parents=True)
    with pytest.raises(DataError, match=r"not a DAVIS-2017 layout, missing Annotations/480p, ImageSets/2017"):
        DavisDataset(tmp_path)
    with pytest.raises(DataError, match="resolution"):
        DavisDataset(tmp_path, resolution="720p")


def test_split_lists(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    with pytest.raises(DataError, match=r"train.txt: split list missing \(available splits: val\)"):
        DavisDataset(root).sequence_names("train")
    (root / "ImageSets/2017/val.txt").write_text("\n  \n")
    with pytest.raises(DataError, match="val.txt: empty sequence list"):
        DavisDataset(root).sequence_names("val")


def test_missing_frame(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 4})
    (root / "JPEGImages/480p/seq/00002.jpg").unlink()
    with pytest.raises(DataError, match=r"seq/00002.jpg: frame missing"):
        DavisDataset(root).sequence("seq")


def test_missing_sequence_folder(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    with pytest.raises(DataError, match="other: frame folder of sequence 'other' missing"):
        DavisDataset(root).sequence("other")


def test_annotation_count_mismatch(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 4})
    (root / "Annotations/480p/seq/00002.png").unlink()
    with pytest.raises(DataError, match=r"seq/00002.png: annotation missing; 3 annotations for 4 frames"):
        DavisDataset(root).sequence("seq")


def test_extra_annotation_without_frame(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    write_label_map(root / "Annotations/480p/seq/00007.png", np.zeros((24, 32), np.uint8))
    with pytest.raises(DataError, match="00007.png: annotation without a frame"):
        DavisDataset(root).sequence("seq")


def test_size_mismatch_names_the_file(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 3})
    write_label_map(root / "Annotations/480p/seq/00001.png", np.zeros((24, 30), np.uint8))
    with pytest.raises(DataError, match=r"seq/00001.png: size \(H, W\) = \(24, 30\), expected \(24, 32\)"):
        DavisDataset(root).sequence("seq")


def test_rgb_annotation_is_refused(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(root / "Annotations/480p/seq/00000.png")
    with pytest.raises(DataError, match=r"seq/00000.png: annotation PNG has mode 'RGB'"):
        DavisDataset(root).sequence("seq").first_labels()


def test_unreadable_frame(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    (root / "JPEGImages/480p/seq/00001.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(DataError, match=r"seq/00001.jpg: unreadable image"):
        DavisDataset(root).sequence("seq")


def test_first_frame_without_objects(tmp_path: Path, make_davis):
    root = make_davis(tmp_path, {"seq": 2})
    write_label_map(root / "Annotations/480p/seq/00000.png", np.full((24, 32), 255, np.uint8) * 0)
    with pytest.raises(DataError, match=r"seq/00000.png: first-frame annotation has no object"):
        DavisDataset(root).sequence("seq").object_ids()


def test_check_command(davis_mini: Path, tmp_path: Path, capsys):
    assert main(["check", "--data", str(davis_mini)]) == 0
    out = capsys.readouterr().out
    assert "bmx-trees: 80 frames, 854x480, objects [1, 2]" in out
    assert "total: 160 frames, 4 objects" in out and "sequences OK" in out
    assert main(["check", "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}")


def test_iterating_a_long_sequence_holds_one_frame_at_a_time(davis_mini: Path):
    import tracemalloc

    sequence = DavisDataset(davis_mini).sequence("bmx-trees")
    frame_bytes = 480 * 854 * 3
    tracemalloc.start()
    try:
        count = sum(1 for _ in sequence.frames())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 80
    assert peak < 5 * frame_bytes  # decoding needs ~3 frame-sized buffers; keeping 80 frames would be 80


def test_macos_hidden_copies_and_a_bom_split_list_read_as_the_tidy_tree(tmp_path: Path, make_davis):
    root = make_davis(tmp_path / "d", {"s": 4, "t": 3})
    tidy = [(q.frame_paths, q.annotation_paths, q.size) for q in DavisDataset(root).sequences("val")]
    for image in [*root.rglob("*.jpg"), *root.rglob("*.png")]:
        (image.parent / f"._{image.name}").write_bytes(b"\0\5\26\7 AppleDouble")
    split = root / "ImageSets/2017/val.txt"
    split.write_bytes(b"\xef\xbb\xbf" + split.read_bytes())
    dataset = DavisDataset(root)
    assert dataset.sequence_names("val") == ("s", "t")
    assert [(q.frame_paths, q.annotation_paths, q.size) for q in dataset.sequences("val")] == tidy
    assert main(["check", "--data", str(root)]) == 0
