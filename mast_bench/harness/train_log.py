"""TensorBoard event files of a training run (``tensorboard --logdir OUT/tensorboard``).

Scalars per iteration on one global step axis across stages: ``train/loss``, ``train/lr``,
``train/samples_per_s`` (this stage's running mean), ``train/stage`` (1, 2, 3...); now and then
``train/reconstruction``: the hidden channel of the first target beside the model's reconstruction
of it. A resumed run purges the steps after its checkpoint, so the curves never double back.
Rank 0 alone writes. Without the ``tensorboard`` package the run goes on with one warning.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch

TENSORBOARD_DIR = "tensorboard"


class TrainLog:
    def __init__(self, out_dir: str | Path, enabled: bool = True) -> None:
        self.folder = Path(out_dir) / TENSORBOARD_DIR
        self.enabled = enabled
        self._writer = None

    def __enter__(self) -> TrainLog:
        return self

    def __exit__(self, *exc) -> None:
        if self._writer is not None:
            self._writer.close()

    def _open(self, first_step: int):
        if self._writer is None and self.enabled:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # protobuf/tensorboard deprecation chatter
                    from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                print("warning: tensorboard is not installed; no event files", file=sys.stderr)
                self.enabled = False
                return None
            self._writer = SummaryWriter(str(self.folder), purge_step=first_step)
        return self._writer

    def step(self, step: int, stage: int, loss: float, lr: float, samples_per_s: float, info=None) -> None:
        """Log global ``step`` of stage ``stage`` (0-based); ``info`` (a StepInfo) adds an image."""
        writer = self._open(step)
        if writer is None:
            return
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/lr", lr, step)
        writer.add_scalar("train/stage", stage + 1, step)
        writer.add_scalar("train/samples_per_s", samples_per_s, step)
        if info is not None:
            writer.add_image("train/reconstruction", reconstruction_image(info), step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()


def reconstruction_image(info) -> torch.Tensor:
    """(1, H, 2W) in [0, 1]: the first sample's hidden channel (left) and its reconstruction (right).
    Normalised colour channels lie in about [-1, 1]."""
    truth = info.target[0, :1].float().cpu()
    guess = info.upsampled[0, :1].float().cpu()
    return ((torch.cat([truth, guess], dim=-1) + 1) / 2).clamp(0, 1)
