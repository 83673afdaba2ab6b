"""The supervision demo (docs/examples/supervision_demo.py) runs, tells its story,
and prints the same bytes every time."""

from __future__ import annotations

import subprocess

from docs_examples import assert_same_bytes, assert_tells_its_story, run_program

# Exact lines, in the order they must appear.
KEY_LINES = [
    "jido_trio supervision demo (virtual time; each t=... line is a telemetry event)",
    "  t= 0.000  root                     supervisor up, one_for_one: pipeline, flaky_sup",
    "  root                   supervisor running    restarts=0  one_for_one",
    "  |   +-- transform      worker     running    restarts=0  permanent",
    # rest_for_one: transform and the child started after it restart; ingest does not
    "  t= 1.000  root/pipeline/transform  CRASHED: ValueError: bad record #17",
    "  t= 1.000  root/pipeline/publish    exited (shutdown)",
    "  t= 1.000  root/pipeline/transform  restart #1 now, caused by transform",
    "  t= 1.000  root/pipeline/publish    restart #1 now, caused by transform",
    "  t= 1.000  root/pipeline/publish    started again (restart #1)",
    # backoff on virtual time, then escalation up the tree
    "  t= 2.000  root/flaky_sup/flaky     restart #1 in 0.25s (backoff), caused by flaky",
    "  t= 2.250  root/flaky_sup/flaky     started again (restart #1)",
    "  t= 2.750  root/flaky_sup/flaky     restart #2 in 0.5s (backoff), caused by flaky",
    "  t= 3.750  root/flaky_sup           GIVES UP: 3 restarts in 5s (t=2, 2.75, 3.75)"
    " > max_restarts=2; escalating",
    "  t= 3.750  root/flaky_sup           supervisor stopped (escalated)",
    "  t= 3.750  root/flaky_sup           CRASHED: RestartIntensityError (root/flaky_sup gave up)",
    "  t= 3.750  root/flaky_sup           started again (restart #1)",
    # the kill seam counts as a crash
    "  t= 6.000  root/pipeline/ingest     CRASHED: ChildKilled (reason: drill)",
    "  t= 6.000  root/pipeline/publish    started again (restart #2)",
    "The tree after (t=6.500)",
    "  |   +-- ingest         worker     running    restarts=1  permanent",
    "  +-- flaky_sup          supervisor running    restarts=1  one_for_one",
    # shutdown in reverse start order
    "  t= 7.000  root/flaky_sup/flaky     exited (shutdown)",
    "  t= 7.000  root/pipeline/ingest     exited (shutdown)",
    "  t= 7.000  root                     supervisor stopped (shutdown)",
    "Supervisors left in this run: 0",
    "summary: 6 crashes, 8 restarts, 1 escalation, flaky connected on attempt 4;"
    " shut down cleanly at t=7.000",
]


def run_demo() -> subprocess.CompletedProcess[bytes]:
    return run_program("supervision_demo", timeout=60)


def test_demo_exits_0_with_its_story() -> None:
    """The demo exits 0, writes nothing to stderr, and prints every key line in order."""
    assert_tells_its_story(run_demo(), KEY_LINES)


def test_demo_is_deterministic() -> None:
    """Two runs print identical bytes (virtual time; no ids or addresses)."""
    assert_same_bytes(run_demo(), run_demo())
