"""Reading and writing MAST weights in the official checkpoint layout.

Official files are ``{'epoch', 'state_dict', 'optimizer'}`` with bare keys; DataParallel
saves add a ``module.`` prefix. Loading never unpickles code (``weights_only=True``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_write_bytes
from ..errors import CheckpointError

_PREFIX = "module."
_WRAPPERS = ("state_dict", "model")
_BATCH_COUNT = "num_batches_tracked"  # BatchNorm's counter: files from torch < 0.4.1 or converters lack it
_SHOWN_KEYS = 8


def require_checkpoint_file(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return path


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model state dict of a checkpoint file, unwrapped and without a ``module.`` prefix."""
    path = require_checkpoint_file(path)
    try:
        with warnings.catch_warnings():  # torch warns about the pickle it refuses; the error says it
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, not a torch file, pickled code...
        raise CheckpointError(
            f"{path}: cannot read as a torch checkpoint ({load_failure(exc)}); expected a state dict saved "
            "by torch.save (code in a pickle is never run)"
        ) from None
    return unwrap_state_dict(payload, str(path))


def load_failure(exc: Exception) -> str:
    """torch.load's error in one line: its first (the rest advises loading with weights_only=False,
    which would run whatever code the file holds)."""
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"


def state_dict_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """The weights' own fingerprint (each tensor's name, dtype, shape and bytes, in name order),
    not the file's: a training checkpoint also holds its optimizer, RNG state and wall-clock
    seconds, so the same weights trained twice make different files."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def unwrap_state_dict(payload: Any, where: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The state dict of ``payload``: itself, or under 'state_dict' (official) or 'model' (CRW, timm
    and many training scripts)."""
    for wrapper in _WRAPPERS:
        if isinstance(payload, Mapping) and isinstance(payload.get(wrapper), Mapping):
            payload = payload[wrapper]
            break
    if not isinstance(payload, Mapping) or not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise CheckpointError(
            f"{where}: expected a state dict (name -> tensor), {{'state_dict': ...}} or {{'model': ...}}"
        )
    state = dict(payload)
    if state and all(k.startswith(_PREFIX) for k in state):
        state = {k[len(_PREFIX) :]: v for k, v in state.items()}
    return state


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN_KEYS])
    more = f" (+{len(keys) - _SHOWN_KEYS} more)" if len(keys) > _SHOWN_KEYS else ""
    return shown + more


def load_state(model: nn.Module, state: Mapping[str, torch.Tensor], where: str = "checkpoint") -> None:
    """Strict load that reports missing/unexpected keys and shape mismatches by name. A missing
    BatchNorm batch counter keeps the model's own: the counter changes no output (momentum is set)."""
    expected = model.state_dict()
    counters = {k: v for k, v in expected.items() if k.rsplit(".", 1)[-1] == _BATCH_COUNT and k not in state}
    state = {**state, **counters}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    problems = []
    if missing:
        problems.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listing(unexpected)}")
    mismatched = [
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(state))
        if state[k].shape != expected[k].shape
    ]
    if mismatched:
        problems.append(f"shape mismatches: {_listing(mismatched)}")
    if problems:
        raise CheckpointError(f"{where} does not fit the model: " + "; ".join(problems))
    for key in sorted(expected):
        _check_values(state[key], expected[key], f"{where}: {key}")
    model.load_state_dict(dict(state), strict=True)


def _check_values(tensor: torch.Tensor, expected: torch.Tensor, where: str) -> None:
    """A dense tensor of the model's kind of number (any float width for a float), all finite: a
    sparse one fails in load_state_dict, a complex or bool one is cast without a word, and NaN
    weights (a diverged training) propagate nothing but score as if they had."""
    if tensor.layout != torch.strided:
        raise CheckpointError(f"{where}: a {tensor.layout} tensor, expected a dense one")
    if tensor.dtype.is_floating_point != expected.dtype.is_floating_point:
        raise CheckpointError(f"{where}: dtype {tensor.dtype}, expected {expected.dtype}")
    if tensor.dtype.is_floating_point and not bool(torch.isfinite(tensor).all()):
        raise CheckpointError(f"{where}: non-finite values (NaN or inf): diverged weights?")


def load_weights(model: nn.Module, path: str | Path) -> None:
    """Strict load of ``path``; a model with a ``checkpoint_state(state)`` method maps other file
    layouts onto its own first (MAST: torchvision ResNet files onto its ImageNet trunk)."""
    state = read_state_dict(path)
    adapt = getattr(model, "checkpoint_state", None)
    load_state(model, adapt(state) if callable(adapt) else state, str(path))


def save_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, **extra: Any
) -> None:
    """Atomically write ``{'state_dict', 'optimizer', **extra}`` (the official layout, e.g. epoch=...)."""
    payload: dict[str, Any] = dict(extra)
    payload["state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())
