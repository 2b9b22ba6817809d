"""Encoder, colour transforms, channel dropout, checkpoints, reference schedules, MAST, propagation."""

from .factory import create_model
from .mast import MAST

__all__ = ["MAST", "create_model"]
