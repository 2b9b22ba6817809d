from __future__ import annotations

import math

import pytest

from mast_bench.errors import ConfigError
from mast_bench.harness.presets import get_preset
from mast_bench.harness.worker import run_in_fresh_process


def test_fresh_process_returns_value_and_reraises_errors():
    # functions are pickled by reference: the fresh process imports them by module name
    assert run_in_fresh_process(math.factorial, 5) == 120
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        run_in_fresh_process(get_preset, "nope")
