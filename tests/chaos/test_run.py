"""Running a system: chaos.run's options, run_async inside a Trio test, fault
points in user code, workloads as data and as functions, and the report."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from chaos_fixtures import Add, Agents, Log, add, effects, events

import chaos
import jido_trio
from chaos import Client, InvalidPlanError, RunReport, Send
from chaos._seeds import stream
from jido_trio import ActionResult, AgentDef, AgentDownError, CallTimeoutError, ChildSpec, action


def run(system: Any, plan: Any = (), workload: Any = None, **options: Any) -> RunReport:
    options.setdefault("duration", 10.0)
    options.setdefault("quiet_period", 5.0)
    return chaos.run(system, plan, workload=workload, keep_trace=None, **options)


# ------------------------------------------------------------------ run_async


async def test_run_async_runs_inside_a_trio_test_on_relative_times(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """run_async reports times from the call and moves the test's clock by the run's length."""
    await trio.sleep(100)
    system = Agents("a")
    report = await chaos.run_async(
        system,
        [chaos.Kill(target="root/a", at=2)],
        workload=[add(1), add(3)],
        duration=5,
        quiet_period=1,
    )
    assert effects(report) == [(2.0, "root/a", "killed")]
    assert report.metrics["time"] == 6.0
    assert trio.current_time() == 106.0
    assert system.state("a") == Log(n=2)
    assert report.ok


async def test_run_async_is_deterministic_given_the_test_before_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two run_async calls with one seed in one test give the same digest."""
    kill = [chaos.Kill(target="root/*", at=1, pick="one")]
    first = await chaos.run_async(Agents("a", "b"), kill, seed=4, duration=3, quiet_period=1)
    second = await chaos.run_async(Agents("a", "b"), kill, seed=4, duration=3, quiet_period=1)
    assert first.digest == second.digest
    assert first.faults == second.faults


async def test_run_async_refuses_the_real_clock() -> None:
    """Without a virtual clock a run would take real seconds: refused, naming the fix."""
    with pytest.raises(
        chaos.ChaosError,
        match=r"^chaos\.run_async\(\) needs a virtual clock that jumps when idle: use "
        r"pytest-trio's autojump_clock fixture",
    ):
        await chaos.run_async(Agents("a"), [])


def test_run_async_refuses_a_mock_clock_that_does_not_jump() -> None:
    """A MockClock without autojump_threshold=0 would wait forever: refused too."""

    async def main() -> None:
        await chaos.run_async(Agents("a"), [])

    with pytest.raises(chaos.ChaosError, match=r"needs a virtual clock that jumps when idle"):
        trio.run(main, clock=trio.testing.MockClock())


def test_a_system_that_cannot_start_is_a_chaos_error() -> None:
    """If the root's children fail to start there is no run: a ChaosError (not a group) says why."""

    async def broken(*, task_status: trio.TaskStatus[None]) -> None:
        raise KeyError("no config")

    with pytest.raises(
        chaos.ChaosError, match=r"^the system did not start: KeyError: 'no config'$"
    ):
        chaos.run(lambda: [ChildSpec("broken", broken)])


# ------------------------------------------------------------------ options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": -1}, r"^seed=-1 is not valid; expected an int >= 0$"),
        ({"seed": True}, r"^seed=True is not valid; expected an int >= 0$"),
        ({"duration": 0}, r"^duration=0 is not valid; expected a finite number of seconds > 0$"),
        (
            {"quiet_period": -1},
            r"^quiet_period=-1 is not valid; expected a finite number of seconds >= 0$",
        ),
        ({"stop_timeout": float("inf")}, r"^stop_timeout=inf is not valid"),
        ({"keep_trace": -1}, r"^keep_trace=-1: expected an int >= 0 or None \(all\)$"),
        ({"swarm": "yes"}, r"^swarm='yes': expected True or False$"),
        ({"fault_points": 1}, r"^fault_points=1: expected True or False$"),
        (
            {"workload": "a"},
            r"^workload='a' is not valid; expected a list of chaos\.Send or an async function",
        ),
        (
            {"workload": [add(1), "b"]},
            r"^workload=\[.*\] is not valid; expected a list of chaos\.Send",
        ),
    ],
)
def test_bad_run_options_are_refused_before_anything_runs(
    options: dict[str, Any], message: str
) -> None:
    """Every option is checked first, with its value and what is expected."""
    with pytest.raises(InvalidPlanError, match=message):
        chaos.run(Agents("a"), [], **options)


def test_a_system_must_be_a_system_or_a_function() -> None:
    """The system is a chaos.System or a function returning child specs."""
    with pytest.raises(
        InvalidPlanError, match=r"^system=5 is not valid; expected a chaos\.System or a function"
    ):
        chaos.run(5)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidPlanError, match=r"^System\.children=\[\] is not valid; expected a function"
    ):
        chaos.System([])  # type: ignore[arg-type]


def test_a_system_names_its_root_and_passes_its_options() -> None:
    """System(name=, options=) names the root (the first segment of every path) and sets it up."""
    system = chaos.System(Agents("a"), name="app", options={"max_restarts": 0})
    report = run(system, [chaos.Kill(target="app/a", at=1)])
    assert effects(report) == [(1.0, "app/a", "killed")]
    assert report.metrics["escalations"] == 1


def test_keep_trace_keeps_the_last_lines_and_the_digest_covers_all() -> None:
    """keep_trace=N keeps the last N lines; the digest and the count cover the whole trace."""
    whole = chaos.run(Agents("a"), [], workload=[add(1)], keep_trace=None)
    tail = chaos.run(Agents("a"), [], workload=[add(1)], keep_trace=3)
    assert tail.trace == whole.trace[-3:]
    assert (tail.digest, tail.events) == (whole.digest, len(whole.trace))


# ------------------------------------------------------------------ fault points


def test_a_fault_point_is_false_outside_a_run() -> None:
    """Outside a run fault_point costs one lookup and never fires."""
    assert chaos.fault_point("anything") is False
    assert chaos.fault_point("anything", probability=1.0) is False


def point_workload(fired: list[bool], *, probability: float = 0.5) -> Any:
    async def workload(client: Client) -> None:
        for _ in range(15):
            fired.append(chaos.fault_point("p", probability=probability))
            await trio.sleep(1)

    return workload


def test_a_fault_point_is_enabled_per_seed_then_fires_with_its_probability() -> None:
    """A point is enabled per seed (p=1/4), then fires with its probability in the window."""
    enabled_seeds = []
    for seed in range(12):
        fired: list[bool] = []
        report = run(Agents("a"), workload=point_workload(fired), seed=seed)
        rng = stream(seed, "point:p")
        enabled = rng.random() < 0.25
        expected = [enabled and rng.random() < 0.5 for _ in range(10)] + [False] * 5
        assert fired == expected
        assert events(report, "point", "p") == [(0.0, "enabled" if enabled else "disabled")] + [
            (float(t), "fired") for t in range(10) if expected[t]
        ]
        assert report.metrics.get("points:p", 0.0) == sum(expected)
        if enabled:
            enabled_seeds.append(seed)
    assert enabled_seeds == [0, 1, 9]


def test_a_fault_point_never_fires_in_the_quiet_period() -> None:
    """Even an enabled point with probability 1 returns False once the faults have healed."""
    fired: list[bool] = []
    run(Agents("a"), workload=point_workload(fired, probability=1.0), seed=0)
    assert fired == [True] * 10 + [False] * 5


def test_fault_points_can_be_turned_off() -> None:
    """fault_points=False: no point fires, and none is recorded."""
    fired: list[bool] = []
    report = run(Agents("a"), workload=point_workload(fired, probability=1.0), fault_points=False)
    assert fired == [False] * 15
    assert events(report, "point") == []


def test_a_fault_point_with_a_bad_probability_fails_in_a_run() -> None:
    """A probability outside [0, 1] is an InvalidPlanError where the point is reached."""

    async def workload(client: Client) -> None:
        chaos.fault_point("p", probability=2)

    report = run(Agents("a"), workload=workload)
    assert report.check("no_unexpected_crash").detail == (
        "t=0 chaos/workload: the workload raised InvalidPlanError: fault_point('p', "
        "probability=2): expected a number in [0, 1] (use client.request() to get failures "
        "as values)"
    )


@action("add", params=Add)
def skippy_add(state: Log, params: Add) -> ActionResult[Log]:
    if chaos.fault_point("log.skip", probability=1.0):
        return ActionResult(state, result=state.n)
    return ActionResult(attrs.evolve(state, n=state.n + params.amount), result=state.n + 1)


SKIPPY = AgentDef("skippy", Log, [skippy_add], routes={"log.add": "add"})


@pytest.mark.parametrize(("seed", "n"), [(8, 2), (9, 7)])
def test_a_fault_point_in_an_action_changes_what_the_agent_does(seed: int, n: int) -> None:
    """A point in an action fires in the agent's task in a seed that enables it."""
    assert (stream(seed, "point:log.skip").random() < 0.25) == (seed == 8)
    refs: list[jido_trio.AgentRef] = []

    def system() -> list[ChildSpec]:
        spec = jido_trio.agent_spec("a", SKIPPY)
        refs.append(jido_trio.spec_ref(spec))
        return [spec]

    report = run(
        system,
        workload=[Send(to="a", signal="log.add", data={"amount": 1}, at=1, every=2)],
        seed=seed,
    )
    assert refs[0].state == Log(n=n)
    assert report.metrics.get("points:log.skip", 0) == 7 - n


# ------------------------------------------------------------------ workloads as data


def signal_times(report: RunReport, path: str) -> list[float]:
    """When the agent at ``path`` handled each message (its ``cmd`` lines)."""
    return [time for time, _ in events(report, "cmd", path)]


def test_sends_happen_at_their_exact_times() -> None:
    """Sends happen at at, then every `every` until count or until (default: the run's end)."""
    report = run(
        Agents("a", "b", "c", "d"),
        workload=[
            Send(to="a", signal="log.add", data={"amount": 1}, at=1.5),
            Send(to="b", signal="log.add", data={"amount": 1}, at=1, every=2, count=3),
            Send(to="c", signal="log.add", data={"amount": 1}, at=2, every=3, until=9),
            Send(to="d", signal="log.add", data={"amount": 1}, at=12, every=1),
        ],
    )
    assert signal_times(report, "root/a") == [1.5]
    assert signal_times(report, "root/b") == [1.0, 3.0, 5.0]
    assert signal_times(report, "root/c") == [2.0, 5.0, 8.0]
    assert signal_times(report, "root/d") == [12.0, 13.0, 14.0]
    assert report.metrics["casts"] == 10


def test_a_send_at_a_rate_is_a_poisson_process_from_its_own_stream() -> None:
    """rate=r draws exponential gaps from the send's stream ('workload:<index>')."""
    send = Send(to="b", signal="log.add", data={"amount": 1}, at=1, rate=2.0, until=6)
    report = run(Agents("a", "b"), workload=[add(1, call=False), send], seed=11)
    rng = stream(11, "workload:1")
    expected, t = [], 1.0
    while t < 6:
        expected.append(round(t, 6))
        t += rng.expovariate(2.0)
    assert signal_times(report, "root/b") == expected
    assert len(expected) > 5


def test_a_send_with_call_waits_for_the_reply_without_delaying_the_next() -> None:
    """call=True sends wait for their replies in their own tasks, never delaying the next."""
    report = run(
        Agents("a"),
        [chaos.Delay(target="root/a", seconds=3, nth=1)],
        [Send(to="a", signal="log.add", data={"amount": 1}, call=True, at=1, every=1, count=2)],
    )
    assert events(report, "call", "a") == [(1.0, "signal log.add"), (2.0, "signal log.add")]
    assert events(report, "reply", "a") == [(4.0, "ok"), (4.0, "ok")]
    assert (report.metrics["latency.max"], report.metrics["latency.p50"]) == (3.0, 3.0)


def test_a_cast_to_an_agent_gone_for_good_is_recorded() -> None:
    """A Send to a name no agent holds any more is traced, not raised."""
    report = run(
        Agents("a", restart="temporary"),
        [chaos.Kill(target="root/a", at=1)],
        [add(2, call=False)],
    )
    assert events(report, "cast", "a") == [(2.0, "log.add: no_agent")]
    assert report.check("no_unexpected_crash").verdict == "pass"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"every": 1, "rate": 1}, r"^Send: give every= or rate=, not both$"),
        ({"every": 0}, r"^Send\.every=0 is not valid; expected seconds > 0$"),
        ({"rate": 0}, r"^Send\.rate=0 is not valid; expected sends per second > 0$"),
        ({"at": 5, "until": 4}, r"^Send: until=4\.0 is before at=5\.0$"),
        ({"to": ""}, r"^Send\.to='': expected an agent's registry name or tree path$"),
        ({"signal": ""}, r"^Send\.signal='': expected a signal type such as 'demand\.boost'$"),
        ({"count": 0}, r"^Send\.count=0 is not valid; expected an int >= 1$"),
        ({"timeout": 0}, r"^Send\.timeout=0\.0 is not valid; expected seconds > 0$"),
    ],
)
def test_a_bad_send_is_refused_when_built(fields: dict[str, Any], message: str) -> None:
    """Send validates its fields when built."""
    base: dict[str, Any] = {"to": "a", "signal": "log.add"}
    with pytest.raises(InvalidPlanError, match=message):
        Send(**{**base, **fields})


# ------------------------------------------------------------------ workload functions


def test_client_request_returns_failures_as_values() -> None:
    """client.request() returns crashes, timeouts and missing agents as Reply values."""
    got: list[Any] = []

    async def workload(client: Client) -> None:
        signal = client.signal
        got.append(await client.request("a", signal("log.add", {"amount": 2})))
        await trio.sleep(1)
        got.append(await client.request("a", signal("log.add", {"amount": 1})))
        got.append(await client.request("b", signal("log.add", {"amount": 1}), timeout=0.5))
        got.append(await client.request("nobody", signal("log.add", {"amount": 1})))

    report = run(
        Agents("a", "b"),
        [chaos.Crash(target="root/a", nth=2), chaos.Hang(target="root/b")],
        workload,
    )
    assert got[0].value == 2
    assert isinstance(got[1].error, AgentDownError)
    assert isinstance(got[2].error, CallTimeoutError)
    assert isinstance(got[3].error, chaos.ChaosError)
    assert [reply.ok for reply in got] == [True, False, False, False]
    assert events(report, "reply") == [
        (0.0, "ok"),
        (1.0, "down"),
        (1.5, "timeout"),
        (1.5, "no_agent"),
    ]
    assert report.check("no_unexpected_crash").verdict == "pass"


def test_an_exception_escaping_a_workload_fails_no_unexpected_crash() -> None:
    """An exception escaping the workload fails no_unexpected_crash, naming it and the fix."""

    async def workload(client: Client) -> None:
        await trio.sleep(3)
        await client.call("nobody", client.signal("log.add", {"amount": 1}))

    report = run(Agents("a"), workload=workload)
    assert report.check("no_unexpected_crash") == chaos.CheckResult(
        "no_unexpected_crash",
        "always",
        "fail",
        "t=3 chaos/workload: the workload raised ChaosError: no agent named 'nobody' (neither a "
        "registered name nor a tree path) (use client.request() to get failures as values)",
        3.0,
    )


def test_a_workload_is_cancelled_at_the_end_of_the_quiet_period() -> None:
    """A workload that never returns runs through the fault window and the quiet period only."""
    ticks: list[float] = []

    async def workload(client: Client) -> None:
        await trio.sleep(0.5)
        while True:
            ticks.append(client.now)
            await trio.sleep(1)

    report = run(Agents("a"), workload=workload, duration=3, quiet_period=2)
    assert ticks == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert report.ok


def test_the_client_draws_from_the_workload_stream() -> None:
    """client.random is the seed's 'workload' stream; client.signal ids count up per run."""
    drawn: list[Any] = []

    async def workload(client: Client) -> None:
        drawn.append(client.random.random())
        drawn.append(client.signal("x.y").id)
        drawn.append(client.signal("x.y", {"k": 1}, subject="s"))

    run(Agents("a"), workload=workload, seed=9)
    assert drawn[0] == stream(9, "workload").random()
    assert drawn[1] == "w1"
    assert drawn[2] == jido_trio.Signal(
        "x.y", {"k": 1}, source="chaos/workload", subject="s", id="w2"
    )


# ------------------------------------------------------------------ the report


def failing_report() -> RunReport:
    return chaos.run(
        Agents("a"),
        [chaos.Kill(target="root/a", at=2), chaos.Kill(target="root/zz", at=3)],
        duration=5,
        quiet_period=1,
        workload=[add(1), add(5.5)],
        checks=[chaos.Bound("restarts", max=0)],
    )


def test_explain_tells_the_story_of_a_run_on_one_screen() -> None:
    """explain() shows the verdict, failures, plan, effects, metrics, last events and digest."""
    report = failing_report()
    assert report.explain(events=3) == "\n".join(
        [
            "chaos run seed=0: FAILED (1 check(s)); 2 fault(s), 5s of faults + 1s quiet, 18 events",
            "  MISS sometimes faults_hit: never hit a live target: #1 kill root/zz",
            "  FAIL bound restarts <= 0: restarts = 1",
            "  ok: no_unexpected_crash, restart_intensity, fifo_per_link, call_deadlines, "
            "all_running, mailboxes_drained, requests_answered, messages_accounted, "
            "names_released, recovered",
            "  plan:",
            "    #0 kill target=root/a at=2.0 -> 1 hit(s)",
            "    #1 kill target=root/zz at=3.0 -> 0 hit(s)",
            "  fault effects:",
            "    2 #0 kill root/a: killed",
            "    3 #1 kill root/zz: missed: no node matches",
            "  metrics: restarts=1 escalations=0 recovery_time.max=0 latency.p99=0 "
            "mailbox.max_depth=1 dead_letters=0",
            "  last 3 events:",
            "    6.000000 phase - stop",
            "    6.000000 child.exited root/a reason=shutdown restart=False",
            "    6.000000 supervisor.stopped root reason=shutdown",
            f"  digest: {report.digest}",
        ]
    )


def test_explain_marks_unknown_checks_and_passing_runs() -> None:
    """A passing run says so; checks that could not be judged carry a '?'."""
    report = chaos.run(Agents("a"), [], duration=1, quiet_period=0, keep_trace=0)
    text = report.explain()
    assert text.startswith("chaos run seed=0: passed; 0 fault(s), 1s of faults + 0s quiet, ")
    assert "requests_answered?, messages_accounted, names_released, faults_hit?, recovered?" in text
    assert "plan:" not in text
    assert "last" not in text


def test_the_report_is_json_data() -> None:
    """to_dict() survives json.dumps/loads unchanged and holds the whole story."""
    report = failing_report()
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["ok"] is False
    assert data["coverage_ok"] is False
    assert data["plan"] == report.plan.to_dict()
    assert data["faults"][0] == {
        "time": 2.0,
        "fault": 0,
        "kind": "kill",
        "path": "root/a",
        "effect": "killed",
        "hit": True,
    }
    assert {
        "name": "restarts <= 0",
        "kind": "bound",
        "verdict": "fail",
        "detail": "restarts = 1",
        "time": None,
    } in data["checks"]
    assert data["digest"] == report.digest
    assert data["swarm"] is None


def test_report_check_names_the_checks_it_has() -> None:
    """Asking for a check the run did not judge is a KeyError listing the ones it did."""
    report = chaos.run(Agents("a"), [], duration=1, quiet_period=0, disable=["recovered"])
    with pytest.raises(KeyError, match=r"no check 'recovered'; checks: no_unexpected_crash, "):
        report.check("recovered")


def test_a_fault_outside_the_fault_window_is_refused() -> None:
    """A fault starting at or after the run's duration would never act: refused up front."""
    with pytest.raises(
        InvalidPlanError,
        match=r"^fault #1 \(kill\) starts at 30s, after the fault window \[0, 30s\)",
    ):
        chaos.run(lambda: [], [chaos.Kill(target="root/a"), chaos.Kill(target="root/a", at=30.0)])


@pytest.mark.parametrize("option", ["trace", "keep_trace"])
def test_check_determinism_compares_whole_traces(option: str) -> None:
    """check_determinism refuses trace= and keep_trace=, which would blind it."""
    with pytest.raises(InvalidPlanError, match=rf"^check_determinism\(\) takes no {option}="):
        chaos.check_determinism(lambda: [], None, **{option: False})
