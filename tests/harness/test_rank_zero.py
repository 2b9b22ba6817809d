"""harness.rank_zero: what rank 0 alone does, and what every rank then raises (the broadcast itself
runs under torchrun in tests/harness/test_training.py and test_branch.py)."""

from __future__ import annotations

import pytest

from mast_bench.errors import DataError, PathError, UserError
from mast_bench.harness import rank_zero


@pytest.fixture
def broadcast(monkeypatch):
    """Stands in for the gloo broadcast: keeps what rank 0 sends, hands every rank ``received``."""
    box = {"sent": [], "received": None}

    def fake(failure):
        box["sent"].append(failure)
        return failure if box["received"] is None else box["received"]

    monkeypatch.setattr(rank_zero, "rank_0s_failure", fake)
    return box


def _raise(exc: BaseException):
    def action():
        raise exc

    return action


def test_one_process_runs_the_action_and_raises_what_it_raises(broadcast):
    done = []
    rank_zero.on_rank_0(lambda: done.append(1), 0, 1)
    with pytest.raises(OSError):
        rank_zero.on_rank_0(_raise(OSError(28, "No space left on device", "/x")), 0, 1)
    assert done == [1] and broadcast["sent"] == []  # nothing to share


def test_rank_0_shares_its_user_error_and_a_full_disk_as_one(broadcast):
    with pytest.raises(DataError, match="other clips"):
        rank_zero.on_rank_0(_raise(DataError("run: other clips")), 0, 2)
    with pytest.raises(PathError, match="/runs/x: no space left on device"):
        rank_zero.on_rank_0(_raise(OSError(28, "No space left on device", "/runs/x")), 0, 2)
    assert [type(f) for f in broadcast["sent"]] == [DataError, PathError]


def test_a_crash_on_rank_0_stops_the_others_with_a_line_and_keeps_its_traceback(broadcast):
    with pytest.raises(RuntimeError, match="a bug"):
        rank_zero.on_rank_0(_raise(RuntimeError("a bug")), 0, 2)
    [sent] = broadcast["sent"]
    assert isinstance(sent, UserError) and "rank 0 stopped (RuntimeError: a bug)" in str(sent)

    ran = []
    broadcast["received"] = sent
    with pytest.raises(UserError, match="rank 0 stopped"):  # another rank: not its action, rank 0's word
        rank_zero.on_rank_0(lambda: ran.append(1), 1, 2)
    assert ran == []
