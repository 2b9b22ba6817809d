"""Every command's --help: it exits 0 and shows its description as written (a command example
spread over several lines stays copyable; argparse's default formatter joined them into one)."""

from __future__ import annotations

from importlib import import_module

import pytest

from mast_bench.__main__ import main
from mast_bench.commands import COMMANDS


@pytest.mark.parametrize("module", COMMANDS)
def test_help_exits_0_and_keeps_the_description_lines(module, capsys):
    command = import_module(f"mast_bench.commands.{module}")
    assert main([command.NAME, "--help"]) == 0
    shown = capsys.readouterr().out.splitlines()
    for line in command.__doc__.strip().splitlines():
        assert line in shown
