"""Determinism: a seed names one run, event for event, in this process and in
any other; other seeds explore other schedules; check_determinism catches a
system that reads a source the seed does not control; and the Trio internals
the seeding relies on are still there."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio._core._run as trio_run
from chaos_fixtures import LOG, Agents, Relay, race, relay

import chaos
from chaos import NondeterminismError
from chaos._determinism import check_trio_internals, seeded_scheduler
from jido_trio import ActionResult, AgentDef, ChildSpec, Emit, action, agent_spec

HERE = Path(__file__).parent


def test_the_same_seed_gives_the_same_run() -> None:
    """Two runs with one seed have the same digest, trace and report."""
    first = race(0, keep_trace=None)
    second = race(0, keep_trace=None)
    assert first.digest == second.digest
    assert first.trace == second.trace
    assert first.to_dict() == second.to_dict()
    assert first.events == len(first.trace) == 56


def test_the_same_seed_gives_the_same_run_in_other_processes() -> None:
    """Interpreters with other hash seeds print the digest this process computes."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from chaos_fixtures import race; print(race(0).digest)"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(HERE)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            text=True,
        )
        for hash_seed in ("0", "1", "4242")
    ]
    digests = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0]
    assert digests == [race(0).digest] * 3


def test_other_seeds_explore_other_schedules() -> None:
    """Agents relaying at the same instants: each seed orders the events its own way."""
    digests = {race(seed).digest for seed in range(10)}
    assert len(digests) == 10


def test_a_late_fault_does_not_change_the_run_before_it() -> None:
    """The trace before a fault acts is the trace of the same run without that fault."""
    clean = race(3, keep_trace=None)
    faulty = race(3, [chaos.Kill(target="root/b", at=4.5)], keep_trace=None)

    def before(trace: tuple[str, ...]) -> list[str]:
        return [line for line in trace if float(line.split(" ", 1)[0]) < 4.5]

    assert before(faulty.trace) == before(clean.trace)
    assert len(before(clean.trace)) > 30
    assert faulty.digest != clean.digest


def test_adding_a_fault_does_not_change_what_another_fault_draws() -> None:
    """A fault added after another does not change which target the first one picks."""
    for seed in range(5):
        alone = race(seed, [chaos.Kill(target="root/*", at=2.5, pick="one")])
        with_more = race(
            seed,
            [chaos.Kill(target="root/*", at=2.5, pick="one"), chaos.Drop(target="root/a", at=3)],
        )
        assert alone.faults[0] == with_more.faults[0]


# ------------------------------------------------------------------ check_determinism


def test_check_determinism_returns_the_report_of_a_deterministic_run() -> None:
    """check_determinism runs twice and returns the first report, with its whole trace."""
    options: dict[str, Any] = {
        "seed": 5,
        "duration": 8,
        "quiet_period": 2,
        "workload": [relay(1, "a", "b", "x"), relay(1, "b", "c", "y")],
    }
    plan = [chaos.Kill(target="root/a", at=2)]
    report = chaos.check_determinism(Agents("a", "b", "c"), plan, **options)
    assert report.seed == 5
    assert len(report.trace) == report.events
    assert report.digest == chaos.run(Agents("a", "b", "c"), plan, **options).digest


def impure(choose: Callable[[], bool]) -> AgentDef[Relay]:
    """An agent whose relay sends to b or c as ``choose()`` says: an action that reads the
    world, which a real action must never do."""

    @action("relay", params=Relay)
    def relay_somewhere(state: Relay, params: Relay) -> ActionResult[Relay]:
        to = "b" if choose() else "c"
        return ActionResult(state, directives=[Emit("log.note", {"tag": params.tag}, to=to)])

    return AgentDef("impure", Relay, [relay_somewhere], routes={"log.relay": "relay"})


def impure_system(choose: Callable[[], bool]) -> chaos.System:
    definition = impure(choose)

    def children() -> list[ChildSpec]:
        return [
            agent_spec("a", definition, state=Relay(to="", tag="")),
            agent_spec("b", LOG),
            agent_spec("c", LOG),
        ]

    return chaos.System(children)


def test_check_determinism_names_the_first_event_that_differs() -> None:
    """State kept across runs makes the second run differ: the error names the event and index."""
    calls = iter(range(100))
    system = impure_system(lambda: next(calls) % 2 == 0)
    with pytest.raises(NondeterminismError) as info:
        chaos.check_determinism(
            system, seed=0, duration=3, quiet_period=1, workload=[relay(1, "a", "b", "x")]
        )
    error = info.value
    assert (error.index, error.first, error.second) == (
        5,
        "1.000000 deliver root/a log.note -> root/b",
        "1.000000 deliver root/a log.note -> root/c",
    )
    assert error.digests[0] != error.digests[1]
    assert str(error).startswith(
        "the same seed gave two different runs: event #5 differs\n"
        "  first run:  1.000000 deliver root/a log.note -> root/b\n"
        "  second run: 1.000000 deliver root/a log.note -> root/c\n"
        "Something in the system reads a source the seed does not control"
    )


@pytest.fixture
def global_random() -> Iterator[None]:
    """Seed the process-wide random module for the test, and put it back afterwards."""
    state = random.getstate()
    random.seed(20240601)
    try:
        yield
    finally:
        random.setstate(state)


@pytest.mark.usefixtures("global_random")
def test_check_determinism_catches_an_action_that_reads_random() -> None:
    """An action drawing from the random module (which no seed of the run controls) is caught."""
    system = impure_system(lambda: random.random() < 0.5)
    sends = [relay(1 + i, "a", "b", str(i)) for i in range(8)]
    with pytest.raises(NondeterminismError) as info:
        chaos.check_determinism(system, duration=10, quiet_period=1, workload=sends)
    error = info.value
    assert error.first is not None
    assert error.second is not None
    assert error.first.split(" -> ")[0] == error.second.split(" -> ")[0]
    assert " deliver root/a log.note" in error.first
    assert {error.first[-6:], error.second[-6:]} == {"root/b", "root/c"}


def test_nondeterminism_error_pickles() -> None:
    """The error survives pickling with its fields (for runs in worker processes)."""
    import pickle

    error = NondeterminismError(3, "a", None, ("x", "y"))
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.index, clone.first, clone.second, clone.digests) == (3, "a", None, ("x", "y"))
    assert str(clone) == str(error)
    assert "<trace ended>" in str(error)


# ------------------------------------------------------------------ trio internals


def test_trio_internals_are_what_the_seeding_relies_on() -> None:
    """This Trio has the private scheduler names chaos seeds (update the pinned range if not)."""
    check_trio_internals()


def test_a_trio_without_those_internals_is_refused() -> None:
    """A module lacking the names is a ChaosError listing every missing piece and the fix."""
    with pytest.raises(chaos.ChaosError) as info:
        check_trio_internals(types.ModuleType("fake_trio_run"))
    message = str(info.value)
    assert message.startswith(f"trio {trio.__version__} does not schedule the way chaos relies on")
    for problem in (
        "trio._core._run._r is not a random.Random",
        "trio._core._run._ALLOW_DETERMINISTIC_SCHEDULING is not a bool",
        "trio's run loop no longer contains '_ALLOW_DETERMINISTIC_SCHEDULING'",
        "trio's run loop no longer contains 'batch.sort(key=lambda t: t._counter)'",
        "trio's run loop no longer contains '_r.shuffle(batch)'",
    ):
        assert problem in message
    assert message.endswith(
        "Install a trio in the range pinned by jido-trio (pyproject.toml), or update "
        "chaos/_determinism.py."
    )


def unrolled_run() -> None:
    """A run loop that shuffles its batches without sorting them first."""


def test_a_run_loop_that_no_longer_sorts_batches_is_refused() -> None:
    """The names alone are not enough: the run loop must still sort and shuffle each batch."""
    fake = types.ModuleType("fake_trio_run")
    vars(fake).update(
        _r=random.Random(), _ALLOW_DETERMINISTIC_SCHEDULING=False, unrolled_run=unrolled_run
    )
    with pytest.raises(chaos.ChaosError) as info:
        check_trio_internals(fake)
    assert "is not a" not in str(info.value)
    assert "no longer contains 'batch.sort(key=lambda t: t._counter)'" in str(info.value)


def test_seeded_scheduler_puts_trio_back_as_it_was() -> None:
    """Outside its block, Trio's scheduling flag and random state are what they were."""
    flag = trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    state = trio_run._r.getstate()
    with seeded_scheduler(7):
        assert trio_run._ALLOW_DETERMINISTIC_SCHEDULING is True
        assert trio_run._r.getstate() == random.Random(7).getstate()
    assert trio_run._ALLOW_DETERMINISTIC_SCHEDULING is flag
    assert trio_run._r.getstate() == state


def test_importing_chaos_leaves_trio_as_it_was() -> None:
    """`import chaos` neither imports Hypothesis nor switches Trio's scheduler to
    deterministic batches (only a chaos run does, and only while it runs)."""
    code = (
        "import sys, chaos, trio._core._run as r; "
        "print('hypothesis' in sys.modules, r._ALLOW_DETERMINISTIC_SCHEDULING)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "False False\n"
