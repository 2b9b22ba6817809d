"""JHMDB and VIP: their real layouts, the embedded generated sets, and layouts refused in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from mast_bench.data.check import check_data
from mast_bench.data.detect import detect_kind, require_kind
from mast_bench.data.embedded_people import make_people, render_video
from mast_bench.data.figures import PARTS
from mast_bench.data.jhmdb import JOINT_NAMES, JhmdbDataset, read_joints
from mast_bench.data.keypoint_files import KeypointWriter, read_keypoints
from mast_bench.data.splits import DataSpec, JhmdbSplit, VipSplit, open_split
from mast_bench.data.vip import CLASS_NAMES, VipDataset
from mast_bench.errors import DataError

TINY = dict(size=(72, 96), videos=2, frames=(4, 5))


@pytest.fixture(scope="module")
def jhmdb(tmp_path_factory) -> Path:
    return make_people("jhmdb", tmp_path_factory.mktemp("jhmdb") / "data", seed=1, **TINY)


@pytest.fixture(scope="module")
def vip(tmp_path_factory) -> Path:
    return make_people("vip", tmp_path_factory.mktemp("vip") / "data", seed=1, **TINY, people=(1, 2), step=25)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["jhmdb", "vip"])
def test_embedded_sets_are_byte_identical_for_a_seed(tmp_path, kind, jhmdb, vip):
    extra = {"people": (1, 2), "step": 25} if kind == "vip" else {}
    again = make_people(kind, tmp_path / "again", seed=1, **TINY, **extra)
    assert _files(again) == _files(jhmdb if kind == "jhmdb" else vip)
    stamp = json.loads((again / "embedded.json").read_text())
    assert stamp["version"] == f"embedded-{kind}-v1" and stamp["spec"]["seed"] == 1


def test_embedded_jhmdb_is_read_by_the_real_layouts_reader(jhmdb):
    assert detect_kind(jhmdb) == "jhmdb"
    dataset = JhmdbDataset(jhmdb, "val")
    names = dataset.video_names()
    assert len(names) == 2 and all(name.count("/") == 1 for name in names)
    video = dataset.sequence(names[0])
    frames, _, joints = render_video("jhmdb", dataset_spec(jhmdb), 0, photos())
    assert video.size == (72, 96) and video.num_frames == len(frames) == joints.shape[2]
    np.testing.assert_allclose(video.joints(), joints)  # pos_img is 1-based on disk, 0-based read
    first = next(iter(video.propagation_inputs()))
    np.testing.assert_allclose(first.joints, joints[:, :, 0])
    assert first.annotation is None and np.array_equal(first.rgb, frames[0])


def test_embedded_vip_is_read_by_the_real_layouts_reader(vip):
    assert detect_kind(vip) == "vip"
    dataset = VipDataset(vip)
    names = dataset.sequence_names("val")
    sequence = dataset.sequence(names[0])
    assert sequence.frame_names[:2] == ("000000000001", "000000000026")  # VIP's sparse numbering
    _, parts, _ = render_video("vip", dataset_spec(vip), 0, photos())
    np.testing.assert_array_equal(sequence.labels(1), parts[1])
    assert set(np.unique(parts[0])) <= {0} | {part for part, _, _ in PARTS} and len(CLASS_NAMES) == 20


def dataset_spec(root: Path):
    from mast_bench.data.embedded_people import PeopleSpec

    spec = json.loads((root / "embedded.json").read_text())["spec"]
    return PeopleSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})


def photos():
    from mast_bench.data.embedded_people import _photos

    return _photos()


def test_jhmdb_lists_in_either_order_relative_to_the_root_its_parent_or_absolute(tmp_path, jhmdb):
    root = tmp_path / "JHMDB"
    shutil.copytree(jhmdb, root)
    lines = (root / "val_list.txt").read_text().splitlines()
    mat, frames = lines[0].split()
    (root / "crw_list.txt").write_text(f"{root / frames} {root / mat}\n")  # CRW: frames first, absolute
    (root / "stt_list.txt").write_text(f"JHMDB/{mat} JHMDB/{frames}\n")  # Spa-then-Temp's JHMDB/ prefix
    for split in ("crw", "stt"):
        assert JhmdbDataset(root, split).video_names() == (
            Path(frames).parent.name + "/" + Path(frames).name,
        )
    (root / "bad_list.txt").write_text(f"{frames}\n")
    with pytest.raises(DataError, match=r"bad_list.txt:1: expected two paths"):
        JhmdbDataset(root, "bad").video_names()
    (root / "gone_list.txt").write_text(f"{mat} Rename_Images/walk/nobody\n")
    with pytest.raises(DataError, match=r"gone_list.txt:1: Rename_Images/walk/nobody not found"):
        JhmdbDataset(root, "gone").video_names()
    with pytest.raises(DataError, match=r"test_list.txt: split list missing \(available splits: bad, crw"):
        JhmdbDataset(root, "test").video_names()


def test_joint_files_and_frames_are_checked_naming_the_file(tmp_path, jhmdb):
    root = tmp_path / "j"
    shutil.copytree(jhmdb, root)
    name, other = JhmdbDataset(root).video_names()
    mat = root / "joint_positions" / other / "joint_positions.mat"
    savemat(str(mat), {"pos_img": np.zeros((2, 13, 4))})
    with pytest.raises(DataError, match=r"joint_positions.mat: 'pos_img' must be a \(2, 15, frames\) array"):
        read_joints(mat)
    joints = np.ones((2, 15, 4))
    joints[1, 3, 2] = np.nan  # one coordinate: it was 'needs at least one frame of finite coordinates'
    savemat(str(mat), {"pos_img": joints})
    with pytest.raises(
        DataError, match=r"'pos_img' has a non-finite coordinate \(right-shoulder, frame 3\); every joint"
    ):
        read_joints(mat)
    mat.write_bytes(b"not matlab")
    with pytest.raises(DataError, match="joint_positions.mat: unreadable MATLAB file"):
        read_joints(mat)
    (root / "Rename_Images" / name / "00002.png").unlink()
    with pytest.raises(DataError) as problems:
        check_data(root)
    message = str(problems.value)  # every video's problem, each naming its file
    assert "2 problems in 2 sequence(s)" in message
    assert (
        f"{name}/00002.png: frame missing" in message
        and f"{other}/joint_positions.mat: unreadable" in message
    )


@pytest.mark.parametrize("kind", ["jhmdb", "vip"])
def test_wrong_layouts_are_refused_in_one_line_naming_the_folder(tmp_path, kind, jhmdb, vip):
    root = jhmdb if kind == "jhmdb" else vip
    shown = {"jhmdb": "a JHMDB layout (joint_positions inside)"}
    shown["vip"] = "a VIP layout (Images and Annotations/Category_ids inside)"
    with pytest.raises(DataError) as err:
        require_kind(root, "davis")
    assert str(err.value) == f"{root}: {shown[kind]}; use --dataset {kind}"
    empty = tmp_path / "empty"
    empty.mkdir()
    reader = JhmdbDataset if kind == "jhmdb" else VipDataset
    with pytest.raises(DataError) as err:
        reader(empty)
    assert str(err.value).startswith(f"{empty}: not a {'JHMDB' if kind == 'jhmdb' else 'VIP'} layout")
    assert "\n" not in str(err.value)


def test_vip_reads_category_ids_at_the_root_and_names_a_bad_label_png(tmp_path, vip):
    root = tmp_path / "VIP"
    shutil.copytree(vip, root)
    (root / "Annotations" / "Category_ids").rename(root / "Category_ids")
    shutil.rmtree(root / "Annotations")
    dataset = VipDataset(root)
    name = dataset.sequence_names("val")[0]
    assert dataset.sequence(name).num_frames >= 4
    bad = sorted((root / "Category_ids" / name).glob("*.png"))[1]
    Image.new("RGB", (96, 72)).save(bad)
    with pytest.raises(DataError, match=f"{bad.name}: image mode 'RGB', expected a palette PNG"):
        check_data(root)


def test_splits_open_the_embedded_sets_and_the_given_roots(jhmdb, vip):
    split = open_split(DataSpec(kind="jhmdb", root=str(jhmdb)))
    assert isinstance(split, JhmdbSplit) and split.task == "keypoints" and split.split == "val"
    assert len(split.files()) == 2 and split.files()[0].annotations[0].name == "joint_positions.mat"
    parts = open_split(DataSpec(kind="vip", root=str(vip)))
    assert isinstance(parts, VipSplit) and parts.task == "semi-supervised"
    assert parts.videos()[0].object_ids == tuple(range(1, max(parts.videos()[0].object_ids) + 1))
    with pytest.raises(DataError, match="a VIP layout .*; use --dataset vip"):
        open_split(DataSpec(kind="jhmdb", root=str(vip)))


def test_keypoint_files_are_written_whole_and_read_back(tmp_path):
    joints = np.arange(2 * 15 * 3, dtype=float).reshape(2, 15, 3)
    with KeypointWriter(tmp_path, "walk/video0") as out:
        for frame in range(3):
            out.write(f"{frame:05d}", joints[:, :, frame])
    np.testing.assert_array_equal(read_keypoints(tmp_path, "walk/video0", (2, 15, 3)), joints)
    with pytest.raises(RuntimeError), KeypointWriter(tmp_path, "walk/video1") as out:
        out.write("00000", joints[:, :, 0])
        raise RuntimeError("interrupted")
    assert not (tmp_path / "walk" / "video1.npy").exists()  # nothing half-written
    with pytest.raises(
        DataError, match=r"video0.npy: keypoints of shape \(2, 15, 3\), expected \(2, 15, 4\)"
    ):
        read_keypoints(tmp_path, "walk/video0", (2, 15, 4))
    assert len(JOINT_NAMES) == 15
