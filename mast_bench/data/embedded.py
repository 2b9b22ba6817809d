"""The embedded default dataset: a deterministic DAVIS-2017-layout set generated without any download.

Commands that need data and get none use :func:`ensure_default`, so the benchmark, its tests and its
smoke runs work offline. Output is byte-identical for the same seed and parameters (same libraries:
the JPEG/PNG encoders and the scikit-image sample photos are part of the recipe; their versions are
recorded in the stamp file).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import PIL
import skimage
from PIL import Image

from ..errors import DataError
from .generated import GeneratedKind, build_into, ensure_generated
from .palette import label_map_image
from .synthetic import (
    BACKGROUND_PHOTOS,
    TEXTURE_PHOTOS,
    Scene,
    draw_scene,
    first_frame_ok,
    load_photos,
    render_frame,
    scaled_background,
)

EMBEDDED_VERSION = "embedded-v1"
STAMP_NAME = "embedded.json"
ENV_VAR = "MAST_BENCH_DATA"
TRAIN_CLIPS = "train_clips"
_SEQUENCE_KIND, _CLIP_KIND = 1, 2


@dataclass(frozen=True)
class EmbeddedSpec:
    """What to generate; the defaults are the cached default dataset."""

    seed: int = 0
    size: tuple[int, int] = (480, 854)
    val_sequences: int = 4
    train_sequences: int = 2
    frames: tuple[int, int] = (30, 40)
    objects: tuple[int, int] = (2, 3)
    train_clips: int = 6
    clip_frames: int = 24
    jpeg_quality: int = 90

    def check(self) -> None:
        problems = []
        if min(self.size) < 16:
            problems.append(f"size {self.size} below 16 pixels")
        if not 2 <= self.frames[0] <= self.frames[1]:
            problems.append(f"frames {self.frames} must be (min, max) with 2 <= min <= max")
        if not 1 <= self.objects[0] <= self.objects[1] <= 6:
            problems.append(f"objects {self.objects} must be (min, max) within 1..6")
        if self.val_sequences < 1 or self.train_sequences < 0 or self.train_clips < 0 or self.clip_frames < 2:
            problems.append("need >= 1 val sequence, >= 0 train sequences/clips, clips of >= 2 frames")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append(f"jpeg_quality {self.jpeg_quality} outside 1..100")
        if problems:
            raise DataError("embedded dataset parameters: " + "; ".join(problems))


KIND = GeneratedKind(EMBEDDED_VERSION, ENV_VAR, STAMP_NAME, "embedded")


def default_root() -> Path:
    """$MAST_BENCH_DATA if set, else ~/.cache/mast-bench/embedded-v1."""
    return KIND.default_root()


def train_clips_dir(root: str | Path) -> Path:
    """The unlabelled training clips of an embedded dataset (``FrameFolderClips(train_clips_dir(root))``)."""
    return Path(root) / TRAIN_CLIPS


def _stamp(spec: EmbeddedSpec, sequences: dict[str, list[str]]) -> dict:
    return {
        "version": EMBEDDED_VERSION,
        "spec": asdict(spec),
        "sequences": sequences,
        "libraries": {
            "pillow": PIL.__version__,
            "opencv": cv2.__version__,
            "scikit-image": skimage.__version__,
        },
    }


def _scene(
    spec: EmbeddedSpec, kind: int, index: int, photos: dict[str, np.ndarray], num_frames: int | None
) -> Scene:
    """Deterministic scene number ``index`` of ``kind``; redrawn until frame 0 shows every object."""
    for attempt in range(100):
        rng = np.random.default_rng([spec.seed, kind, index, attempt])
        frames = num_frames or int(rng.integers(spec.frames[0], spec.frames[1] + 1))
        objects = int(rng.integers(spec.objects[0], spec.objects[1] + 1))
        scene = draw_scene(rng, spec.size, frames, objects, photos)
        if first_frame_ok(scene, photos):
            return scene
    raise RuntimeError(f"no valid scene for seed {spec.seed} kind {kind} index {index}")  # pragma: no cover


def _save_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    Image.fromarray(rgb, mode="RGB").save(path, format="JPEG", quality=quality, optimize=False)


def _write_scene(
    scene: Scene, photos: dict[str, np.ndarray], frame_dir: Path, annotation_dir: Path | None, quality: int
) -> None:
    frame_dir.mkdir(parents=True)
    if annotation_dir is not None:
        annotation_dir.mkdir(parents=True)
    background = scaled_background(scene, photos)
    for frame in range(scene.num_frames):
        rgb, labels = render_frame(scene, frame, photos, background)
        _save_jpeg(frame_dir / f"{frame:05d}.jpg", rgb, quality)
        if annotation_dir is not None:
            label_map_image(labels).save(annotation_dir / f"{frame:05d}.png", format="PNG")


def all_photos() -> dict[str, np.ndarray]:
    return load_photos(tuple(sorted(set(TEXTURE_PHOTOS) | set(BACKGROUND_PHOTOS))))


def scenes(spec: EmbeddedSpec, photos: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, Scene]]:
    """split -> sequence name -> scene; the pure recipe behind :func:`make_default` (tests re-render it)."""
    photos = photos if photos is not None else all_photos()
    recipe: dict[str, dict[str, Scene]] = {"val": {}, "train": {}, "train_clips": {}}
    counts = {"val": spec.val_sequences, "train": spec.train_sequences}
    for split, offset in (("val", 0), ("train", 1000)):
        for i in range(counts[split]):
            scene = _scene(spec, _SEQUENCE_KIND, offset + i, photos, None)
            recipe[split][f"{split}{i:02d}-{scene.background.replace('_', '')}"] = scene
    for i in range(spec.train_clips):
        recipe["train_clips"][f"clip{i:03d}"] = _scene(spec, _CLIP_KIND, i, photos, spec.clip_frames)
    return recipe


def _generate(spec: EmbeddedSpec, out: Path) -> None:
    photos = all_photos()
    recipe = scenes(spec, photos)
    for split in ("val", "train"):
        for name, scene in recipe[split].items():
            frame_dir = out / "JPEGImages" / "480p" / name
            _write_scene(scene, photos, frame_dir, out / "Annotations" / "480p" / name, spec.jpeg_quality)
    for name, scene in recipe["train_clips"].items():
        _write_scene(scene, photos, out / TRAIN_CLIPS / name, None, spec.jpeg_quality)
    imagesets = out / "ImageSets" / "2017"
    imagesets.mkdir(parents=True)
    for split in ("val", "train"):
        (imagesets / f"{split}.txt").write_text("".join(f"{n}\n" for n in recipe[split]), encoding="utf-8")
    sequences = {split: list(names) for split, names in recipe.items()}
    (out / STAMP_NAME).write_text(json.dumps(_stamp(spec, sequences), indent=1, sort_keys=True) + "\n")


def make_default(
    out_dir: str | Path,
    seed: int = 0,
    *,
    overwrite: bool = False,
    **params: object,
) -> Path:
    """Generate the dataset into ``out_dir`` (built in a hidden temp folder, then renamed into place).

    ``params`` are :class:`EmbeddedSpec` fields (size=(H, W), frames=(min, max), val_sequences, ...).
    """
    KIND.check_params(params, EmbeddedSpec)
    spec = EmbeddedSpec(seed=seed, **params)  # type: ignore[arg-type]
    spec.check()
    return build_into(out_dir, lambda tmp: _generate(spec, tmp), overwrite)


def ensure_default(root: str | Path | None = None, seed: int = 0, **params: object) -> Path:
    """The embedded default dataset at ``root`` (default :func:`default_root`), generated if missing.

    An existing folder is used only if its stamp records the same version, seed and parameters.
    """
    root = Path(root).expanduser() if root is not None else default_root()
    wanted = asdict(EmbeddedSpec(seed=seed, **params))  # type: ignore[arg-type]
    return ensure_generated(root, wanted, KIND, lambda: make_default(root, seed, **params))
