"""Encoder, colour transforms, channel dropout, checkpoints, reference schedules, MAST, propagation."""

from .mast import MAST, build_model

__all__ = ["MAST", "build_model"]
