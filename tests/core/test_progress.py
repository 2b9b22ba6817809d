"""Logs that read well: a bar on a terminal, one line per sequence or stage in a file (no carriage
returns), nothing when progress is off."""

from __future__ import annotations

import io

from mast_bench.progress import LineProgress, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_one_line_per_sequence():
    log = io.StringIO()
    seen = list(progress_bar(range(80), total=80, desc="bmx-trees", unit="frame", stream=log))
    assert seen == list(range(80))
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in log.getvalue()
    assert lines[0].startswith("bmx-trees: 80/80 frame in ") and lines[0].endswith(" s")


def test_a_training_stage_line_carries_its_last_figures_and_where_it_resumed():
    log = io.StringIO()
    bar = progress_bar(total=100, desc="train mast [1 pairs]", unit="it", initial=40, stream=log)
    assert isinstance(bar, LineProgress)
    for _ in range(60):
        bar.update(1)
        bar.set_postfix(loss="0.1234", samples_per_s="16.3")
    assert log.getvalue() == ""  # nothing until the stage ends
    bar.close()
    bar.close()
    (line,) = log.getvalue().splitlines()
    assert line.startswith("train mast [1 pairs]: 100/100 it in ")
    assert line.endswith(" s (resumed at 40), loss=0.1234, samples_per_s=16.3")


def test_a_terminal_gets_a_bar_and_disabled_progress_says_nothing():
    screen = Terminal()
    for _ in progress_bar(range(3), total=3, desc="seq", unit="frame", stream=screen):
        pass
    assert screen.getvalue().startswith("\rseq:   0%|")  # a live bar, cleared when done
    quiet = io.StringIO()
    assert list(progress_bar(range(3), total=3, desc="seq", unit="frame", enabled=False, stream=quiet)) == [
        0,
        1,
        2,
    ]
    assert quiet.getvalue() == ""
