"""Pure rendering of synthetic scenes: textured blobs moving over a panning photo, exact labels.

Each object is a lobed ellipse filled with a crop of a scikit-image sample photo. Per frame it
moves along a straight line plus a small wobble, scales exponentially and spins. Objects are painted
back to front; the label map is the id of the front-most object at each pixel centre, computed from
the very masks used for painting, so the annotation is exact (no anti-aliasing at the edges).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import skimage.data

TEXTURE_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "colorwheel",
    "hubble_deep_field",
)
BACKGROUND_PHOTOS = ("rocket", "coffee", "hubble_deep_field", "astronaut", "chelsea", "immunohistochemistry")
# textures no training scene uses: the "unseen categories" of the YouTube-style embedded set
UNSEEN_TEXTURE_PHOTOS = ("retina", "motorcycle", "brick", "gravel")
_PHOTO_LOADERS = {"motorcycle": lambda: skimage.data.stereo_motorcycle()[0]}


def load_photos(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """RGB uint8 sample photos shipped inside scikit-image (no download); grey ones get 3 equal channels."""
    photos = {}
    for name in names:
        loader = _PHOTO_LOADERS.get(name) or getattr(skimage.data, name)
        image = np.asarray(loader())
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        photos[name] = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    return photos


@dataclass(frozen=True)
class Sprite:
    """One object: its shape, its texture and its motion over the sequence (progress p in [0, 1])."""

    object_id: int
    texture: str
    texture_centre: tuple[float, float]
    texture_zoom: float
    radii: tuple[float, float]
    lobes: int
    lobe_amplitude: float
    lobe_phase: float
    start: tuple[float, float]
    end: tuple[float, float]
    scale_start: float
    scale_end: float
    angle_start: float
    spin: float
    wobble: float
    wobble_phase: float
    depth: int
    # shown only while visible_from <= progress <= visible_until (an object entering or leaving the
    # video mid-way); the defaults show it throughout
    visible_from: float = 0.0
    visible_until: float = 1.0

    def visible(self, progress: float) -> bool:
        return self.visible_from <= progress <= self.visible_until

    def pose(self, progress: float) -> tuple[float, float, float, float]:
        """(centre x, centre y, scale, angle) at ``progress``."""
        wobble = self.wobble * math.sin(2 * math.pi * progress + self.wobble_phase)
        cx = self.start[0] + (self.end[0] - self.start[0]) * progress
        cy = self.start[1] + (self.end[1] - self.start[1]) * progress + wobble
        scale = self.scale_start * (self.scale_end / self.scale_start) ** progress
        return cx, cy, scale, self.angle_start + self.spin * progress

    def reach(self, scale: float) -> float:
        """Radius (pixels) of a circle that contains the whole shape at ``scale``."""
        return scale * max(self.radii) * (1 + self.lobe_amplitude) + 1.0


@dataclass(frozen=True)
class Scene:
    """Everything needed to render every frame of one sequence."""

    size: tuple[int, int]
    num_frames: int
    background: str
    background_scale: float
    pan_start: tuple[float, float]
    pan_end: tuple[float, float]
    sprites: tuple[Sprite, ...]

    def progress(self, frame: int) -> float:
        return frame / max(1, self.num_frames - 1)


def sprite_patch(
    sprite: Sprite, progress: float, size: tuple[int, int], texture: np.ndarray
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray] | None:
    """(bbox y0, y1, x0, x1), bool mask and RGB colours of the sprite inside the frame, or None if outside."""
    height, width = size
    cx, cy, scale, angle = sprite.pose(progress)
    reach = sprite.reach(scale)
    x0, x1 = max(0, math.floor(cx - reach)), min(width, math.ceil(cx + reach) + 1)
    y0, y1 = max(0, math.floor(cy - reach)), min(height, math.ceil(cy + reach) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = xs - cx, ys - cy
    cos, sin = math.cos(angle), math.sin(angle)
    ux, uy = (cos * dx + sin * dy) / scale, (-sin * dx + cos * dy) / scale
    ex, ey = ux / sprite.radii[0], uy / sprite.radii[1]
    boundary = 1 + sprite.lobe_amplitude * np.sin(sprite.lobes * np.arctan2(ey, ex) + sprite.lobe_phase)
    mask = np.hypot(ex, ey) <= boundary
    if not mask.any():
        return None
    map_x = (sprite.texture_centre[0] + ux * sprite.texture_zoom).astype(np.float32)
    map_y = (sprite.texture_centre[1] + uy * sprite.texture_zoom).astype(np.float32)
    colours = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return (y0, y1, x0, x1), mask, colours


def background_frame(scene: Scene, progress: float, photo: np.ndarray) -> np.ndarray:
    """The background photo seen through a camera panning from pan_start to pan_end (sub-pixel)."""
    height, width = scene.size
    ox = scene.pan_start[0] + (scene.pan_end[0] - scene.pan_start[0]) * progress
    oy = scene.pan_start[1] + (scene.pan_end[1] - scene.pan_start[1]) * progress
    shift = np.array([[1.0, 0.0, -ox], [0.0, 1.0, -oy]], dtype=np.float64)
    return cv2.warpAffine(
        photo, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def scaled_background(scene: Scene, photos: dict[str, np.ndarray]) -> np.ndarray:
    photo = photos[scene.background]
    new_size = (
        round(photo.shape[1] * scene.background_scale),
        round(photo.shape[0] * scene.background_scale),
    )
    return cv2.resize(photo, new_size, interpolation=cv2.INTER_LINEAR)


def render_frame(
    scene: Scene, frame: int, photos: dict[str, np.ndarray], background: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """RGB uint8 (H, W, 3) and labels uint8 (H, W) of ``frame`` (``background`` from scaled_background)."""
    progress = scene.progress(frame)
    image = background_frame(scene, progress, background)
    labels = np.zeros(scene.size, dtype=np.uint8)
    for sprite in sorted(scene.sprites, key=lambda s: s.depth, reverse=True):
        if not sprite.visible(progress):
            continue
        patch = sprite_patch(sprite, progress, scene.size, photos[sprite.texture])
        if patch is None:
            continue
        (y0, y1, x0, x1), mask, colours = patch
        image[y0:y1, x0:x1][mask] = colours[mask]
        labels[y0:y1, x0:x1][mask] = sprite.object_id
    return image, labels


def draw_scene(
    rng: np.random.Generator,
    size: tuple[int, int],
    num_frames: int,
    num_objects: int,
    photos: dict[str, np.ndarray],
    texture_pool: tuple[str, ...] = TEXTURE_PHOTOS,
) -> Scene:
    """Random scene: objects start spread across the frame and end in reversed order (their paths cross,
    so they occlude each other by depth); one object leaves the frame through a side.
    Object textures are drawn from ``texture_pool`` (never the background photo)."""
    height, width = size
    background = str(rng.choice(BACKGROUND_PHOTOS))
    photo = photos[background]
    bg_scale = max(1.25 * height / photo.shape[0], 1.25 * width / photo.shape[1])
    spare = (photo.shape[1] * bg_scale - width - 2, photo.shape[0] * bg_scale - height - 2)
    pan_start = (float(rng.uniform(0, 0.3)) * spare[0], float(rng.uniform(0, 1)) * spare[1])
    pan_end = (float(rng.uniform(0.7, 1.0)) * spare[0], float(rng.uniform(0, 1)) * spare[1])
    if rng.random() < 0.5:
        pan_start, pan_end = pan_end, pan_start
    textures = rng.choice([t for t in texture_pool if t != background], size=num_objects, replace=False)
    slots = (np.arange(num_objects) + 0.5) / num_objects
    leaver = int(rng.integers(num_objects))
    depths = rng.permutation(num_objects)
    sprites = []
    for index in range(num_objects):
        texture = photos[str(textures[index])]
        radii = (float(rng.uniform(0.10, 0.17)) * height, float(rng.uniform(0.10, 0.17)) * height)
        start_x = (slots[index] + rng.uniform(-0.08, 0.08) / num_objects) * width
        end_x = (slots[num_objects - 1 - index] + rng.uniform(-0.1, 0.1) / num_objects) * width
        if index == leaver:
            end_x = -0.7 * width if end_x <= start_x else 1.7 * width
        zoom = float(rng.uniform(0.6, 1.4)) * min(texture.shape[:2]) / (4 * max(radii))
        sprites.append(
            Sprite(
                object_id=index + 1,
                texture=str(textures[index]),
                texture_centre=(
                    float(rng.uniform(0.3, 0.7)) * texture.shape[1],
                    float(rng.uniform(0.3, 0.7)) * texture.shape[0],
                ),
                texture_zoom=zoom,
                radii=radii,
                lobes=int(rng.integers(2, 6)),
                lobe_amplitude=float(rng.uniform(0.05, 0.25)),
                lobe_phase=float(rng.uniform(0, 2 * math.pi)),
                start=(float(start_x), float(rng.uniform(0.35, 0.65)) * height),
                end=(float(end_x), float(rng.uniform(0.35, 0.65)) * height),
                scale_start=float(rng.uniform(0.8, 1.2)),
                scale_end=float(rng.uniform(0.6, 1.5)),
                angle_start=float(rng.uniform(0, 2 * math.pi)),
                spin=float(rng.uniform(-1.5, 1.5)),
                wobble=float(rng.uniform(0, 0.05)) * height,
                wobble_phase=float(rng.uniform(0, 2 * math.pi)),
                depth=int(depths[index]),
            )
        )
    return Scene(size, num_frames, background, bg_scale, pan_start, pan_end, tuple(sprites))


def clearly_visible_pixels(size: tuple[int, int]) -> int:
    """The pixels an object needs on the frame of its first annotation: 0.4 % of it, at least 20."""
    return max(20, int(0.004 * size[0] * size[1]))


def first_frame_ok(scene: Scene, photos: dict[str, np.ndarray]) -> bool:
    """Every object clearly visible in frame 0 (the first annotation must show all of them)."""
    _, labels = render_frame(scene, 0, photos, scaled_background(scene, photos))
    counts = np.bincount(labels.ravel(), minlength=len(scene.sprites) + 1)
    return bool((counts[1 : len(scene.sprites) + 1] >= clearly_visible_pixels(labels.shape)).all())
