"""The run's random source, set where there is no run."""

from __future__ import annotations

import random
import re

import pytest

from jido_trio import set_run_random


def test_set_run_random_needs_a_run() -> None:
    """Outside a Trio run, set_run_random raises RuntimeError saying it sets a value for
    one run only (set_id_factory does the same; see test_signal.py)."""
    with pytest.raises(
        RuntimeError,
        match="^"
        + re.escape(
            "set_run_random() must be called inside a Trio run (trio.run(...)); "
            "it sets a value for that run only"
        )
        + "$",
    ):
        set_run_random(random.Random(1))
