"""Random streams of training: one independent, reproducible generator per (seed, iteration, rank),
so a run is a pure function of its inputs and resumes bit for bit wherever it stopped."""

from __future__ import annotations

import numpy as np
import torch


def iteration_generator(seed: int, iteration: int, rank: int = 0) -> torch.Generator:
    """An independent, reproducible stream for one iteration (and one DDP rank)."""
    sequence = np.random.SeedSequence([seed, iteration, rank])
    return torch.Generator().manual_seed(int(sequence.generate_state(1, np.uint64)[0] >> 1))
