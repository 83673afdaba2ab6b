"""Every fault kind, through the public API: what it does to a small system, at
which virtual time, and what the report records of it."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
from chaos_fixtures import Agents, Log, add, effects, events, relay

import chaos
import jido_trio
from chaos import Client, InjectedFault, InjectedStoreError, RunReport, Send
from chaos._engine import fault_stream
from jido_trio import Backoff, InvalidParamsError, Signal


def run(system: Any, plan: Any, workload: Any = None, **options: Any) -> RunReport:
    """A short run that keeps its whole trace."""
    options.setdefault("duration", 10.0)
    options.setdefault("quiet_period", 5.0)
    return chaos.run(system, plan, workload=workload, keep_trace=None, **options)


# ------------------------------------------------------------------ kill


def test_kill_crashes_the_target_at_its_time_and_the_supervisor_restarts_it() -> None:
    """A kill at t=5 exits the agent (ChildKilled) at 5; it restarts at once with its state."""
    system = Agents("a", "b")
    report = run(system, [chaos.Kill(target="root/a", at=5)], [add(1), add(6)])
    assert effects(report) == [(5.0, "root/a", "killed")]
    assert events(report, "child.exited", "root/a") == [
        (5.0, "reason=ChildKilled restart=True"),
        (15.0, "reason=shutdown restart=False"),
    ]
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (5.0, "restarts=1")]
    assert events(report, "child.started", "root/b") == [(0.0, "restarts=0")]
    assert report.metrics["restarts:root/a"] == 1
    assert system.state("a") == Log(n=2)  # restarted from its last committed state
    assert report.ok


def test_a_kill_that_finds_its_target_restarting_is_a_miss() -> None:
    """A kill while the target waits out its restart backoff hits nothing and says so."""
    system = chaos.System(Agents("a"), options={"backoff": Backoff(initial=1.0, jitter=0)})
    report = run(system, [chaos.Kill(target="root/a", at=1), chaos.Kill(target="root/a", at=1.5)])
    assert [(r.time, r.fault, r.effect, r.hit) for r in report.faults] == [
        (1.0, 0, "killed", True),
        (1.5, 1, "missed: root/a is restarting", False),
    ]
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (2.0, "restarts=1")]
    assert (report.metrics["faults.hits"], report.metrics["faults.missed"]) == (1, 1)
    assert report.check("faults_hit").detail == "never hit a live target: #1 kill root/a"


def test_a_kill_whose_glob_matches_nothing_is_a_miss() -> None:
    """A target glob that matches no running node is recorded as a miss at the glob."""
    report = run(Agents("a"), [chaos.Kill(target="root/zz", at=1)])
    assert [(r.path, r.effect, r.hit) for r in report.faults] == [
        ("root/zz", "missed: no node matches", False)
    ]


@pytest.mark.parametrize(
    ("pick", "n"), [("all", 3), ("one", 1), ("2", 2), ("5", 3), ("50%", 2), ("34%", 2), ("10%", 1)]
)
def test_pick_chooses_how_many_running_matches_a_kill_hits(pick: str, n: int) -> None:
    """pick='all' kills every match; a count, or a percent rounded up (at least one), that many."""
    plan = chaos.FaultPlan([chaos.Kill(target="root/*", at=1, pick=pick)])
    report = run(Agents("a", "b", "c"), plan)
    running = ["root/a", "root/b", "root/c"]
    expected = running if pick == "all" else sorted(fault_stream(0, plan, 0).sample(running, n))
    assert effects(report) == [(1.0, path, "killed") for path in expected]
    assert report.metrics["restarts"] == n


def test_pick_one_chooses_from_the_seed() -> None:
    """Which match pick='one' hits is drawn from the fault's own stream: seeds differ."""
    chosen = set()
    for seed in range(8):
        plan = chaos.FaultPlan([chaos.Kill(target="root/*", at=1, pick="one")])
        report = run(Agents("a", "b", "c"), plan, seed=seed)
        (record,) = report.faults
        rng = fault_stream(seed, plan, 0)
        assert record.path == rng.sample(["root/a", "root/b", "root/c"], 1)[0]
        chosen.add(record.path)
    assert chosen == {"root/a", "root/b", "root/c"}


# ------------------------------------------------------------------ restart_storm


def test_a_restart_storm_kills_count_times_every_interval() -> None:
    """count kills, interval apart from at; the supervisor restarts the target after each."""
    report = run(Agents("a"), [chaos.RestartStorm(target="root/a", at=1, count=3, interval=0.5)])
    assert effects(report) == [
        (1.0, "root/a", "killed"),
        (1.5, "root/a", "killed"),
        (2.0, "root/a", "killed"),
    ]
    assert events(report, "child.started", "root/a")[1:] == [
        (1.0, "restarts=1"),
        (1.5, "restarts=2"),
        (2.0, "restarts=3"),
    ]
    assert (report.metrics["restarts"], report.metrics["escalations"]) == (3, 0)
    assert report.ok


def test_a_restart_storm_beyond_max_restarts_makes_the_supervisor_escalate() -> None:
    """A storm past max_restarts makes the root escalate; later kills find nothing running."""
    report = run(Agents("a"), [chaos.RestartStorm(target="root/a", at=1, count=5, interval=0.25)])
    assert [(r.time, r.effect) for r in report.faults] == [
        (1.0, "killed"),
        (1.25, "killed"),
        (1.5, "killed"),
        (1.75, "killed"),
        (2.0, "missed: no node matches"),
    ]
    assert events(report, "supervisor.escalated") == [(1.75, "child=a")]
    assert (report.metrics["restarts"], report.metrics["escalations"]) == (3, 1)
    assert report.check("restart_intensity").verdict == "pass"
    assert report.check("all_running").detail == (
        "the root supervisor is down (RestartIntensityError: supervisor 'root' exceeded its "
        "restart intensity: more than 3 restart(s) within 5s (last failure in child 'a'); "
        "restart times: 1, 1.25, 1.5, 1.75)"
    )


# ------------------------------------------------------------------ pause


def test_a_paused_agent_takes_no_message_until_the_pause_ends() -> None:
    """Messages sent during a pause wait in the mailbox and are all processed when it ends."""
    system = Agents("a")
    report = run(
        system,
        [chaos.Pause(target="root/a", at=1, duration=3)],
        [add(2), add(2.5, call=False)],
    )
    assert effects(report) == [
        (1.0, "root/a", "started"),
        (2.0, "root/a", "held signal log.add"),
        (4.0, "root/a", "ended"),
    ]
    assert events(report, "cmd", "root/a") == [(4.0, "add ok"), (4.0, "add ok")]
    assert report.metrics["latency.max"] == 2.0
    assert system.state("a") == Log(n=2)


def test_the_heal_ends_a_pause_that_outlasts_the_fault_window() -> None:
    """A pause that would end after the fault window is released at the heal."""
    report = run(
        Agents("a"), [chaos.Pause(target="root/a", at=8, duration=5)], [add(9, timeout=10)]
    )
    assert effects(report) == [
        (8.0, "root/a", "started"),
        (9.0, "root/a", "held signal log.add"),
        (10.0, "root/a", "healed"),
    ]
    assert events(report, "cmd", "root/a") == [(10.0, "add ok")]


# ------------------------------------------------------------------ partition


RELAYS = [
    relay(1, "a", "b", "1"),
    relay(1, "b", "a", "1"),
    relay(3, "a", "b", "3"),
    relay(3, "b", "a", "3"),
    relay(6, "a", "b", "6"),
    relay(6, "b", "a", "6"),
]


def test_a_partition_drops_deliveries_both_ways_until_it_ends() -> None:
    """Between at and until, notes both ways are dropped; before and after they arrive."""
    system = Agents("a", "b")
    report = run(system, [chaos.Partition(source="root/a", target="root/b", at=2, until=5)], RELAYS)
    assert effects(report) == [
        (2.0, "root/a <-> root/b", "started"),
        (3.0, "root/a -> root/b", "dropped log.note (partitioned)"),
        (3.0, "root/b -> root/a", "dropped log.note (partitioned)"),
        (5.0, "root/a <-> root/b", "ended"),
    ]
    assert system.state("a").seen == ("1", "6")
    assert system.state("b").seen == ("1", "6")
    assert report.metrics["dead_letters:dropped"] == 2


def test_a_one_way_partition_drops_one_direction_until_the_heal() -> None:
    """one_way drops only source -> target; without until it lasts to the end of the window."""
    system = Agents("a", "b")
    report = run(
        system, [chaos.Partition(source="root/a", target="root/b", at=2, one_way=True)], RELAYS
    )
    assert effects(report) == [
        (2.0, "root/a -> root/b", "started"),
        (3.0, "root/a -> root/b", "dropped log.note (partitioned)"),
        (6.0, "root/a -> root/b", "dropped log.note (partitioned)"),
        (10.0, "root/a -> root/b", "healed"),
    ]
    assert system.state("a").seen == ("1", "3", "6")
    assert system.state("b").seen == ("1",)


# ------------------------------------------------------------------ crash


def test_a_crash_at_receive_dead_letters_the_message_and_keeps_the_state() -> None:
    """point='receive': the message is dead-lettered 'crashed' unprocessed; the agent restarts."""
    system = Agents("a")
    report = run(system, [chaos.Crash(target="root/a", nth=2)], [add(1), add(2), add(3)])
    assert effects(report) == [(2.0, "root/a", "crashed at receive")]
    assert system.state("a") == Log(n=2)
    (letter,) = system.refs["a"].dead_letters
    assert (letter.reason, letter.time) == ("crashed", 2.0)
    assert isinstance(letter.error, InjectedFault)
    assert (letter.error.fault, letter.error.kind, letter.error.path) == (0, "crash", "root/a")
    assert events(report, "child.exited", "root/a")[0] == (2.0, "reason=InjectedFault restart=True")
    assert (report.metrics["calls.ok"], report.metrics["calls.down"]) == (2, 1)
    assert report.check("no_unexpected_crash").verdict == "pass"  # an injected crash is expected


def test_a_crash_after_cmd_commits_the_state_then_crashes() -> None:
    """point='after_cmd': the message is committed and answered, then the agent crashes."""
    system = Agents("a")
    report = run(
        system, [chaos.Crash(target="root/a", nth=2, point="after_cmd")], [add(1), add(2), add(3)]
    )
    assert effects(report) == [(2.0, "root/a", "crashed at after_cmd")]
    assert system.state("a") == Log(n=3)
    assert system.refs["a"].dead_letters == ()
    assert report.metrics["calls.ok"] == 3
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (2.0, "restarts=1")]


# ------------------------------------------------------------------ hang


def test_a_hung_agent_answers_nothing_until_the_heal() -> None:
    """A hung agent lets calls time out; the heal releases it and it drains its mailbox."""
    system = Agents("a")
    report = run(
        system, [chaos.Hang(target="root/a", at=2)], [add(3, timeout=2), add(4, timeout=10)]
    )
    assert effects(report) == [
        (3.0, "root/a", "hung on signal log.add"),
        (10.0, "root/a", "healed: released 1 agent(s)"),
    ]
    assert events(report, "reply", "a") == [(5.0, "timeout"), (10.0, "ok")]
    assert events(report, "cmd", "root/a") == [(10.0, "add ok"), (10.0, "add ok")]
    assert system.state("a") == Log(n=2)


def test_a_spent_hang_still_reports_the_agent_it_releases() -> None:
    """A hang with nth=1 has hit once; the heal still releases (and records) that agent."""
    report = run(Agents("a"), [chaos.Hang(target="root/a", nth=1)], [add(3, call=False)])
    assert effects(report) == [
        (3.0, "root/a", "hung on signal log.add"),
        (10.0, "root/a", "healed: released 1 agent(s)"),
    ]


def test_a_hang_that_held_nothing_records_no_heal() -> None:
    """A hang whose window saw no message releases nothing: no record; faults_hit fails."""
    report = run(Agents("a"), [chaos.Hang(target="root/a", at=2)])
    assert report.faults == ()
    assert report.check("faults_hit").detail == "never hit a live target: #0 hang root/a"


# ------------------------------------------------------------------ delay


def test_a_mailbox_delay_keeps_the_agent_busy() -> None:
    """Without source, a delay holds the agent on the message: the next one waits behind it."""
    report = run(
        Agents("a"),
        [chaos.Delay(target="root/a", at=2, seconds=3, count=1)],
        [add(3), add(4, call=False)],
    )
    assert effects(report) == [(3.0, "root/a", "delayed signal log.add 3s")]
    assert events(report, "cmd", "root/a") == [(6.0, "add ok"), (6.0, "add ok")]
    assert events(report, "reply", "a") == [(6.0, "ok")]


def test_a_link_delay_holds_the_delivery_not_the_sender() -> None:
    """A link delay makes the note arrive at t+seconds while the sender goes on."""
    system = Agents("a", "b")
    report = run(
        system,
        [chaos.Delay(target="root/b", source="root/a", seconds=3, nth=1)],
        [relay(1, "a", "b", "x"), relay(2, "a", "b", "y")],
    )
    assert effects(report) == [(1.0, "root/a -> root/b", "delayed log.note 3s")]
    assert events(report, "cmd", "root/a") == [(1.0, "relay ok"), (2.0, "relay ok")]
    assert events(report, "cmd", "root/b") == [(2.0, "note ok"), (4.0, "note ok")]
    assert system.state("b").seen == ("y", "x")
    assert report.check("fifo_per_link").verdict == "pass"  # the engine reordered that link


def test_a_delay_with_jitter_draws_the_extra_from_the_fault_stream() -> None:
    """jitter adds a uniform draw in [0, jitter] from the fault's own stream."""
    plan = chaos.FaultPlan([chaos.Delay(target="root/a", seconds=1, jitter=2, nth=1)])
    report = run(Agents("a"), plan, [add(1)], seed=7)
    seconds = 1 + fault_stream(7, plan, 0).uniform(0, 2)
    assert effects(report) == [(1.0, "root/a", f"delayed signal log.add {seconds:g}s")]
    assert events(report, "reply", "a") == [(round(1.0 + seconds, 6), "ok")]


# ------------------------------------------------------------------ drop


def test_a_mailbox_drop_dead_letters_the_message() -> None:
    """Without source, the message taken is dead-lettered 'dropped'; its caller gets an error."""
    system = Agents("a")
    report = run(system, [chaos.Drop(target="root/a", nth=1)], [add(3), add(4)])
    assert effects(report) == [(3.0, "root/a", "dropped signal log.add")]
    assert [(d.reason, d.time) for d in system.refs["a"].dead_letters] == [("dropped", 3.0)]
    stats = system.refs["a"].stats()
    assert (stats.sent, stats.processed, stats.dead_lettered) == (2, 1, 1)
    assert system.state("a") == Log(n=1)
    assert events(report, "reply", "a") == [(3.0, "down"), (4.0, "ok")]


def test_a_link_drop_loses_the_emitted_signal() -> None:
    """With source, the emitted note never reaches the target: it is a dead letter 'dropped'."""
    system = Agents("a", "b")
    report = run(
        system,
        [chaos.Drop(target="root/b", source="root/a", nth=1)],
        [relay(1, "a", "b", "x"), relay(2, "a", "b", "y")],
    )
    assert effects(report) == [(1.0, "root/a -> root/b", "dropped log.note")]
    assert system.state("b").seen == ("y",)
    assert (report.metrics["dead_letters"], report.metrics["dead_letters:dropped"]) == (1, 1)


# ------------------------------------------------------------------ duplicate


def test_a_mailbox_duplicate_processes_the_message_twice_and_counts_it_once() -> None:
    """A duplicated message runs twice, answers with the first result, and counts once."""
    system = Agents("a")
    replies: list[object] = []

    async def workload(client: Client) -> None:
        await trio.sleep(3)
        replies.append(await client.call("a", client.signal("log.add", {"amount": 1})))

    report = run(system, [chaos.Duplicate(target="root/a", nth=1)], workload)
    assert effects(report) == [(3.0, "root/a", "duplicated signal log.add")]
    assert events(report, "cmd", "root/a") == [(3.0, "add ok"), (3.0, "add ok")]
    assert replies == [1]
    assert system.state("a") == Log(n=2)
    stats = system.refs["a"].stats()
    assert (stats.sent, stats.processed, stats.dead_lettered) == (1, 1, 0)
    assert report.check("messages_accounted").verdict == "pass"


def test_a_link_duplicate_delivers_the_signal_twice() -> None:
    """With source, the target receives (and counts) the emitted note twice."""
    system = Agents("a", "b")
    report = run(
        system,
        [chaos.Duplicate(target="root/b", source="root/a", nth=1)],
        [relay(1, "a", "b", "x"), relay(2, "a", "b", "y")],
    )
    assert effects(report) == [(1.0, "root/a -> root/b", "duplicated log.note")]
    assert system.state("b").seen == ("x", "x", "y")
    stats = system.refs["b"].stats()
    assert (stats.sent, stats.processed) == (3, 3)


# ------------------------------------------------------------------ reorder


def test_reorder_holds_each_delivery_back_so_later_ones_overtake() -> None:
    """Reorder holds each note back: later ones overtake, and fifo_per_link does not blame it."""
    system = Agents("a", "b")
    sends = [relay(1 + i / 2, "a", "b", str(i)) for i in range(4)]
    plan = chaos.FaultPlan([chaos.Reorder(target="root/b", source="root/a", window=2.0)])
    report = run(system, plan, sends)
    rng = fault_stream(0, plan, 0)
    holds = [rng.uniform(0, 2.0) for _ in range(4)]
    assert effects(report) == [
        (1 + i / 2, "root/a -> root/b", f"held log.note back {hold:g}s")
        for i, hold in enumerate(holds)
    ]
    arrivals = sorted(range(4), key=lambda i: 1 + i / 2 + holds[i])
    assert arrivals != [0, 1, 2, 3]
    assert system.state("b").seen == tuple(str(i) for i in arrivals)
    assert report.check("fifo_per_link").verdict == "pass"


# ------------------------------------------------------------------ corrupt_message


def test_generic_message_corruption_breaks_the_payload() -> None:
    """A generically corrupted payload is refused as invalid params; the agent goes on."""
    system = Agents("a")
    report = run(system, [chaos.CorruptMessage(target="root/a", nth=1)], [add(3), add(4)])
    assert effects(report) == [(3.0, "root/a", "corrupted signal log.add")]
    (letter,) = system.refs["a"].dead_letters
    assert letter.reason == "invalid_params"
    assert isinstance(letter.error, InvalidParamsError)
    assert "amount: expected int @ $.data.amount" in str(letter.error)
    assert system.state("a") == Log(n=1)
    assert events(report, "reply", "a") == [(3.0, "error"), (4.0, "ok")]


def test_a_message_mutator_rewrites_the_message() -> None:
    """mutator='module:function' is called with the message and the fault's stream."""
    system = Agents("a")
    report = run(
        system,
        [chaos.CorruptMessage(target="root/a", nth=1, mutator="chaos_fixtures:double_amount")],
        [add(3, n=5), add(4, n=1)],
    )
    assert effects(report) == [(3.0, "root/a", "corrupted signal log.add")]
    assert system.state("a") == Log(n=11)


def test_a_link_mutator_rewrites_the_delivery() -> None:
    """With source, the mutator rewrites the emitted signal on its way."""
    system = Agents("a", "b")
    report = run(
        system,
        [chaos.CorruptMessage(target="root/b", source="root/a", mutator="chaos_fixtures:shout")],
        [relay(1, "a", "b", "x")],
    )
    assert effects(report) == [(1.0, "root/a -> root/b", "corrupted log.note")]
    assert system.state("b").seen == ("X!",)


def test_a_mutator_that_cannot_be_resolved_stops_the_run_before_it_starts() -> None:
    """A mutator naming a missing function is a ChaosError naming the fault and the reason."""
    with pytest.raises(
        chaos.ChaosError,
        match=r"^fault #0 mutator='chaos_fixtures:nope' cannot be resolved: module "
        r"'chaos_fixtures' has no attribute 'nope'$",
    ):
        run(Agents("a"), [chaos.CorruptMessage(target="root/a", mutator="chaos_fixtures:nope")])


# ------------------------------------------------------------------ corrupt_state


NO_NEGATIVE = chaos.Invariant("n >= 0", lambda path, state: state.n >= 0 or f"n={state.n}")


def well_typed(path: str, state: Log) -> bool | str:
    return (isinstance(state.n, int) and isinstance(state.seen, tuple)) or f"ill-typed {state!r}"


def test_generic_state_corruption_goes_past_the_validators() -> None:
    """Generic corruption puts a wrongly typed field past the validators; an Invariant sees it."""
    system = Agents("a")
    report = run(
        system,
        [chaos.CorruptState(target="root/a", nth=1)],
        [add(3), add(4)],
        checks=[chaos.Invariant("well typed", well_typed)],
        seed=5,
    )
    assert effects(report) == [(3.0, "root/a", "corrupted the state")]
    assert report.check("well typed").detail == ("t=3 root/a: ill-typed Log(n='corrupt', seen=())")
    assert report.check("well typed").time == 3.0
    assert events(report, "cmd", "root/a") == [(3.0, "add ok"), (4.0, "add ActionError")]
    assert attrs.asdict(system.state("a")) == {"n": "corrupt", "seen": ()}


def test_a_state_mutator_rewrites_the_committed_state() -> None:
    """mutator='module:function' rewrites the state after the cmd; it is committed as is."""
    system = Agents("a")
    report = run(
        system,
        [chaos.CorruptState(target="root/a", nth=1, mutator="chaos_fixtures:negate")],
        [add(3, n=2), add(4, n=1)],
        checks=[NO_NEGATIVE],
    )
    assert effects(report) == [(3.0, "root/a", "corrupted the state")]
    assert system.state("a") == Log(n=-1)
    assert report.check("n >= 0").detail == "t=3 root/a: n=-2 (and 1 more violation(s))"
    assert not report.ok


# ------------------------------------------------------------------ fail_start


def test_failed_restarts_count_toward_the_restart_intensity() -> None:
    """Failed restarts count toward the intensity: a kill and two failures still fit in 3."""
    report = run(
        Agents("a"), [chaos.Kill(target="root/a", at=1), chaos.FailStart(target="root/a", count=2)]
    )
    assert effects(report) == [
        (1.0, "root/a", "killed"),
        (1.0, "root/a", "failed the start"),
        (1.0, "root/a", "failed the start"),
    ]
    assert events(report, "child.start_failed", "root/a") == [(1.0, "reason=InjectedFault")] * 2
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (1.0, "restarts=3")]
    assert report.metrics["escalations"] == 0
    assert report.ok


def test_one_failed_restart_too_many_makes_the_supervisor_escalate() -> None:
    """A kill then three failed restarts is four restarts within max_seconds: escalation."""
    report = run(
        Agents("a"), [chaos.Kill(target="root/a", at=1), chaos.FailStart(target="root/a", count=3)]
    )
    assert [r.effect for r in report.faults] == ["killed"] + ["failed the start"] * 3
    assert report.metrics["escalations"] == 1
    assert report.check("all_running").verdict == "fail"
    assert report.check("recovered").detail == (
        "after fault #0 the target never started again; "
        "after fault #1 the target never started again"
    )


def test_the_initial_start_is_never_failed() -> None:
    """fail_start acts on restarts only: a system that never restarts starts normally."""
    report = run(Agents("a"), [chaos.FailStart(target="root/a")])
    assert report.faults == ()
    assert report.check("faults_hit").verdict == "fail"
    assert report.ok


# ------------------------------------------------------------------ store faults


def test_a_failed_checkpoint_write_crashes_the_agent_and_commits_nothing() -> None:
    """A failed save crashes the agent, dead-letters the message, and commits nothing."""
    system = Agents("a")
    report = run(
        system,
        [chaos.StoreWriteFail(target="root/a", nth=2)],
        [add(1), add(2, n=10), add(3, n=100)],
    )
    assert effects(report) == [(2.0, "root/a", "failed the save of version 2")]
    (letter,) = system.refs["a"].dead_letters
    assert letter.reason == "crashed"
    assert isinstance(letter.error, InjectedStoreError)
    assert isinstance(letter.error, jido_trio.StoreError)
    assert system.state("a") == Log(n=101)
    assert events(report, "reply", "a") == [(1.0, "ok"), (2.0, "down"), (3.0, "ok")]


def test_a_slow_store_delays_saves_and_loads() -> None:
    """store_slow delays a save (and the call waiting on it) and the load of a restart."""
    report = run(
        Agents("a"),
        [
            chaos.StoreSlow(target="root/a", seconds=2, nth=1),
            chaos.Kill(target="root/a", at=5),
            chaos.StoreSlow(target="root/a", seconds=0.5, at=5, nth=1),
        ],
        [add(1), add(2)],
    )
    assert effects(report) == [
        (1.0, "root/a", "slowed a save by 2s"),
        (5.0, "root/a", "killed"),
        (5.0, "root/a", "slowed a load by 0.5s"),
    ]
    assert events(report, "reply", "a") == [(3.0, "ok"), (3.0, "ok")]
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (5.5, "restarts=1")]


@pytest.mark.parametrize(
    ("versions", "effect", "n"),
    [
        (1, "loaded version 2 instead of 3", 1011),
        (2, "loaded version 1 instead of 3", 1001),
        (3, "loaded version initial instead of 3", 1000),
    ],
)
def test_a_stale_load_restarts_from_an_older_checkpoint(versions: int, effect: str, n: int) -> None:
    """A stale load restarts from the checkpoint `versions` saves back, or the initial state."""
    system = Agents("a")
    report = run(
        system,
        [
            chaos.Kill(target="root/a", at=5),
            chaos.StaleLoad(target="root/a", versions=versions, at=5),
        ],
        [add(1), add(2, n=10), add(3, n=100), add(6, n=1000)],
    )
    assert effects(report) == [(5.0, "root/a", "killed"), (5.0, "root/a", effect)]
    assert system.state("a") == Log(n=n)


def test_a_corrupt_load_of_the_state_restarts_from_a_broken_state() -> None:
    """corrupt_load with a mutator: the restart starts from the mutated checkpoint."""
    system = Agents("a")
    report = run(
        system,
        [
            chaos.Kill(target="root/a", at=5),
            chaos.CorruptLoad(target="root/a", at=5, mutator="chaos_fixtures:negate"),
        ],
        [add(1), add(2, n=10), add(6, n=100)],
    )
    assert effects(report) == [
        (5.0, "root/a", "killed"),
        (5.0, "root/a", "corrupted the loaded state"),
    ]
    assert system.state("a") == Log(n=89)


def test_a_generic_corrupt_load_breaks_one_field_of_the_loaded_state() -> None:
    """A generic corrupt_load breaks one field of the loaded state; the next action fails on it."""
    system = Agents("a")
    report = run(
        system,
        [chaos.CorruptLoad(target="root/a", at=5), chaos.Kill(target="root/a", at=5)],
        [add(1), add(6, n=10)],
        seed=5,
    )
    assert effects(report) == [
        (5.0, "root/a", "killed"),
        (5.0, "root/a", "corrupted the loaded state"),
    ]
    assert attrs.asdict(system.state("a")) == {"n": "corrupt", "seen": ()}
    assert events(report, "cmd", "root/a") == [(1.0, "add ok"), (6.0, "add ActionError")]


def test_a_corrupt_load_of_the_version_fails_the_start() -> None:
    """A corrupted version fails the start with StoreError; the next attempt loads fine."""
    system = Agents("a")
    report = run(
        system,
        [
            chaos.Kill(target="root/a", at=5),
            chaos.CorruptLoad(target="root/a", what="version", at=5, count=1),
        ],
        [add(1), add(6, n=10)],
    )
    assert effects(report) == [
        (5.0, "root/a", "killed"),
        (5.0, "root/a", "corrupted the loaded version"),
    ]
    assert events(report, "child.start_failed", "root/a") == [(5.0, "reason=StoreError")]
    assert events(report, "child.started", "root/a") == [(0.0, "restarts=0"), (5.0, "restarts=2")]
    assert system.state("a") == Log(n=11)


def test_a_load_fault_without_a_checkpoint_is_a_miss_that_stays_armed() -> None:
    """A restart with nothing committed is a miss that does not spend the load fault's count."""
    report = run(
        Agents("a"),
        [
            chaos.Kill(target="root/a", at=5),
            chaos.Kill(target="root/a", at=7),
            chaos.CorruptLoad(target="root/a", at=5, count=1, mutator="chaos_fixtures:negate"),
        ],
        [add(6, n=3)],
    )
    assert [(r.time, r.fault, r.effect, r.hit) for r in report.faults] == [
        (5.0, 0, "killed", True),
        (5.0, 2, "missed: no checkpoint to load", False),
        (7.0, 1, "killed", True),
        (7.0, 2, "corrupted the loaded state", True),
    ]
    assert report.check("faults_hit").verdict == "pass"


# ------------------------------------------------------------------ event fault triggers

TICKS = [Send(to="a", signal="log.add", data={"amount": 1}, at=0.5, every=1.0, until=10)]


def dropped(report: RunReport) -> list[float]:
    return [r.time for r in report.faults if r.effect == "dropped signal log.add"]


@pytest.mark.parametrize(
    ("fault", "times"),
    [
        (chaos.Drop(target="root/a"), [0.5 + i for i in range(10)]),
        (chaos.Drop(target="root/a", nth=3), [2.5]),
        (chaos.Drop(target="root/a", count=2), [0.5, 1.5]),
        (chaos.Drop(target="root/a", at=3, until=6), [3.5, 4.5, 5.5]),
        (chaos.Drop(target="root/a", at=3, until=6, nth=2), [4.5]),
        (chaos.Drop(target="root/a", at=7), [7.5, 8.5, 9.5]),
        (chaos.Drop(target="root/a", probability=0), []),
    ],
)
def test_an_event_fault_hits_the_events_its_trigger_selects(fault: Any, times: list[float]) -> None:
    """Inside [at, until): every event, the nth one only, or the first `count` ones."""
    report = run(Agents("a"), [fault], TICKS)
    assert dropped(report) == times


def test_probability_hits_the_events_the_fault_stream_selects() -> None:
    """probability=p hits each event when the fault's own stream draws below p; count caps it."""
    for seed in range(3):
        plan = chaos.FaultPlan([chaos.Drop(target="root/a", probability=0.5)])
        rng = fault_stream(seed, plan, 0)
        expected = [0.5 + i for i in range(10) if rng.random() < 0.5]
        report = run(Agents("a"), plan, TICKS, seed=seed)
        assert dropped(report) == expected
        assert 0 < len(expected) < 10
        capped_plan = chaos.FaultPlan([chaos.Drop(target="root/a", probability=0.5, count=2)])
        rng = fault_stream(seed, capped_plan, 0)  # another fault: its own stream
        hits = [0.5 + i for i in range(10) if rng.random() < 0.5]
        assert dropped(run(Agents("a"), capped_plan, TICKS, seed=seed)) == hits[:2]


def test_an_event_fault_with_pick_one_hits_one_chosen_target() -> None:
    """An event fault with pick='one' chooses one running match when its window opens."""
    plan = chaos.FaultPlan([chaos.Drop(target="root/*", pick="one", at=1)])
    report = run(Agents("a", "b"), plan, [add(2, to="a", call=False), add(2.5, to="b", call=False)])
    (chosen,) = fault_stream(0, plan, 0).sample(["root/a", "root/b"], 1)
    assert effects(report) == [
        (2.0 if chosen == "root/a" else 2.5, chosen, "dropped signal log.add")
    ]


def test_faults_act_only_in_the_fault_window() -> None:
    """After the heal no fault acts: an always-on drop lets quiet-period messages through."""
    report = run(
        Agents("a"), [chaos.Drop(target="root/a")], [add(9, call=False), add(11, call=False)]
    )
    assert dropped(report) == [9.0]
    assert events(report, "cmd", "root/a") == [(11.0, "add ok")]


def test_a_window_opening_at_zero_sees_the_first_message() -> None:
    """A fault window at at=0 opens before the workload: nth=1 is the first message, any seed."""
    seen: list[Signal] = []

    async def workload(client: Client) -> None:
        seen.append(client.signal("log.add", {"amount": 1}))
        seen.append(client.signal("log.add", {"amount": 2}))
        for signal in seen:
            await client.cast("a", signal)

    for seed in range(5):
        seen.clear()
        system = Agents("a")
        report = run(system, [chaos.Drop(target="root/a", nth=1)], workload, seed=seed)
        assert [s.id for s in seen] == ["w1", "w2"]
        letters = system.refs["a"].dead_letters
        assert [(d.message, d.reason, d.time) for d in letters] == [(seen[0], "dropped", 0.0)]
        assert report.metrics["casts"] == 2
        assert system.state("a") == Log(n=2)


def test_a_restart_storm_that_picks_one_keeps_its_victim() -> None:
    """A storm with pick='one' chooses its victim at the first kill and kills it each time."""
    system = chaos.System(Agents("a", "b", "c"), options={"max_restarts": 20})
    report = run(system, [chaos.RestartStorm(target="root/*", pick="one", at=1, count=4)])
    victims = {r.path for r in report.faults if r.effect == "killed"}
    assert len(victims) == 1
    assert len([r for r in report.faults if r.effect == "killed"]) == 4
