"""J, F, statistics, DAVIS-toolkit-identical and YouTube-VOS-style evaluation (numpy/pandas only, no torch).

Names are imported lazily so that the per-sequence worker processes do not pay for pandas.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "DavisScores": "evaluation",
    "evaluate_semisupervised": "evaluation",
    "tables_from_scores": "evaluation",
    "SequenceScores": "sequence",
    "score_sequence": "sequence",
    "boundary_radius": "measures",
    "db_eval_boundary": "measures",
    "db_eval_iou": "measures",
    "disk": "measures",
    "seg2bmap": "measures",
    "db_statistics": "statistics",
    "decay_bin_edges": "statistics",
    "csv_paths": "toolkit_csv",
    "format_report": "toolkit_csv",
    "write_csvs": "toolkit_csv",
    "YouTubeScores": "youtube",
    "categories_of": "youtube",
    "evaluate_youtube": "youtube",
    "write_youtube_csvs": "youtube",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
