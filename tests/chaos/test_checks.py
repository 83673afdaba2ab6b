"""Checks: every built-in check passing and failing (or, for those only a broken
runtime could fail, holding under the faults that stress them), user checks of
the four kinds, ``disable=``, and the validation of check arguments."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from chaos_fixtures import LOG, Agents, Log, add, relay

import chaos
import jido_trio
from chaos import (
    BUILTIN_CHECKS,
    Bound,
    CheckResult,
    Client,
    Eventually,
    InvalidPlanError,
    Invariant,
    RunReport,
    Sometimes,
    SystemView,
)
from jido_trio import AgentRef, ChildSpec, Interceptor, Signal, agent_spec, supervisor_spec


def run(system: Any, plan: Any = (), workload: Any = None, **options: Any) -> RunReport:
    options.setdefault("duration", 10.0)
    options.setdefault("quiet_period", 5.0)
    return chaos.run(system, plan, workload=workload, **options)


def verdicts(report: RunReport) -> dict[str, str]:
    return {c.name: c.verdict for c in report.checks}


def test_a_clean_run_passes_every_built_in_check_it_can_judge() -> None:
    """With no fault and a quiet-period call, every built-in check passes but the coverage ones."""
    report = run(Agents("a", "b"), workload=[relay(1, "a", "b", "x"), add(12)])
    assert verdicts(report) == {
        "no_unexpected_crash": "pass",
        "restart_intensity": "pass",
        "fifo_per_link": "pass",
        "call_deadlines": "pass",
        "all_running": "pass",
        "mailboxes_drained": "pass",
        "requests_answered": "pass",
        "messages_accounted": "pass",
        "names_released": "pass",
        "faults_hit": "unknown",
        "recovered": "unknown",
    }
    assert list(verdicts(report)) == list(BUILTIN_CHECKS)
    assert report.ok
    assert report.coverage_ok  # unknown is not a failure
    assert report.failures == ()


# ------------------------------------------------------------------ always


async def crash_with_key_error() -> None:
    await trio.sleep(2)
    raise KeyError("boom")


def test_no_unexpected_crash_fails_when_a_child_raises_a_non_jido_error() -> None:
    """A child dying of KeyError is a bug in the system: the check names it, its path and time."""
    report = run(
        lambda: [
            ChildSpec("flaky", crash_with_key_error, restart="temporary"),
            agent_spec("a", LOG),
        ]
    )
    result = report.check("no_unexpected_crash")
    assert result == CheckResult(
        "no_unexpected_crash",
        "always",
        "fail",
        "t=2 root/flaky: crashed with KeyError: 'boom'",
        2.0,
    )
    assert report.failures == (result,)
    assert not report.ok


def crashing(times: int) -> ChildSpec:
    """A child that dies of KeyError 2 s into each of its first ``times`` incarnations."""
    crashes = iter(range(times))

    async def start() -> None:
        await trio.sleep(2)
        if next(crashes, None) is not None:
            raise KeyError("boom")
        await trio.sleep_forever()

    return ChildSpec("flaky", start)


def test_no_unexpected_crash_counts_every_violation() -> None:
    """Later violations of an always check are counted after the first one's detail."""
    report = run(lambda: [crashing(3)])
    assert report.check("no_unexpected_crash").detail == (
        "t=2 root/flaky: crashed with KeyError: 'boom' (and 2 more violation(s))"
    )


def test_restart_intensity_holds_under_a_storm_on_a_one_for_all_group() -> None:
    """Siblings stopped by a one_for_all restart are not restarts of their own: the check passes."""
    system = chaos.System(Agents("a", "b", "c"), options={"strategy": "one_for_all"})
    report = run(system, [chaos.RestartStorm(target="root/a", at=1, count=3, interval=0.5)])
    assert report.check("restart_intensity").verdict == "pass"
    assert (report.metrics["restarts"], report.metrics["escalations"]) == (9, 0)
    assert report.ok


def nested() -> list[ChildSpec]:
    group = [agent_spec("a", LOG), agent_spec("b", LOG)]
    return [supervisor_spec("group", group, max_restarts=1)]


def test_restart_intensity_follows_each_supervisor_and_sees_the_escalation() -> None:
    """Each supervisor is judged by its own limits; a nested escalation is seen and passes."""
    report = run(nested, [chaos.RestartStorm(target="root/group/a", at=1, count=2, interval=0.5)])
    assert report.check("restart_intensity").verdict == "pass"
    assert report.metrics["escalations"] == 1
    assert report.metrics["restarts:root/group"] == 1
    assert report.check("all_running").verdict == "pass"
    assert report.check("recovered").verdict == "pass"


class Swap(Interceptor):
    """A broken transport: holds the first delivery back 2 s, so the next one overtakes it."""

    def __init__(self) -> None:
        self.held = False

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: Any
    ) -> None:
        delay = 0.0 if self.held else 2.0
        self.held = True
        await proceed(signal, delay=delay)


async def test_fifo_per_link_fails_when_the_transport_reorders_without_the_engine(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A reordering the engine did not inject is a FIFO violation, named with the link."""
    system = Agents("a", "b")
    with jido_trio.intercept(Swap()):
        report = await chaos.run_async(
            system,
            [],
            workload=[relay(1, "a", "b", "x"), relay(2, "a", "b", "y")],
            duration=5,
            quiet_period=1,
        )
    assert system.state("b").seen == ("y", "x")
    assert report.check("fifo_per_link") == CheckResult(
        "fifo_per_link",
        "always",
        "fail",
        "t=3 root/b: log.note #0 from root/a arrived after #1 (no reordering was injected on "
        "that link)",
        3.0,
    )


def test_fifo_per_link_holds_for_notes_on_an_untouched_link() -> None:
    """Ten notes a -> b arrive in order; the check passes."""
    system = Agents("a", "b")
    report = run(system, workload=[relay(1 + i / 4, "a", "b", str(i)) for i in range(10)])
    assert system.state("b").seen == tuple(str(i) for i in range(10))
    assert report.check("fifo_per_link").verdict == "pass"


def test_call_deadlines_holds_when_calls_time_out() -> None:
    """A call that times out returns at its deadline, not later: the check passes."""
    report = run(
        Agents("a"), [chaos.Hang(target="root/a")], [add(1, timeout=2.5), add(2, timeout=1)]
    )
    assert (report.metrics["calls.timeout"], report.check("call_deadlines").verdict) == (2, "pass")


# ------------------------------------------------------------------ eventually


async def terminate_a(client: Client) -> None:
    await trio.sleep(2)
    (root,) = [info.value for info in jido_trio.tree() if info.path == "root"]
    await root.terminate_child("a")


def test_all_running_fails_when_a_permanent_child_stays_stopped() -> None:
    """A permanent child terminated for good is a liveness failure."""
    report = run(Agents("a", "b"), workload=terminate_a)
    assert report.check("all_running") == CheckResult(
        "all_running", "eventually", "fail", "root/a is stopped"
    )


def test_all_running_accepts_a_temporary_child_gone_for_good() -> None:
    """A temporary child that was killed is removed, not missing: the check passes."""
    report = run(Agents("a", "b", restart="temporary"), [chaos.Kill(target="root/a", at=1)])
    assert report.check("all_running").verdict == "pass"
    assert report.check("recovered").detail == "after fault #0 the target never started again"


class Stuck(Interceptor):
    """A handler that never returns for 'log.note' (a bug chaos did not inject, so no heal)."""

    async def on_signal(self, agent: AgentRef, message: Any, proceed: Any) -> None:
        if isinstance(message, Signal) and message.type == "log.note":
            await trio.sleep_forever()
        await proceed(message)


async def test_mailboxes_drained_fails_when_an_agent_is_stuck_after_the_heal(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An agent stuck on a message with more queued behind it is reported at the end."""
    with jido_trio.intercept(Stuck()):
        report = await chaos.run_async(
            Agents("a"),
            [],
            workload=[
                chaos.Send(to="a", signal="log.note", data={"tag": "x"}, at=1),
                add(2, call=False),
            ],
            duration=5,
            quiet_period=5,
        )
    assert report.check("mailboxes_drained") == CheckResult(
        "mailboxes_drained", "eventually", "fail", "root/a has 1 queued, 1 in flight"
    )
    assert report.check("messages_accounted").verdict == "pass"  # settled by the shutdown


def test_requests_answered_fails_when_the_system_is_gone_after_the_heal() -> None:
    """After an escalation no one answers the quiet-period calls: each is named with its outcome."""
    report = run(
        Agents("a"),
        [chaos.RestartStorm(target="root/a", at=1, count=4, interval=0.25)],
        [chaos.Send(to="a", signal="log.add", data={"amount": 1}, call=True, at=11, every=0.5)],
    )
    assert report.check("requests_answered") == CheckResult(
        "requests_answered",
        "eventually",
        "fail",
        "t=11 call to a: no_agent; t=11.5 call to a: no_agent; t=12 call to a: no_agent; "
        "t=12.5 call to a: no_agent; t=13 call to a: no_agent; ... 3 more",
    )


def test_requests_answered_counts_an_error_reply_as_an_answer() -> None:
    """A call answered with an error (bad params) was answered: the check passes."""
    report = run(
        Agents("a"),
        workload=[chaos.Send(to="a", signal="log.add", data={"amount": "x"}, call=True, at=12)],
    )
    assert report.metrics["calls.error"] == 1
    assert report.check("requests_answered").verdict == "pass"


def test_requests_answered_is_unknown_without_a_call_after_the_heal() -> None:
    """Calls made only during the faults say nothing about recovery: the verdict is unknown."""
    report = run(Agents("a"), workload=[add(1)])
    assert report.check("requests_answered") == CheckResult(
        "requests_answered", "eventually", "unknown", "no call was made after the heal"
    )


def test_messages_accounted_holds_under_drops_duplicates_and_crashes() -> None:
    """sent == processed + dead_lettered for every agent, whatever the faults did."""
    report = run(
        Agents("a", "b"),
        [
            chaos.Drop(target="root/a", nth=1),
            chaos.Duplicate(target="root/a", nth=2),
            chaos.Crash(target="root/a", nth=3),
            chaos.Drop(target="root/b", source="root/a", nth=1),
            chaos.Duplicate(target="root/b", source="root/a", nth=2),
        ],
        [chaos.Send(to="a", signal="log.relay", data={"to": "b", "tag": "t"}, at=1, every=1)],
    )
    assert report.metrics["faults.hits"] == 5
    assert report.check("messages_accounted").verdict == "pass"
    assert report.check("names_released").verdict == "pass"


# ------------------------------------------------------------------ sometimes


def test_faults_hit_passes_fails_or_is_unknown() -> None:
    """faults_hit fails naming each fault that never hit a live target; no plan is unknown."""
    hit = run(Agents("a"), [chaos.Kill(target="root/a", at=1)])
    missed = run(
        Agents("a"), [chaos.Kill(target="root/a", at=1), chaos.Kill(target="root/zz", at=2)]
    )
    none = run(Agents("a"))
    assert hit.check("faults_hit").verdict == "pass"
    assert missed.check("faults_hit") == CheckResult(
        "faults_hit", "sometimes", "fail", "never hit a live target: #1 kill root/zz"
    )
    assert missed.ok  # coverage is not correctness
    assert not missed.coverage_ok
    assert none.check("faults_hit") == CheckResult(
        "faults_hit", "sometimes", "unknown", "the plan has no fault"
    )


def test_recovered_records_the_recovery_time() -> None:
    """A killed target that restarts passes 'recovered'; a backoff shows in recovery_time."""
    system = chaos.System(
        Agents("a"), options={"backoff": jido_trio.Backoff(initial=1.5, jitter=0)}
    )
    report = run(system, [chaos.Kill(target="root/a", at=1)])
    assert report.check("recovered").verdict == "pass"
    assert (report.metrics["recovery_time.max"], report.metrics["recoveries"]) == (1.5, 1)


def test_recovered_is_unknown_when_no_fault_took_a_target_down() -> None:
    """A plan of delays takes nothing down: nothing to recover from."""
    report = run(Agents("a"), [chaos.Delay(target="root/a", seconds=1)], [add(1)])
    assert report.check("recovered") == CheckResult(
        "recovered", "sometimes", "unknown", "no fault took a target down"
    )


# ------------------------------------------------------------------ user checks


def test_an_invariant_is_checked_on_every_committed_state() -> None:
    """An invariant that holds for every commit passes; one that fails reports its message."""
    seen: list[tuple[str, Log]] = []

    def record(path: str, state: Log) -> bool:
        seen.append((path, state))
        return True

    small = Invariant("small", lambda path, state: state.n < 3 or f"n={state.n} is too big")
    report = run(
        Agents("a", "b"),
        workload=[add(1), add(2), add(3), add(4, to="b")],
        checks=[Invariant("record", record, target="root/a"), small],
    )
    assert seen == [("root/a", Log(n=1)), ("root/a", Log(n=2)), ("root/a", Log(n=3))]
    assert report.check("record").verdict == "pass"
    assert report.check("small") == CheckResult(
        "small", "always", "fail", "t=3 root/a: n=3 is too big", 3.0
    )
    assert not report.ok


def test_an_invariant_returning_false_or_raising_fails_with_the_state() -> None:
    """False reports the offending state; a predicate that raises is a failure naming the error."""
    report = run(
        Agents("a"),
        workload=[add(1)],
        checks=[
            Invariant("false", lambda path, state: False),
            Invariant("raises", lambda path, state: 1 / 0 > 0),
        ],
    )
    assert report.check("false").detail == "t=1 root/a: state Log(n=1, seen=())"
    assert report.check("raises").detail == (
        "t=1 root/a: the predicate raised ZeroDivisionError: division by zero"
    )


def test_an_eventually_predicate_sees_the_settled_system() -> None:
    """A sync Eventually gets a SystemView after the quiet period: time, phase, tree, state."""
    views: list[dict[str, Any]] = []

    def look(view: SystemView) -> bool | str:
        views.append(
            {
                "time": view.time,
                "phase": view.phase,
                "paths": [info.path for info in view.tree()],
                "agents": sorted(view.agents()),
                "state": view.state("a"),
                "by path": view.state("root/a"),
                "restarts": view.metrics["restarts"],
                "repr": repr(view),
            }
        )
        return view.state("a").n == 2 or "a did not count to 2"

    report = run(
        Agents("a", "b"),
        [chaos.Kill(target="root/b", at=3)],
        [add(1), add(2, call=False)],
        checks=[Eventually("counted", look), Eventually("never", lambda view: "not yet")],
    )
    assert views == [
        {
            "time": 15.0,
            "phase": "settle",
            "paths": ["root", "root/a", "root/b"],
            "agents": ["root/a", "root/b"],
            "state": Log(n=2),
            "by path": Log(n=2),
            "restarts": 1.0,
            "repr": "<SystemView t=15 phase=settle>",
        }
    ]
    assert report.check("counted") == CheckResult("counted", "eventually", "pass")
    assert report.check("never") == CheckResult("never", "eventually", "fail", "not yet")


def test_an_async_eventually_may_call_the_system() -> None:
    """An async predicate awaits view.call(...): a liveness probe, recorded as a call."""

    async def probe(view: SystemView) -> bool | str:
        n = await view.call("a", jido_trio.Signal("log.add", {"amount": 5}))
        return n == 6 or f"n={n}"

    async def wrong(view: SystemView) -> bool:
        await view.call("a", jido_trio.Signal("log.add", {"amount": 1}))
        return False

    report = run(
        Agents("a"),
        workload=[add(1)],
        checks=[Eventually("probe", probe), Eventually("wrong", wrong)],
    )
    assert report.check("probe").verdict == "pass"
    assert report.check("wrong") == CheckResult("wrong", "eventually", "fail", "returned False")
    assert report.metrics["calls"] == 3


def test_an_eventually_that_raises_or_never_finishes_fails() -> None:
    """A predicate that raises fails with the error; an async one that hangs is cut off."""

    async def hangs(view: SystemView) -> bool:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def no_agent(view: SystemView) -> bool:
        await view.call("zz", jido_trio.Signal("log.add", {"amount": 1}))
        return True

    report = run(
        Agents("a"),
        checks=[Eventually("hangs", hangs), Eventually("no agent", no_agent)],
        quiet_period=2,
    )
    assert report.check("hangs") == CheckResult(
        "hangs", "eventually", "fail", "the predicate did not finish"
    )
    assert report.check("no agent") == CheckResult(
        "no agent",
        "eventually",
        "fail",
        "the predicate raised ChaosError: no agent named 'zz' (neither a registered name nor a "
        "tree path)",
    )


def test_a_sometimes_check_passes_at_the_first_time_it_holds() -> None:
    """Sometimes passes with the time its predicate first held on a committed state, else fails."""
    report = run(
        Agents("a"),
        workload=[add(1), add(2), add(3)],
        checks=[
            Sometimes("reached 2", lambda view: view.state("a").n >= 2),
            Sometimes("reached 9", lambda view: view.state("a").n >= 9),
        ],
    )
    assert report.check("reached 2") == CheckResult(
        "reached 2", "sometimes", "pass", "first at t=2", 2.0
    )
    assert report.check("reached 9") == CheckResult(
        "reached 9", "sometimes", "fail", "never held during the run"
    )
    assert report.ok
    assert not report.coverage_ok


def test_a_bound_limits_a_metric_at_the_end_of_the_run() -> None:
    """Bound passes inside [min, max] and fails outside; a metric never produced counts as 0."""
    report = run(
        Agents("a"),
        [chaos.Kill(target="root/a", at=1), chaos.Kill(target="root/a", at=2)],
        checks=[
            Bound("restarts", max=1),
            Bound("restarts:root/a", min=2, max=2),
            Bound("restarts:root/zz", min=1, name="zz restarted"),
            Bound("escalations", max=0),
        ],
    )
    assert [c for c in report.checks if c.kind == "bound"] == [
        CheckResult("restarts <= 1", "bound", "fail", "restarts = 2"),
        CheckResult("restarts:root/a >= 2 and <= 2", "bound", "pass", "restarts:root/a = 2"),
        CheckResult("zz restarted", "bound", "fail", "restarts:root/zz = 0"),
        CheckResult("escalations <= 0", "bound", "pass", "escalations = 0"),
    ]
    assert [c.name for c in report.failures] == ["restarts <= 1", "zz restarted"]


def test_the_checks_are_reported_in_kind_order() -> None:
    """Results come as always, eventually, sometimes, bound; user eventually checks run live."""
    report = run(
        Agents("a"),
        checks=[
            Bound("restarts", max=0),
            Sometimes("s", lambda view: True),
            Eventually("e", lambda view: True),
            Invariant("i", lambda path, state: True),
        ],
    )
    assert [(c.kind, c.name) for c in report.checks] == [
        ("always", "no_unexpected_crash"),
        ("always", "restart_intensity"),
        ("always", "fifo_per_link"),
        ("always", "call_deadlines"),
        ("always", "i"),
        ("eventually", "all_running"),
        ("eventually", "mailboxes_drained"),
        ("eventually", "requests_answered"),
        ("eventually", "e"),
        ("eventually", "messages_accounted"),
        ("eventually", "names_released"),
        ("sometimes", "faults_hit"),
        ("sometimes", "recovered"),
        ("sometimes", "s"),
        ("bound", "restarts <= 0"),
    ]


# ------------------------------------------------------------------ disable


def test_disabled_checks_are_not_judged() -> None:
    """disable= drops built-in checks from the report, violations included."""
    report = run(
        lambda: [ChildSpec("flaky", crash_with_key_error, restart="temporary")],
        disable=["no_unexpected_crash", "faults_hit", "recovered", "requests_answered"],
    )
    assert [c.name for c in report.checks] == [
        "restart_intensity",
        "fifo_per_link",
        "call_deadlines",
        "all_running",
        "mailboxes_drained",
        "messages_accounted",
        "names_released",
    ]
    assert report.ok
    assert not any(" violation " in line for line in report.trace)


@pytest.mark.parametrize(
    ("disable", "message"),
    [
        (
            ["fifo", "all_running"],
            r"^disable: unknown built-in check\(s\) \['fifo'\]; the built-in checks are "
            r"no_unexpected_crash, restart_intensity, ",
        ),
        ("fifo_per_link", r"^disable='fifo_per_link': expected a list of check names$"),
    ],
)
def test_disabling_an_unknown_check_is_refused(disable: Any, message: str) -> None:
    """Only built-in checks can be disabled, named in a list."""
    with pytest.raises(InvalidPlanError, match=message):
        run(Agents("a"), disable=disable)


# ------------------------------------------------------------------ check arguments


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Invariant("all_running", lambda p, s: True),
            r"^Invariant\.name='all_running' is the name of a built-in check; pick another$",
        ),
        (
            lambda: Invariant(" ", lambda p, s: True),
            r"^Invariant\.name=' ': expected a non-empty str$",
        ),
        (
            lambda: Eventually("e", "yes"),  # type: ignore[arg-type]
            r"^Eventually\.predicate='yes' is not callable$",
        ),
        (
            lambda: Sometimes("s", None),  # type: ignore[arg-type]
            r"^Sometimes\.predicate=None is not callable$",
        ),
        (
            lambda: Invariant("i", lambda p, s: True, target="a//b"),
            r"^Invariant\.target='a//b' is not valid: an empty segment",
        ),
        (lambda: Bound("restarts"), r"^Bound\('restarts'\) needs max=, min= or both$"),
        (
            lambda: Bound("restarts", max=float("nan")),
            r"^Bound\.max=nan: expected a number or None$",
        ),
        (lambda: Bound("restarts", min=True), r"^Bound\.min=True: expected a number or None$"),
    ],
)
def test_a_bad_check_is_refused_when_built(build: Any, message: str) -> None:
    """Checks validate their arguments when built, naming the class, field and value."""
    with pytest.raises(InvalidPlanError, match=message):
        build()


def test_checks_must_be_checks_with_unique_names() -> None:
    """A run refuses two checks of one name, and anything that is not a check."""
    twice = [Sometimes("x", lambda view: True), Eventually("x", lambda view: True)]
    with pytest.raises(InvalidPlanError, match=r"^two checks are named 'x'; names must be unique$"):
        run(Agents("a"), checks=twice)
    with pytest.raises(
        InvalidPlanError,
        match=r"^checks: 'all_running' is not a check; expected chaos\.Invariant, "
        r"chaos\.Eventually, chaos\.Sometimes or chaos\.Bound$",
    ):
        run(Agents("a"), checks=["all_running"])


def test_view_call_is_refused_once_the_run_is_over() -> None:
    """A SystemView kept past its run cannot call into a system that is gone."""
    kept: list[SystemView] = []

    def keep(view: SystemView) -> bool:
        kept.append(view)
        return True

    run(Agents("a"), checks=[Eventually("keep", keep)])
    with pytest.raises(
        chaos.ChaosError, match=r"^view\.call\(\) is only available while the run is live$"
    ):
        trio.run(kept[0].call, "a", jido_trio.Signal("log.add", {"amount": 1}))
