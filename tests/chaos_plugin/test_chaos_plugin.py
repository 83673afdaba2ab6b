"""chaos's pytest plugin, run in-process with ``pytester``: the seed every test
gets (``--chaos-seed``, ``CHAOS_SEED``, or its node id), Trio's scheduler
seeded from it (also inside each Hypothesis example), the ``chaos_seed``
fixture, and the ``chaos`` section of a failure report.

A test's *schedule* here is the order in which eight Trio tasks pass their
checkpoints; its digest shows whether two runs scheduled alike.
"""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

# a Trio test that prints the digest of its schedule
SCHEDULE = """
import hashlib

import trio


async def schedule_digest() -> str:
    order = []

    async def worker(i):
        for _ in range(3):
            await trio.lowlevel.checkpoint()
            order.append(i)

    async with trio.open_nursery() as nursery:
        for i in range(8):
            nursery.start_soon(worker, i)
    return hashlib.sha256(repr(order).encode()).hexdigest()[:16]
"""

SCHEDULE_TEST = (
    SCHEDULE
    + """

async def test_schedule():
    print("digest", await schedule_digest())
"""
)


@pytest.fixture
def trio_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project whose tests run in pytest-trio's trio mode, as this one's do
    (and with no CHAOS_SEED of this session's)."""
    monkeypatch.delenv("CHAOS_SEED", raising=False)
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-s", *args)


def digests(result: pytest.RunResult) -> list[str]:
    return re.findall(r"digest (\w+)", result.stdout.str())


def chaos_section(result: pytest.RunResult) -> list[str]:
    """The lines of the ``chaos`` section of the (one) failure report."""
    lines = result.stdout.lines
    [start] = [i for i, line in enumerate(lines) if re.fullmatch(r"-+ chaos -+", line)]
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("=", "_")))
    return lines[start + 1 : end]


def test_the_same_seed_gives_the_same_schedule(trio_project: pytest.Pytester) -> None:
    """Two runs of a Trio test with the same --chaos-seed schedule its tasks
    alike; another seed schedules them otherwise."""
    trio_project.makepyfile(test_schedule=SCHEDULE_TEST)
    first = digests(run(trio_project, "--chaos-seed", "7"))
    second = digests(run(trio_project, "--chaos-seed", "7"))
    other = digests(run(trio_project, "--chaos-seed", "8"))
    assert len(first) == 1
    assert first == second
    assert other != first


def test_by_default_the_seed_comes_from_the_node_id(trio_project: pytest.Pytester) -> None:
    """Without a seed, a test's seed is derived from its node id: every run is
    the same, and the failure report prints the seed and the command that
    reruns it, which schedules alike."""
    trio_project.makepyfile(test_schedule=SCHEDULE_TEST + "    assert False\n")
    first = run(trio_project)
    second = run(trio_project)
    first.assert_outcomes(failed=1)
    [line] = chaos_section(first)
    match = re.fullmatch(
        r"chaos seed: (\d+) \(rerun with: pytest test_schedule.py::test_schedule "
        r"--chaos-seed \1\)",
        line,
    )
    assert match is not None, line
    seed = int(match[1])
    assert 0 <= seed < 2**32
    assert chaos_section(second) == [line]
    rerun = run(trio_project, "--chaos-seed", str(seed))
    assert digests(first) == digests(second) == digests(rerun)
    assert len(digests(first)) == 1
    # another node id, another seed
    trio_project.makepyfile(test_other=SCHEDULE_TEST.replace("test_schedule", "test_other"))
    other = run(trio_project, "test_other.py")
    assert digests(other) != digests(first)


def test_chaos_seed_env_sets_the_seed_and_the_option_wins(
    trio_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHAOS_SEED seeds every test as --chaos-seed does; --chaos-seed wins over it."""
    trio_project.makepyfile(test_schedule=SCHEDULE_TEST)
    seven = digests(run(trio_project, "--chaos-seed", "7"))
    monkeypatch.setenv("CHAOS_SEED", "7")
    from_env = run(trio_project)
    from_env.stdout.fnmatch_lines(["chaos: seed 7 for every test"])
    assert digests(from_env) == seven
    assert digests(run(trio_project, "--chaos-seed", "8")) != seven


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--chaos-seed", "-1"], None, "*--chaos-seed: '-1' is not valid; expected an int >= 0*"),
        (["--chaos-seed", "x"], None, "*--chaos-seed: 'x' is not valid; expected an int >= 0*"),
        ([], "abc", "*CHAOS_SEED: 'abc' is not valid; expected an int >= 0*"),
    ],
)
def test_a_bad_seed_is_a_usage_error(
    trio_project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: str | None,
    message: str,
) -> None:
    """A seed that is not an int >= 0 stops the session with a usage error."""
    trio_project.makepyfile(test_schedule=SCHEDULE_TEST)
    if env is not None:
        monkeypatch.setenv("CHAOS_SEED", env)
    result = run(trio_project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_each_hypothesis_example_is_seeded(trio_project: pytest.Pytester) -> None:
    """Under @given, every example of a Trio test is scheduled from the chaos
    seed (after Hypothesis seeded Trio's random source itself): all examples
    alike, and the same in two runs; another seed, another schedule."""
    trio_project.makepyfile(
        test_given=SCHEDULE
        + """
from hypothesis import given, settings, strategies as st


@settings(max_examples=10, derandomize=True, database=None)
@given(st.integers(0, 3))
async def test_schedule(n):
    print("digest", await schedule_digest())
"""
    )
    first = digests(run(trio_project, "--chaos-seed", "7"))
    second = digests(run(trio_project, "--chaos-seed", "7"))
    other = digests(run(trio_project, "--chaos-seed", "8"))
    assert len(first) == 4  # 0 to 3
    assert len(set(first)) == 1
    assert first == second
    assert set(other) != set(first)
    assert len(set(other)) == 1


def test_parametrized_hypothesis_tests_each_get_their_own_seed(
    trio_project: pytest.Pytester,
) -> None:
    """Parametrized @given Trio tests share one function: each item still
    runs with its own node id's seed."""
    trio_project.makepyfile(
        test_given=SCHEDULE
        + """
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.parametrize("p", [1, 2])
@settings(max_examples=1, database=None)
@given(st.just(0))
async def test_schedule(p, n):
    print("digest", await schedule_digest())
"""
    )
    [one, two] = digests(run(trio_project))
    [again_one] = digests(run(trio_project, "test_given.py::test_schedule[1]"))
    [again_two] = digests(run(trio_project, "test_given.py::test_schedule[2]"))
    assert (again_one, again_two) == (one, two)
    assert one != two


def test_the_chaos_seed_fixture(trio_project: pytest.Pytester) -> None:
    """``chaos_seed`` is the test's seed (--chaos-seed, else its node id's), and a
    failing test that asked for it reports it, sync tests too."""
    trio_project.makepyfile(
        test_fixture="""
def test_seed(chaos_seed):
    print("chaos_seed =", chaos_seed)
    assert False
"""
    )
    result = run(trio_project, "--chaos-seed", "42")
    # printed by the test, then shown by pytest's traceback of the failing test
    assert set(re.findall(r"chaos_seed = (\d+)", result.stdout.str())) == {"42"}
    result = run(trio_project)
    [printed] = set(re.findall(r"chaos_seed = (\d+)", result.stdout.str()))
    assert chaos_section(result) == [
        f"chaos seed: {printed} (rerun with: pytest test_fixture.py::test_seed "
        f"--chaos-seed {printed})"
    ]
    assert printed != "42"


def test_a_chaos_run_with_the_test_seed_replays_alike(trio_project: pytest.Pytester) -> None:
    """A Trio test that runs a system with ``seed=chaos_seed`` makes the same
    run (the same trace digest) every time for one --chaos-seed."""
    trio_project.makepyfile(
        test_seeded_chaos_run="""
import chaos
from chaos_plugin import planted


async def test_run(chaos_seed, autojump_clock):
    plan = chaos.FaultPlan([chaos.Drop(target="root/ledger", probability=0.5)])
    report = await chaos.run_async(
        planted.SYSTEM, plan, seed=chaos_seed, duration=2.0, workload=planted.WORKLOAD
    )
    print("digest", report.digest)
"""
    )
    first = digests(run(trio_project, "--chaos-seed", "3"))
    second = digests(run(trio_project, "--chaos-seed", "3"))
    other = digests(run(trio_project, "--chaos-seed", "4"))
    assert len(first) == 1
    assert first == second != other


def test_a_failing_chaos_test_reports_the_minimal_plan_and_its_replay(
    trio_project: pytest.Pytester,
) -> None:
    """A @given test failing on assert_ok shows, after its traceback, the
    minimal plan, the chaos.run call that replays it and the command that
    reruns the test."""
    trio_project.makepyfile(
        test_tracker="""
from hypothesis import Phase, given, settings

import chaos
from chaos_plugin import planted


@settings(max_examples=100, derandomize=True, database=None,
          phases=[Phase.generate, Phase.shrink])
@given(plan=chaos.fault_plans(planted.TARGETS, kinds=planted.KINDS, horizon=planted.DURATION))
def test_tracker(plan):
    chaos.assert_ok(planted.run(plan))
"""
    )
    result = run(trio_project)
    result.assert_outcomes(failed=1)
    plan = "chaos.FaultPlan([chaos.Kill(target='root/tracker', at=0.501)])"
    # Hypothesis' own note, in the traceback
    assert any(line.endswith(f"    plan={plan},") for line in result.stdout.lines)
    assert chaos_section(result) == [
        "rerun with: pytest test_tracker.py::test_tracker",
        f"plan: {plan}",
        "replay: chaos.run(system, chaos.FaultPlan.from_json("
        """'{"faults": [{"at": 0.501, "kind": "kill", "target": "root/tracker"}]}'), """
        "seed=0, duration=5.0, quiet_period=2.0)",
    ]


def test_nothing_is_added_where_the_seed_played_no_part(trio_project: pytest.Pytester) -> None:
    """A passing test, and a failing sync test that used no seed, get no chaos
    section; the header says where seeds come from."""
    trio_project.makepyfile(
        test_plain="""
def test_sync_fails():
    assert 1 == 2


async def test_trio_passes():
    pass
"""
    )
    result = run(trio_project, "-rA")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ["chaos: a seed per test, from its node id (--chaos-seed N to set one)"]
    )
    assert "chaos seed" not in result.stdout.str()
    result.stdout.no_fnmatch_line("*- chaos -*")
