"""Fixtures shared by every test folder: where ../shared lives, and visible GPU skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# Without a GPU the Triton kernels are tested under Triton's interpreter, which must be chosen
# before anything imports triton (set TRITON_INTERPRET yourself to override).
if "TRITON_INTERPRET" not in os.environ and not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

REPO = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    return Path(os.environ.get("MAST_BENCH_SHARED", REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared_dir()
    if not path.is_dir():
        pytest.fail(f"the shared fixtures folder {path} is missing (set MAST_BENCH_SHARED)")
    return path


@pytest.fixture(scope="session")
def davis_mini(shared_dir: Path) -> Path:
    return shared_dir / "data" / "davis-mini"


@pytest.fixture(scope="session")
def official_reference(shared_dir: Path) -> Path:
    return shared_dir / "reference" / "mast-official-cpu"


@pytest.fixture(autouse=True)
def _thread_settings_restored():
    """A test may change this process's thread settings (a Dask LocalCluster in this process sets
    OMP_NUM_THREADS=1); the tests after it must see the machine's own, as a user's run would."""
    from mast_bench.threads import THREAD_VARIABLES

    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    threads = torch.get_num_threads()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    torch.set_num_threads(threads)


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
