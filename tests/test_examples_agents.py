"""The agent examples (docs/examples/demand_tracker.py and orchestrator.py) run,
tell their story, and print the same bytes every time; the orchestrator's pure
transitions hold without a runtime."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from docs_examples import assert_same_bytes, assert_tells_its_story, load_example, run_program

from jido_trio import (
    ActionError,
    AgentDef,
    Emit,
    Error,
    InvalidParamsError,
    InvalidStateError,
    Schedule,
    Signal,
    SpawnAgent,
    StopChild,
    UnroutableSignalError,
    cmd,
    execute,
)


def run_example(name: str) -> subprocess.CompletedProcess[bytes]:
    return run_program(name, timeout=120)


# -- the Demand Tracker, as a program -------------------------------------------

TRACKER_LINES = [
    # the pure part comes first, unchanged
    "new:       DemandState(listing_id='listing-42', demand=50, ticks=0) version 0",
    "version:   4",
    "Demand Tracker, supervised (virtual time)",
    "t=  0.0  root/listing-42 started: DemandState(listing_id='listing-42', demand=50, ticks=0)",
    "t=  0.0  call boost(amount=30) -> 80",
    "         bus  listing.demand.changed at t=  0.0: 50 -> 80 (+30, boost)",
    "t=  0.0  cast cool(5) and tick -> demand 73, ticks 1",
    # the periodic heartbeat, exactly every 30 s of virtual time
    "t= 65.0  two heartbeats later -> demand 69, version 5",
    "         bus  listing.demand.changed at t= 30.0: 73 -> 71 (-2, heartbeat)",
    "         bus  listing.demand.changed at t= 60.0: 71 -> 69 (-2, heartbeat)",
    # a kill: restart from the last committed state, queued messages delivered
    "t= 65.0  killed root/listing-42; 2 messages wait in its mailbox",
    "t= 65.0  root/listing-42 restarted (#1) from committed version 5: demand 69",
    "t= 65.0  queued messages delivered -> demand 76, version 7; running, restarts=1",
    "         bus  listing.demand.changed at t= 65.0: 69 -> 79 (+10, boost)",
    "         bus  listing.demand.changed at t= 65.0: 79 -> 76 (-3, cool)",
    # the heartbeat is re-armed from the restart (t=65 + 30)
    "         bus  listing.demand.changed at t= 95.0: 76 -> 74 (-2, heartbeat)",
    "         bus  listing.demand.changed at t=125.0: 74 -> 72 (-2, heartbeat)",
    "t=130.0  call with bad data -> InvalidParamsError: amount: expected int @ $.data.amount",
    "t=130.0  state unchanged: DemandState(listing_id='listing-42', demand=72, ticks=1)",
    "t=130.0  supervisor shut down; alive=False",
    "         dead letter bad-1: invalid_params at t=130.0",
    "         dead letter oops-1: unroutable at t=130.0",
    "         dead letter late-1: agent_stopped at t=130.0",
    "         stats: sent=12 processed=9 dead_lettered=3 queued=0 in_flight=0",
    "         sent == processed + dead_lettered + queued + in_flight: True",
]


def test_demand_tracker_program_tells_its_story() -> None:
    """The tracker program exits 0, quietly on stderr, printing every key line in order."""
    assert_tells_its_story(run_example("demand_tracker"), TRACKER_LINES)


# -- the orchestrator, as a program ---------------------------------------------

ORCHESTRATOR_LINES = [
    "request:   Job(topic='trio nurseries', words=300, worker='writer-1', status='drafting',"
    " title='', drafted_words=0)",
    "           StopChild(id='writer-1')",
    "duplicate: ok ()",
    "unknown:   action 'drafted' raised ValueError: no job 'job-9' for worker 'writer-1'",
    "words: expected int @ $.data.words",
    "Content orchestrator, supervised (virtual time)",
    "t= 0.00  root/orchestrator/writer-1 spawned",
    "t= 0.00  root/orchestrator/writer-2 spawned",
    "t= 0.00  requested job-1 and job-2; drafting: ['writer-1', 'writer-2']",
    # the writers live under the orchestrator's path in the tree
    "           root/orchestrator            worker     running  restarts=0",
    "           root/orchestrator/writer-1   worker     running  restarts=0",
    "           root/orchestrator/writer-2   worker     running  restarts=0",
    # a crash restarted by the orchestrator's own supervisor; the work survives
    "t= 1.00  root/orchestrator/writer-2 crashed (ChildKilled), restarting",
    "t= 1.00  root/orchestrator/writer-2 restarted",
    "t= 1.00  writer-2 back with its committed assignment: job='job-2'",
    # drafting takes words / 100 s; then StopChild
    "t= 3.00  root/orchestrator/writer-1 stopped (shutdown)",
    "t= 5.00  root/orchestrator/writer-2 stopped (shutdown)",
    "         bus  content.published from root/orchestrator at t=3.00:"
    " job-1 'Trio Nurseries', 300 words",
    "         bus  content.published from root/orchestrator at t=5.00:"
    " job-2 'Supervision Trees', 500 words",
    "t= 6.00  children left: []",
    "           root/orchestrator/writer-3   worker     running  restarts=0",
    # the writer dies with its orchestrator
    "t= 7.00  root/orchestrator/writer-3 stopped (shutdown)",
    "t= 7.00  orchestrator stopped; its writer stopped with it",
    "           root/orchestrator            worker     stopped  restarts=0",
    "t= 7.00  writer-3 dead letter: content.draft.finish (agent_stopped)",
    "         orchestrator stats: sent=5 processed=5 dead_lettered=0 queued=0",
]


def test_orchestrator_program_tells_its_story() -> None:
    """The orchestrator program exits 0, quietly on stderr, printing every key line in order."""
    lines = assert_tells_its_story(run_example("orchestrator"), ORCHESTRATOR_LINES)
    # after the orchestrator stopped, no writer is left in the tree
    after = lines[lines.index("         the tree now") :]
    assert not any("writer-" in line and "restarts=" in line for line in after)


@pytest.mark.parametrize("name", ["demand_tracker", "orchestrator"])
def test_example_is_deterministic(name: str) -> None:
    """Two runs print identical bytes (virtual time; no uuids or addresses)."""
    assert_same_bytes(run_example(name), run_example(name))


# -- the orchestrator's pure transitions ----------------------------------------

orch = load_example("orchestrator")
ORCHESTRATOR: AgentDef[Any] = orch.ORCHESTRATOR
WRITER: AgentDef[Any] = orch.WRITER


def requested(topic: str = "trio nurseries", words: int = 300) -> Signal:
    return Signal("content.requested", {"topic": topic, "words": words}, id="rq")


def drafted_report(job: str = "job-1", worker: str = "writer-1", words: int = 300) -> Signal:
    data = {"job": job, "worker": worker, "title": "T", "words": words, "opening": "t"}
    return Signal("content.drafted", data, id="dr")


def test_orchestrator_starts_empty_and_knows_its_name() -> None:
    """A new orchestrator has no jobs and reports under its own agent id."""
    agent = ORCHESTRATOR.new("ops")
    assert agent.state == orch.OrchestratorState(name="ops")
    assert agent.state.active == []


def test_request_opens_a_job_spawns_and_assigns_a_writer() -> None:
    """content.requested opens job-N, spawns writer-N (transient) and sends it the brief."""
    outcome = execute(ORCHESTRATOR.new("ops"), requested())
    assert outcome.ok
    assert outcome.result == "job-1"
    assert outcome.agent.state.next_job == 2
    assert outcome.agent.state.jobs == {"job-1": orch.Job("trio nurseries", 300, "writer-1")}
    assert outcome.directives == (
        SpawnAgent(WRITER, "writer-1", restart="transient"),
        Emit(
            "content.draft",
            {"job": "job-1", "topic": "trio nurseries", "words": 300, "reply_to": "ops"},
            to="writer-1",
        ),
    )


def test_requests_get_distinct_jobs_and_writers() -> None:
    """Each request gets the next job and writer number; all are active."""
    agent, _ = cmd(ORCHESTRATOR.new("ops"), [requested("a"), requested("b"), requested("c")])
    assert list(agent.state.jobs) == ["job-1", "job-2", "job-3"]
    assert agent.state.active == ["writer-1", "writer-2", "writer-3"]
    assert agent.version == 1


def test_drafted_finishes_the_job_stops_the_writer_and_publishes() -> None:
    """content.drafted marks the job done, stops its writer and publishes on the bus."""
    agent, _ = cmd(ORCHESTRATOR.new("ops"), requested())
    outcome = execute(agent, drafted_report())
    assert outcome.ok
    done = orch.Job("trio nurseries", 300, "writer-1", "done", "T", 300)
    assert outcome.agent.state.jobs == {"job-1": done}
    assert outcome.agent.state.active == []
    assert outcome.result == done
    assert outcome.directives == (
        StopChild("writer-1"),
        Emit("content.published", {"job": "job-1", "title": "T", "words": 300}),
    )


def test_duplicate_report_is_ignored() -> None:
    """A second report for a finished job changes nothing and stops nothing."""
    agent, _ = cmd(ORCHESTRATOR.new("ops"), [requested(), drafted_report()])
    outcome = execute(agent, drafted_report(words=999))
    assert outcome.ok
    assert outcome.agent.state == agent.state
    assert outcome.directives == ()


@pytest.mark.parametrize(
    ("job", "worker"), [("job-9", "writer-1"), ("job-1", "writer-2")], ids=["job", "worker"]
)
def test_report_for_an_unknown_job_fails(job: str, worker: str) -> None:
    """A report for a job (or from a writer) the orchestrator does not know is an error."""
    agent, _ = cmd(ORCHESTRATOR.new("ops"), requested())
    outcome = execute(agent, drafted_report(job, worker))
    assert outcome.agent is agent
    assert isinstance(outcome.error, ActionError)
    assert str(outcome.error) == (
        f"action 'drafted' raised ValueError: no job {job!r} for worker {worker!r}"
    )
    assert outcome.directives == (Error(outcome.error, action="drafted"),)


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        ({"words": 10}, ["topic: required field missing @ $.data.topic"]),
        ({"topic": "x", "words": "many"}, ["words: expected int @ $.data.words"]),
        ({"topic": "x", "words": 0}, ["words: 'words' must be >= 1: 0 @ $.data.words"]),
        ({"topic": "x", "words": 5001}, ["words: 'words' must be <= 5000: 5001 @ $.data.words"]),
        ({"topic": "x", "urgent": True}, ["urgent: unknown field @ $.data.urgent"]),
    ],
)
def test_bad_request_is_rejected_with_paths(data: dict[str, Any], lines: list[str]) -> None:
    """A bad content.requested changes nothing and names each bad field's $.data path."""
    agent = ORCHESTRATOR.new("ops")
    outcome = execute(agent, Signal("content.requested", data, id="bad"))
    assert outcome.agent is agent
    assert isinstance(outcome.error, InvalidParamsError)
    assert outcome.error.errors == tuple(lines)


def test_request_defaults_to_300_words() -> None:
    """Without words, a request asks for 300."""
    outcome = execute(ORCHESTRATOR.new("ops"), Signal("content.requested", {"topic": "x"}))
    assert outcome.agent.state.jobs["job-1"].words == 300


def test_unroutable_signal() -> None:
    """The orchestrator has no route for the writers' own signals."""
    outcome = execute(ORCHESTRATOR.new("ops"), Signal("content.draft", id="x"))
    assert isinstance(outcome.error, UnroutableSignalError)


def test_job_status_is_validated() -> None:
    """A job's status is 'drafting' or 'done'."""
    with pytest.raises(ValueError, match="'status' must be in"):
        orch.Job("t", 1, "w", status="lost")


def test_writer_drafts_later_then_reports_to_its_orchestrator() -> None:
    """A writer takes the brief, schedules its finish at words/100 s, then reports."""
    writer = WRITER.new("writer-1")
    assert writer.state == orch.WriterState("writer-1")
    brief = {"job": "job-1", "topic": "trio nurseries", "words": 250, "reply_to": "ops"}
    writer, directives = cmd(writer, Signal("content.draft", brief))
    assert writer.state == orch.WriterState("writer-1", "job-1", "trio nurseries", 250, "ops")
    assert directives == [Schedule(2.5, "content.draft.finish")]

    outcome = execute(writer, Signal("content.draft.finish"))
    assert outcome.agent.state == orch.WriterState("writer-1", drafts=1)
    assert outcome.result == orch.compose("trio nurseries", 250)
    assert outcome.directives == (
        Emit(
            "content.drafted",
            {
                "job": "job-1",
                "worker": "writer-1",
                "title": "Trio Nurseries",
                "words": 250,
                "opening": "trio nurseries trio nurseries",
            },
            to="ops",
        ),
    )


def test_writer_refuses_a_second_brief_and_a_finish_without_one() -> None:
    """A busy writer rejects another brief; an idle one has nothing to finish."""
    idle = WRITER.new("writer-1")
    outcome = execute(idle, Signal("content.draft.finish"))
    assert str(outcome.error) == "action 'finish' raised ValueError: writer-1 has no job to finish"
    brief = {"job": "job-1", "topic": "t", "words": 1, "reply_to": "ops"}
    busy, _ = cmd(idle, Signal("content.draft", brief))
    outcome = execute(busy, Signal("content.draft", {**brief, "job": "job-2"}))
    assert outcome.agent is busy
    assert str(outcome.error) == "action 'draft' raised ValueError: writer-1 is busy with job-1"


@pytest.mark.parametrize(
    ("topic", "words", "text"),
    [
        ("trio", 3, "trio trio trio"),
        ("a b", 3, "a b a"),
        ("", 2, "content content"),
    ],
)
def test_compose_is_deterministic_word_count(topic: str, words: int, text: str) -> None:
    """compose repeats the topic's words to exactly the requested length."""
    assert orch.compose(topic, words) == text
    assert len(orch.compose(topic, words).split()) == words


def test_round_trip_without_a_runtime() -> None:
    """request -> draft -> finish -> drafted, by hand: the job ends done, nothing active."""
    boss, directives = cmd(ORCHESTRATOR.new("ops"), requested(words=40))
    assignment = directives[1]
    assert isinstance(assignment, Emit)
    writer, _ = cmd(WRITER.new("writer-1"), Signal(assignment.type, assignment.data))
    writer, directives = cmd(writer, Signal("content.draft.finish"))
    report = directives[0]
    assert isinstance(report, Emit)
    assert report.to == "ops"
    boss, directives = cmd(boss, Signal(report.type, report.data))
    assert boss.state.jobs["job-1"].status == "done"
    assert boss.state.jobs["job-1"].drafted_words == 40
    assert boss.state.active == []
    assert directives[0] == StopChild("writer-1")


def test_state_round_trips_through_the_converter() -> None:
    """The orchestrator's state dumps to plain data and loads back (checkpoint stores)."""
    agent, _ = cmd(ORCHESTRATOR.new("ops"), [requested(), drafted_report()])
    dumped = ORCHESTRATOR.dump_state(agent.state)
    assert dumped["jobs"]["job-1"]["status"] == "done"
    assert ORCHESTRATOR.load_state(dumped) == agent.state
    with pytest.raises(
        InvalidStateError, match=r"next_job: 'next_job' must be >= 1: 0 @ \$\.next_job"
    ):
        ORCHESTRATOR.load_state({**dumped, "next_job": 0})


def test_main_walkthrough(capsys: pytest.CaptureFixture[str]) -> None:
    """orchestrator.main() shows both state machines with cmd alone."""
    orch.main()
    out = capsys.readouterr().out
    assert "active:    []\n" in out
    assert "duplicate: ok ()\n" in out
    assert "urgent: unknown field @ $.data.urgent\n" in out
