"""The embedded people sets: a JHMDB-layout keypoint set and a VIP-layout part set, generated without
any download so every command runs on a fresh clone (figures.py draws the people).

- JHMDB-style: ``Rename_Images/<class>/<video>/00001.png`` frames, ``joint_positions/<class>/<video>/
  joint_positions.mat`` (``pos_img``, 1-based as JHMDB's) and ``val_list.txt`` as Spa-then-Temp
  writes it (the .mat, then the frame folder); one person per video;
- VIP-style: ``Images/<video>/<frame>.jpg`` numbered every ``step`` frames as VIP_Fine's sparse
  frames are, ``Annotations/Category_ids/<video>/<frame>.png`` (8-bit grey part classes) and
  ``lists/val_videos.txt``; one or two people per video.
Output is byte-identical for the same seed and parameters (library versions in the stamp).
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import PIL
from PIL import Image

from ..errors import DataError
from .figures import draw_figure, paint_figure
from .generated import GeneratedKind, build_into, ensure_generated
from .synthetic import (
    BACKGROUND_PHOTOS,
    TEXTURE_PHOTOS,
    background_frame,
    draw_scene,
    load_photos,
    scaled_background,
)

KINDS = ("jhmdb", "vip")
VERSIONS = {"jhmdb": "embedded-jhmdb-v1", "vip": "embedded-vip-v1"}
ENV_VARS = {"jhmdb": "MAST_BENCH_JHMDB_DATA", "vip": "MAST_BENCH_VIP_DATA"}
STAMP_NAME = "embedded.json"
ACTIONS = ("walk", "wave", "run")  # the JHMDB-style class folders, in turn
_SEED_KIND = {"jhmdb": 21, "vip": 22}


@dataclass(frozen=True)
class PeopleSpec:
    """What to generate; the defaults are the cached sets (a few seconds on 2 cores)."""

    seed: int = 0
    size: tuple[int, int] = (240, 320)  # JHMDB's frame size
    videos: int = 3
    frames: tuple[int, int] = (12, 16)
    people: tuple[int, int] = (1, 1)
    step: int = 1  # VIP: frame names advance by this (its sparse frames)
    jpeg_quality: int = 90

    def check(self, kind: str) -> None:
        problems = []
        if min(self.size) < 64:
            problems.append(f"size {self.size} below 64 pixels")
        if not 2 <= self.frames[0] <= self.frames[1]:
            problems.append(f"frames {self.frames} must be (min, max) with 2 <= min <= max")
        if not 1 <= self.people[0] <= self.people[1] <= 3 or (kind == "jhmdb" and self.people != (1, 1)):
            problems.append(f"people {self.people}: 1..3 per video (exactly 1 for a JHMDB-style set)")
        if self.videos < 1 or self.step < 1 or not 1 <= self.jpeg_quality <= 100:
            problems.append("need >= 1 video, step >= 1 and a jpeg_quality in 1..100")
        if problems:
            raise DataError(f"embedded {kind} dataset parameters: " + "; ".join(problems))


DEFAULTS = {"jhmdb": PeopleSpec(), "vip": PeopleSpec(frames=(8, 10), people=(1, 2), step=25)}


GENERATED = {
    kind: GeneratedKind(VERSIONS[kind], ENV_VARS[kind], STAMP_NAME, f"embedded {kind}") for kind in KINDS
}


def default_people_root(kind: str) -> Path:
    """$MAST_BENCH_JHMDB_DATA / $MAST_BENCH_VIP_DATA if set, else ~/.cache/mast-bench/<version>."""
    return GENERATED[kind].default_root()


def _photos() -> dict[str, np.ndarray]:
    return load_photos(tuple(sorted(set(TEXTURE_PHOTOS) | set(BACKGROUND_PHOTOS))))


def render_video(kind: str, spec: PeopleSpec, index: int, photos: dict[str, np.ndarray]):
    """Frames (RGB), part maps and joints (2, 15, T) of video ``index``: the pure recipe."""
    rng = np.random.default_rng([spec.seed, _SEED_KIND[kind], index])
    count = int(rng.integers(spec.frames[0], spec.frames[1] + 1))
    scene = dataclasses.replace(draw_scene(rng, spec.size, count, 1, photos), sprites=())
    people = int(rng.integers(spec.people[0], spec.people[1] + 1))
    figures = [draw_figure(rng, spec.size, photos, (i + 0.5) / people) for i in range(people)]
    background = scaled_background(scene, photos)
    frames, parts, joints = [], [], []
    for frame in range(count):
        progress = scene.progress(frame)
        rgb = background_frame(scene, progress, background)
        labels = np.zeros(spec.size, np.uint8)
        poses = [paint_figure(figure, progress, rgb, labels, photos) for figure in figures]
        frames.append(rgb)
        parts.append(labels)
        joints.append(poses[0])
    return frames, parts, np.stack(joints, axis=-1)


MAT_HEADER = b"MATLAB 5.0 MAT-file, written by mast-bench".ljust(116)  # savemat's holds the time


def _mat_bytes(joints: np.ndarray) -> bytes:
    """A MATLAB 5 file with ``pos_img`` (1-based, as JHMDB's), its text header fixed (byte-identical)."""
    from scipy.io import savemat

    buffer = io.BytesIO()
    savemat(buffer, {"pos_img": joints + 1.0}, do_compression=False)
    return MAT_HEADER + buffer.getvalue()[len(MAT_HEADER) :]


def _write_jhmdb(out: Path, spec: PeopleSpec, photos) -> list[str]:
    lines, names = [], []
    for index in range(spec.videos):
        frames, _, joints = render_video("jhmdb", spec, index, photos)
        name = f"{ACTIONS[index % len(ACTIONS)]}/person{index:02d}_{ACTIONS[index % len(ACTIONS)]}_f_cm_np1_0"
        folder, mat = out / "Rename_Images" / name, out / "joint_positions" / name
        folder.mkdir(parents=True)
        mat.mkdir(parents=True)
        for number, rgb in enumerate(frames, start=1):
            Image.fromarray(rgb).save(folder / f"{number:05d}.png", format="PNG")
        (mat / "joint_positions.mat").write_bytes(_mat_bytes(joints))
        lines.append(f"joint_positions/{name}/joint_positions.mat Rename_Images/{name}\n")
        names.append(name)
    (out / "val_list.txt").write_text("".join(lines), encoding="utf-8")
    return names


def _write_vip(out: Path, spec: PeopleSpec, photos) -> list[str]:
    names = []
    for index in range(spec.videos):
        frames, parts, _ = render_video("vip", spec, index, photos)
        name = f"videos{index + 1}"
        images, labels = out / "Images" / name, out / "Annotations" / "Category_ids" / name
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        for frame, (rgb, part) in enumerate(zip(frames, parts, strict=True)):
            stem = f"{1 + frame * spec.step:012d}"
            Image.fromarray(rgb).save(images / f"{stem}.jpg", format="JPEG", quality=spec.jpeg_quality)
            Image.fromarray(part, mode="L").save(labels / f"{stem}.png", format="PNG")
        names.append(name)
    (out / "lists").mkdir()
    (out / "lists" / "val_videos.txt").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return names


def _generate(kind: str, spec: PeopleSpec, out: Path) -> None:
    import scipy  # here, not at the top: commands that never generate (evaluate) start without it
    import skimage

    photos = _photos()
    names = (_write_jhmdb if kind == "jhmdb" else _write_vip)(out, spec, photos)
    stamp = {
        "version": VERSIONS[kind],
        "spec": asdict(spec),
        "videos": names,
        "libraries": {
            "pillow": PIL.__version__,
            "opencv": cv2.__version__,
            "scikit-image": skimage.__version__,
            "scipy": scipy.__version__,
        },
    }
    (out / STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n")


def _spec(kind: str, seed: int, params: dict) -> PeopleSpec:
    if kind not in KINDS:
        raise DataError(f"unknown embedded people set {kind!r}; expected {' or '.join(KINDS)}")
    GENERATED[kind].check_params(params, PeopleSpec)
    spec = dataclasses.replace(DEFAULTS[kind], seed=seed, **params)
    spec.check(kind)
    return spec


def make_people(kind: str, out_dir: str | Path, seed: int = 0, *, overwrite: bool = False, **params) -> Path:
    """Generate the ``kind`` set (jhmdb or vip) into ``out_dir`` (built aside, renamed into place)."""
    spec = _spec(kind, seed, params)
    return build_into(out_dir, lambda tmp: _generate(kind, spec, tmp), overwrite)


def ensure_people(kind: str, root: str | Path | None = None, seed: int = 0, **params) -> Path:
    """The embedded ``kind`` set at ``root`` (default :func:`default_people_root`), generated if
    missing; an existing folder is used only if its stamp records the same version and parameters."""
    root = Path(root).expanduser() if root is not None else default_people_root(kind)
    wanted = asdict(_spec(kind, seed, params))
    return ensure_generated(root, wanted, GENERATED[kind], lambda: make_people(kind, root, seed, **params))


def ensure_jhmdb() -> Path:
    return ensure_people("jhmdb")


def ensure_vip() -> Path:
    return ensure_people("vip")
