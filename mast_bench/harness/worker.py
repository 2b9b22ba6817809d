"""``python -m mast_bench.harness.worker TASK.pkl RESULT.pkl``: run one pickled call in a fresh process.

Used to measure a propagation's peak memory on its own. A plain subprocess
(not multiprocessing) works from anywhere: the main process, joblib/loky
workers and daemonic Dask workers, which may not start multiprocessing children.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_in_fresh_process(fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn(arg)`` in a new Python process; its exception (if any) is raised here."""
    with tempfile.TemporaryDirectory(prefix="mast-bench-worker-") as tmp:
        task, result = Path(tmp) / "task.pkl", Path(tmp) / "result.pkl"
        task.write_bytes(pickle.dumps((fn, arg)))
        proc = subprocess.run([sys.executable, "-m", "mast_bench.harness.worker", str(task), str(result)])
        if not result.is_file():
            raise RuntimeError(f"the worker process died (exit status {proc.returncode}) without a result")
        ok, value = pickle.loads(result.read_bytes())
    if not ok:
        raise value
    return value


def main(argv: list[str]) -> int:
    task, result = Path(argv[0]), Path(argv[1])
    fn, arg = pickle.loads(task.read_bytes())
    try:
        outcome = (True, fn(arg))
    except Exception as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    result.write_bytes(pickle.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
