"""MAST's memory read: one joint softmax over every candidate of every reference.

Official computation (models/colorizer.py): logits of each reference (window
correlation, bilinear ROI window, or -- for the full-memory variant -- every
key position) are concatenated, ONE softmax runs over all of them, and the
output is the softmax-weighted sum of the candidates' values. Out-of-image
candidates keep logit 0 and value 0.

We compute exactly that, a band of query rows at a time: a window entry only
needs the key/value rows within radius*dilation of the band (its halo), an ROI
entry contracts the band against per-pixel integer windows (ops/roi.py), a full
entry is a matmul against the whole key. Peak memory is therefore bounded by the
band, not the frame. Each entry's logits keep the layout its operator produces
(candidates first for windows and full memory, last for ROI windows); the joint
softmax is computed across them (a shared maximum and denominator), so nothing
is concatenated or transposed unless ``top_k`` needs all candidates side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .bilinear import blend, integer_window, spread
from .kernels import kernel_path
from .roi import roi_aggregate, roi_corr
from .softmax import joint_softmax
from .window import check_window, pad_for_window, window_aggregate, window_corr, window_size

KINDS = ("window", "full")
OUTSIDE = ("zero", "excluded")

# Elements (not bytes) one band's largest temporaries may take: 16 Mi floats = 64 MiB in float32.
DEFAULT_BUDGET_ELEMENTS = 16 * 1024 * 1024


@dataclass(frozen=True)
class MemoryEntry:
    """One reference frame in memory.

    kind "window": candidates = the PxP window (P = 2*radius+1, spacing ``dilation``) around each
    query position; with ``offset`` (B,H,W,2 as x,y) the window is resampled bilinearly around
    position + offset (ROI fine step, dilation must be 1). ``value_offset`` defaults to ``offset``
    (the official offset bug passes another reference's offset for the values).
    kind "full": every key position is a candidate (radius/dilation unused).

    ``outside`` says what a plain window does with candidates that fall outside the key grid:
    "zero" (MAST: they take part in the softmax with logit 0 and value 0) or "excluded" (CRW, VFS,
    DINO: they are not candidates). ``disk_radius`` keeps only the window's candidates whose offset
    (in feature pixels, before dilation) is shorter than it (CRW's circular neighbourhood); the
    others are excluded.
    """

    key: Tensor
    value: Tensor
    kind: str = "window"
    radius: int = 0
    dilation: int = 1
    offset: Tensor | None = None
    value_offset: Tensor | None = None
    outside: str = "zero"
    disk_radius: float | None = None

    @property
    def masked(self) -> bool:
        """Some window candidates are left out of the softmax (excluded outside, or a disk)."""
        return self.kind == "window" and (self.outside == "excluded" or self.disk_radius is not None)

    @property
    def effective_value_offset(self) -> Tensor | None:
        return self.offset if self.value_offset is None else self.value_offset

    def candidates(self) -> int:
        if self.kind == "full":
            return self.key.shape[-2] * self.key.shape[-1]
        return window_size(self.radius) ** 2


def _validate(query: Tensor, entries: list[MemoryEntry]) -> None:
    if query.dim() != 4:
        raise ValueError(f"query must be (B,C,H,W), got {tuple(query.shape)}")
    if not entries:
        raise ValueError("memory_read needs at least one MemoryEntry")
    b, c, h, w = query.shape
    value_channels = {entry.value.shape[1] if entry.value.dim() == 4 else None for entry in entries}
    for n, entry in enumerate(entries):
        where = f"memory entry {n} (kind {entry.kind!r})"
        if entry.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}")
        if entry.key.dim() != 4 or entry.key.shape[:2] != (b, c):
            raise ValueError(f"{where}: key {tuple(entry.key.shape)} must be (B={b}, C={c}, H, W)")
        value = entry.value
        if value.dim() != 4 or value.shape[0] != b or value.shape[-2:] != entry.key.shape[-2:]:
            raise ValueError(
                f"{where}: value {tuple(entry.value.shape)} must be (B={b}, Cv, H, W) on the key's grid "
                f"{tuple(entry.key.shape[-2:])}"
            )
        if entry.outside not in OUTSIDE:
            raise ValueError(f"{where}: outside must be one of {OUTSIDE}, got {entry.outside!r}")
        if entry.kind == "full":
            continue
        check_window(entry.radius, entry.dilation)
        if entry.disk_radius is not None and not entry.disk_radius > 0:
            raise ValueError(f"{where}: disk_radius must be > 0, got {entry.disk_radius!r}")
        if entry.masked and entry.offset is not None:
            raise ValueError(f"{where}: an ROI (offset) window cannot exclude candidates")
        if entry.key.shape[-2:] != (h, w):
            raise ValueError(
                f"{where}: key grid {tuple(entry.key.shape[-2:])} must equal the query grid {(h, w)}"
            )
        for name, off in (("offset", entry.offset), ("value_offset", entry.value_offset)):
            if off is None:
                continue
            if entry.dilation != 1:
                raise ValueError(f"{where}: a bilinear {name} needs dilation 1, got {entry.dilation}")
            if tuple(off.shape) != (b, h, w, 2):
                raise ValueError(f"{where}: {name} must be (B,H,W,2)={(b, h, w, 2)}, got {tuple(off.shape)}")
        if entry.value_offset is not None and entry.offset is None:
            raise ValueError(f"{where}: value_offset without offset is not a MAST configuration")
    if len(value_channels) != 1:
        raise ValueError(f"all memory values must have the same channel count, got {sorted(value_channels)}")


@dataclass
class _Prepared:
    """An entry turned into the layout its kind reads from (done once per memory_read)."""

    entry: MemoryEntry
    key: Tensor  # padded grid (window), grid (ROI) or (B,C,M) (full)
    value: Tensor


def _prepare(entry: MemoryEntry) -> _Prepared:
    if entry.kind == "full":
        return _Prepared(entry, entry.key.flatten(2), entry.value.flatten(2))
    if entry.offset is not None:
        value = entry.value
        if kernel_path(value.device) == "cpu-csrc":  # the CPU kernel reads ROI values channels-last
            value = value.contiguous(memory_format=torch.channels_last)
        return _Prepared(entry, entry.key, value)
    r, d = entry.radius, entry.dilation
    return _Prepared(entry, pad_for_window(entry.key, r, d), pad_for_window(entry.value, r, d))


def _is_roi(entry: MemoryEntry) -> bool:
    return entry.kind == "window" and entry.offset is not None


def _candidate_dim(entry: MemoryEntry) -> int:
    """Where the candidates are in an entry's band logits: (B, n, candidates) for ROI windows,
    (B, candidates, n) otherwise."""
    return 2 if _is_roi(entry) else 1


def _band_logits(prep: _Prepared, q_band: Tensor, start: int, stop: int) -> Tensor:
    """Logits of one entry for query rows start:stop, n = rows*W query positions:
    (B, n, candidates) for an ROI entry, (B, candidates, n) for the others."""
    entry = prep.entry
    b, c, rows, w = q_band.shape
    if entry.kind == "full":
        return torch.bmm(prep.key.transpose(1, 2), q_band.reshape(b, c, rows * w))
    if entry.offset is None:
        margin = 2 * entry.radius * entry.dilation
        keys = prep.key[:, :, start : stop + margin]
        logits = window_corr(q_band, keys, entry.radius, entry.dilation).reshape(b, -1, rows * w)
        if entry.masked:
            valid = _band_validity(entry, start, stop, tuple(entry.key.shape[-2:]), logits.device)
            logits = logits.masked_fill(~valid, float("-inf"))
        return logits
    win = integer_window(entry.offset[:, start:stop], entry.radius, start)
    raw = roi_corr(q_band, prep.key, win.base_y, win.base_x, win.side)
    return blend(raw.view(b, rows * w, win.side, win.side), win).reshape(b, rows * w, -1)


def _band_validity(entry: MemoryEntry, start: int, stop: int, hw: tuple[int, int], device) -> Tensor:
    """(1, P*P, rows*W) bool: the window candidates of query rows start:stop that take part."""
    height, width = hw
    r, d = entry.radius, entry.dilation
    steps = torch.arange(-r, r + 1, device=device)
    key_rows = torch.arange(start, stop, device=device).view(1, -1) + steps.view(-1, 1) * d  # (P, rows)
    key_cols = torch.arange(width, device=device).view(1, -1) + steps.view(-1, 1) * d  # (P, W)
    row_ok = torch.ones_like(key_rows, dtype=torch.bool)
    col_ok = torch.ones_like(key_cols, dtype=torch.bool)
    if entry.outside == "excluded":
        row_ok = (key_rows >= 0) & (key_rows < height)
        col_ok = (key_cols >= 0) & (key_cols < width)
    keep = row_ok.view(-1, 1, stop - start, 1) & col_ok.view(1, -1, 1, width)  # (P, P, rows, W)
    if entry.disk_radius is not None:
        length = torch.hypot(steps.view(-1, 1).double(), steps.view(1, -1).double())
        keep = keep & (length < entry.disk_radius).view(2 * r + 1, 2 * r + 1, 1, 1)
    return keep.reshape(1, (2 * r + 1) ** 2, -1)


def _band_values(prep: _Prepared, weights: Tensor, start: int, stop: int, w: int) -> Tensor:
    """(B, Cv, rows*W) weighted values of one entry; ``weights`` in the entry's logits layout."""
    entry = prep.entry
    b = weights.shape[0]
    rows = stop - start
    if entry.kind == "full":
        return torch.bmm(prep.value, weights)
    if entry.offset is None:
        margin = 2 * entry.radius * entry.dilation
        values = prep.value[:, :, start : stop + margin]
        band = weights.reshape(b, -1, rows, w)
        return window_aggregate(band, values, entry.radius, entry.dilation).flatten(2)
    win = integer_window(entry.effective_value_offset[:, start:stop], entry.radius, start)
    size = window_size(entry.radius)
    per_pixel = spread(weights.reshape(b, rows * w, size, size), win)
    out = roi_aggregate(per_pixel.reshape(b, rows * w, -1), prep.value, win.base_y, win.base_x, win.side)
    return out.flatten(2)


def band_rows(
    query: Tensor, entries: list[MemoryEntry], budget_elements: int = DEFAULT_BUDGET_ELEMENTS
) -> int:
    """Rows per band so that the band's logits (and their softmax/grad copies) fit the budget."""
    b, _, h, w = query.shape
    total = sum(entry.candidates() for entry in entries)
    per_row = 3 * b * w * total
    return max(1, min(h, budget_elements // max(1, per_row)))


def top_k_softmax(logits: Tensor, top_k: int) -> Tensor:
    """Softmax over dim 1 where only the k largest logits of each query position keep a weight
    (ties broken as ``torch.topk`` does)."""
    if top_k >= logits.shape[1]:
        return torch.softmax(logits, dim=1)
    values, index = torch.topk(logits, top_k, dim=1)
    return torch.zeros_like(logits).scatter_(1, index, torch.softmax(values, dim=1))


def _band_weights(
    logits: list[Tensor], entries: list[MemoryEntry], scale: float, top_k: int | None
) -> list[Tensor]:
    """Joint-softmax weights of one band, each entry's in the layout of its logits."""
    dims = [_candidate_dim(entry) for entry in entries]
    if top_k is None:
        return joint_softmax(logits, dims, scale)
    # top-k ranks all candidates together: concatenate them candidates-first
    flat = [part.transpose(1, 2) if dim == 2 else part for part, dim in zip(logits, dims, strict=True)]
    joined = torch.cat(flat, dim=1)
    weights = top_k_softmax(joined * scale if scale != 1.0 else joined, top_k)
    split = torch.split(weights, [part.shape[1] for part in flat], dim=1)
    return [part.transpose(1, 2) if dim == 2 else part for part, dim in zip(split, dims, strict=True)]


def memory_read(
    query: Tensor,
    entries: list[MemoryEntry],
    scale: float = 1.0,
    chunk_rows: int | None = None,
    budget_elements: int = DEFAULT_BUDGET_ELEMENTS,
    top_k: int | None = None,
) -> Tensor:
    """(B,C,H,W) query, entries -> (B,Cv,H,W) = softmax(scale * concat logits) . values.

    ``scale`` is MAST's affinity scale, or 1/temperature of the other protocols; ``top_k`` keeps
    only the k best candidates of each query position (over all entries) in the softmax.
    ``chunk_rows`` query rows per band (None: from ``budget_elements``); the result does not
    depend on it.
    """
    entries = list(entries)
    _validate(query, entries)
    if chunk_rows is not None and (not isinstance(chunk_rows, int) or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive int or None, got {chunk_rows!r}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
    b, _, h, w = query.shape
    rows = chunk_rows if chunk_rows is not None else band_rows(query, entries, budget_elements)
    prepared = [_prepare(entry) for entry in entries]
    bands = []
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        q_band = query[:, :, start:stop]
        logits = [_band_logits(p, q_band, start, stop) for p in prepared]
        weights = _band_weights(logits, entries, scale, top_k)
        out = None
        for prep, part in zip(prepared, weights, strict=True):
            value = _band_values(prep, part, start, stop, w)
            out = value if out is None else out + value
        bands.append(out.view(b, -1, stop - start, w))
    return torch.cat(bands, dim=2)
