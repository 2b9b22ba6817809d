"""Result records, the results folder that stores them, and study manifests.

Torch-free and below both the harness (which writes records) and the reports (which read them),
so neither needs the other.
"""

from .curves import CurveManifest, find_curves, read_curve, write_curve
from .layout import DEFAULT_RESULTS, ResultsLayout
from .manifest import StudyManifest, find_manifest, read_manifest, write_manifest
from .records import (
    COPIED_FROM,
    SCHEMA,
    WEIGHTS_TAKEN_FROM,
    ResultRecord,
    canonical_json,
    identity_key,
    seconds_trained_here,
)
from .store import ResultStore

__all__ = [
    "DEFAULT_RESULTS",
    "CurveManifest",
    "SCHEMA",
    "ResultRecord",
    "ResultStore",
    "ResultsLayout",
    "StudyManifest",
    "WEIGHTS_TAKEN_FROM",
    "COPIED_FROM",
    "seconds_trained_here",
    "canonical_json",
    "find_curves",
    "find_manifest",
    "identity_key",
    "read_curve",
    "read_manifest",
    "write_curve",
    "write_manifest",
]
