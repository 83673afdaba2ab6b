"""The chaos ledger (docs/examples/chaos_ledger.py) tells its story (pass, a
planted bug found by a storm, shrunk to one fault, replayed, fixed) and prints
the same bytes every time."""

from __future__ import annotations

import subprocess

from docs_examples import assert_same_bytes, assert_tells_its_story, run_program

KEY_LINES = [
    "1. the ledger under a crash and a duplicate",
    "   1 #0 crash root/ledger: crashed at receive",
    "2. the buggy ledger under a storm",
    "3. shrunk",
    '   10 faults -> {"faults": [{"at": 2.0, "count": 1, "kind": "duplicate", '
    '"target": "root/ledger"}]} in 9 runs',
    "   the replay has the same digest: True",
    "4. the correct ledger under the minimal plan",
    "   chaos run seed=0: passed; 1 fault(s), 10s of faults + 2s quiet, 69 events",
]


def run_ledger() -> subprocess.CompletedProcess[bytes]:
    return run_program("chaos_ledger", timeout=60)


def test_the_ledger_story_is_told() -> None:
    """The program exits 0 and prints its four steps in order."""
    lines = assert_tells_its_story(run_ledger(), KEY_LINES)
    assert any("FAILED (1 check(s))" in line for line in lines)


def test_the_ledger_story_is_deterministic() -> None:
    """Two runs print identical bytes."""
    assert_same_bytes(run_ledger(), run_ledger())
