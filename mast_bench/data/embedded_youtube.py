"""The embedded YouTube-style dataset: a deterministic YouTube-VOS-layout set generated without downloads.

Same rendering as the DAVIS-layout embedded default (textured blobs over a panning photo, exact
labels). A category is an object's texture photo: every ``valid`` video mixes a texture of the
training videos (a seen category) with one no training video shows (unseen). In ``valid`` objects enter
after the first frame (they pop in on an annotated frame) and some leave again, as in YouTube-VOS.
Frames are rendered at 30 fps into ``all_frames/<split>_all_frames/JPEGImages``; every 5th one is
also in ``<split>/JPEGImages`` with its exact annotation (every annotated frame, both splits, so
``valid`` can be scored locally). ``meta.json`` lists per object its category and its frames: in
``train`` those where it is visible, in ``valid`` every annotated frame from its first appearance on.
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
import skimage
from PIL import Image

from ..errors import DataError
from .generated import GeneratedKind, build_into, ensure_generated
from .palette import label_map_image
from .synthetic import (
    BACKGROUND_PHOTOS,
    TEXTURE_PHOTOS,
    UNSEEN_TEXTURE_PHOTOS,
    Scene,
    clearly_visible_pixels,
    draw_scene,
    load_photos,
    render_frame,
    scaled_background,
)

YOUTUBE_VERSION = "embedded-youtube-v1"
STAMP_NAME = "youtube.json"
ENV_VAR = "MAST_BENCH_YOUTUBE_DATA"
SPLITS = ("train", "valid")
_KINDS = {"train": 11, "valid": 12}


@dataclass(frozen=True)
class YouTubeSpec:
    """What to generate; the defaults are the cached default dataset (about 10 s on 2 cores)."""

    seed: int = 0
    size: tuple[int, int] = (240, 432)
    train_videos: int = 6
    valid_videos: int = 6
    frames: tuple[int, int] = (26, 36)  # every frame of a video, 30 fps
    step: int = 5  # one annotated (sparse) frame out of ``step``
    objects: tuple[int, int] = (2, 3)
    jpeg_quality: int = 90

    def check(self) -> None:
        problems = []
        if min(self.size) < 16:
            problems.append(f"size {self.size} below 16 pixels")
        if self.step < 1 or not 4 * self.step <= self.frames[0] <= self.frames[1]:
            problems.append(f"frames {self.frames} must be (min, max) with min >= 4 x step ({self.step})")
        if not 2 <= self.objects[0] <= self.objects[1] <= 4:
            problems.append(f"objects {self.objects} must be (min, max) within 2..4")
        if self.train_videos < 1 or self.valid_videos < 1:
            problems.append("need >= 1 train and >= 1 valid video")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append(f"jpeg_quality {self.jpeg_quality} outside 1..100")
        if problems:
            raise DataError("embedded YouTube-style dataset parameters: " + "; ".join(problems))


@dataclass(frozen=True)
class Video:
    """One video's recipe: the scene and, per object id, the frame of its first annotation."""

    scene: Scene
    starts: dict[int, int]


KIND = GeneratedKind(YOUTUBE_VERSION, ENV_VAR, STAMP_NAME, "embedded YouTube-style")


def default_youtube_root() -> Path:
    """$MAST_BENCH_YOUTUBE_DATA if set, else ~/.cache/mast-bench/embedded-youtube-v1."""
    return KIND.default_root()


def youtube_photos() -> dict[str, np.ndarray]:
    return load_photos(
        tuple(sorted(set(TEXTURE_PHOTOS) | set(BACKGROUND_PHOTOS) | set(UNSEEN_TEXTURE_PHOTOS)))
    )


def _visible_counts(scene: Scene, frame: int, photos, background) -> np.ndarray:
    _, labels = render_frame(scene, frame, photos, background)
    return np.bincount(labels.ravel(), minlength=len(scene.sprites) + 1)


def _starts_ok(video: Video, photos: dict[str, np.ndarray]) -> bool:
    """Every object clearly visible on the frame of its first annotation."""
    scene = video.scene
    background = scaled_background(scene, photos)
    needed = clearly_visible_pixels(scene.size)
    return all(
        _visible_counts(scene, frame, photos, background)[object_id] >= needed
        for object_id, frame in video.starts.items()
    )


def _late_entries(rng: np.random.Generator, scene: Scene, spec: YouTubeSpec, index: int) -> Video:
    """The highest id (and, with 3+ objects, the next one) pops in on a later annotated frame; in every
    other video the last entrant leaves again two annotated frames later."""
    last_sparse = (scene.num_frames - 1) // spec.step
    late_ids = [len(scene.sprites)] + ([len(scene.sprites) - 1] if len(scene.sprites) >= 3 else [])
    entries = {i: spec.step * int(rng.integers(1, max(2, last_sparse - 1))) for i in late_ids}
    leaver = late_ids[0] if index % 2 == 0 else None
    sprites = []
    for sprite in scene.sprites:
        changes = {}
        if sprite.object_id in entries:
            changes["visible_from"] = scene.progress(entries[sprite.object_id])
        if sprite.object_id == leaver:
            until = min(entries[leaver] + 2 * spec.step, scene.num_frames - 1)
            changes["visible_until"] = scene.progress(until - 1)
        sprites.append(dataclasses.replace(sprite, **changes))
    starts = {s.object_id: entries.get(s.object_id, 0) for s in sprites}
    return Video(dataclasses.replace(scene, sprites=tuple(sprites)), starts)


def _video(spec: YouTubeSpec, split: str, index: int, photos: dict, seen: tuple[str, ...]) -> Video:
    """Deterministic video ``index`` of ``split``, redrawn until its recipe holds; ``seen`` are the
    textures the training videos use (valid videos show one of them and one unseen texture)."""
    pool = seen if split == "train" else seen + UNSEEN_TEXTURE_PHOTOS
    for attempt in range(200):
        rng = np.random.default_rng([spec.seed, _KINDS[split], index, attempt])
        frames = int(rng.integers(spec.frames[0], spec.frames[1] + 1))
        objects = int(rng.integers(spec.objects[0], spec.objects[1] + 1))
        scene = draw_scene(rng, spec.size, frames, objects, photos, texture_pool=pool)
        if split == "train":
            video = Video(scene, {s.object_id: 0 for s in scene.sprites})
        else:
            textures = {s.texture for s in scene.sprites}
            if not textures & set(UNSEEN_TEXTURE_PHOTOS) or not textures & set(seen):
                continue
            video = _late_entries(rng, scene, spec, index)
        if _starts_ok(video, photos):
            return video
    raise RuntimeError(f"no valid {split} video for seed {spec.seed} index {index}")  # pragma: no cover


def youtube_videos(spec: YouTubeSpec, photos: dict[str, np.ndarray] | None = None) -> dict[str, dict]:
    """split -> video name -> :class:`Video`; the pure recipe behind :func:`make_youtube`."""
    photos = photos if photos is not None else youtube_photos()
    recipe: dict[str, dict[str, Video]] = {"train": {}, "valid": {}}
    seen = TEXTURE_PHOTOS
    for split, count in (("train", spec.train_videos), ("valid", spec.valid_videos)):
        for i in range(count):
            video = _video(spec, split, i, photos, seen)
            recipe[split][f"{split}{i:02d}-{video.scene.background.replace('_', '')}"] = video
        used = {s.texture for v in recipe["train"].values() for s in v.scene.sprites}
        seen = tuple(t for t in TEXTURE_PHOTOS if t in used)
    return recipe


def _jpeg_bytes(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


def _write_video(out: Path, split: str, name: str, video: Video, spec: YouTubeSpec, photos) -> dict:
    """Render every frame; returns the video's meta.json entry."""
    scene = video.scene
    dense = out / "all_frames" / f"{split}_all_frames" / "JPEGImages" / name
    sparse, annotations = out / split / "JPEGImages" / name, out / split / "Annotations" / name
    for folder in (dense, sparse, annotations):
        folder.mkdir(parents=True)
    background = scaled_background(scene, photos)
    visible: dict[int, list[str]] = {s.object_id: [] for s in scene.sprites}
    for frame in range(scene.num_frames):
        rgb, labels = render_frame(scene, frame, photos, background)
        jpeg = _jpeg_bytes(rgb, spec.jpeg_quality)
        (dense / f"{frame:05d}.jpg").write_bytes(jpeg)
        if frame % spec.step:
            continue
        (sparse / f"{frame:05d}.jpg").write_bytes(jpeg)
        label_map_image(labels).save(annotations / f"{frame:05d}.png", format="PNG")
        for object_id in np.unique(labels):
            if object_id:
                visible[int(object_id)].append(f"{frame:05d}")
    sparse_names = [f"{f:05d}" for f in range(0, scene.num_frames, spec.step)]
    objects = {}
    for sprite in scene.sprites:
        start = f"{video.starts[sprite.object_id]:05d}"
        frames = visible[sprite.object_id] if split == "train" else [n for n in sparse_names if n >= start]
        objects[str(sprite.object_id)] = {"category": sprite.texture, "frames": frames}
    return {"objects": objects}


def _stamp(spec: YouTubeSpec, recipe: dict[str, dict[str, Video]]) -> dict:
    categories = {
        split: sorted({s.texture for v in videos.values() for s in v.scene.sprites})
        for split, videos in recipe.items()
    }
    return {
        "version": YOUTUBE_VERSION,
        "spec": asdict(spec),
        "videos": {split: list(videos) for split, videos in recipe.items()},
        "categories": {
            "seen": categories["train"],
            "unseen": sorted(set(categories["valid"]) - set(categories["train"])),
        },
        "libraries": {
            "pillow": PIL.__version__,
            "opencv": cv2.__version__,
            "scikit-image": skimage.__version__,
        },
    }


def _generate(spec: YouTubeSpec, out: Path) -> None:
    photos = youtube_photos()
    recipe = youtube_videos(spec, photos)
    for split, videos in recipe.items():
        meta = {name: _write_video(out, split, name, video, spec, photos) for name, video in videos.items()}
        (out / split / "meta.json").write_text(json.dumps({"videos": meta}, indent=1, sort_keys=True) + "\n")
    (out / STAMP_NAME).write_text(json.dumps(_stamp(spec, recipe), indent=1, sort_keys=True) + "\n")


def _spec(seed: int, params: dict) -> YouTubeSpec:
    KIND.check_params(params, YouTubeSpec)
    spec = YouTubeSpec(seed=seed, **params)  # type: ignore[arg-type]
    spec.check()
    return spec


def make_youtube(out_dir: str | Path, seed: int = 0, *, overwrite: bool = False, **params: object) -> Path:
    """Generate the dataset into ``out_dir`` (built in a hidden temp folder, then renamed into place)."""
    spec = _spec(seed, params)
    return build_into(out_dir, lambda tmp: _generate(spec, tmp), overwrite)


def ensure_youtube(root: str | Path | None = None, seed: int = 0, **params: object) -> Path:
    """The embedded YouTube-style dataset at ``root`` (default :func:`default_youtube_root`), generated
    if missing; an existing folder is used only if its stamp records the same version and parameters."""
    root = Path(root).expanduser() if root is not None else default_youtube_root()
    wanted = asdict(_spec(seed, params))
    make = lambda: make_youtube(root, seed, **params)  # noqa: E731
    return ensure_generated(root, wanted, KIND, make)


def seen_categories(root: str | Path) -> frozenset[str]:
    """The categories of the training part (the 'seen' ones) of a generated dataset."""
    stamp = KIND.read_stamp(root)
    if stamp is None:
        raise DataError(f"{Path(root) / STAMP_NAME}: not a complete {YOUTUBE_VERSION} dataset")
    return frozenset(stamp["categories"]["seen"])
