"""A content-ops orchestrator: one agent that hands each content request to a
writer agent of its own, collects the draft, and lets the writer go.

It mirrors the orchestrator pattern of Jido's docs (``SpawnAgent``, a child
that reports back to its parent, ``StopChild``), with jido_trio's pieces:

- ``content.requested`` (``topic``, ``words``) -> ``request``: the orchestrator
  opens a job, spawns a ``writer`` agent for it with ``SpawnAgent`` (under the
  orchestrator's *own* supervisor, one_for_one, ``restart="transient"``) and
  sends it ``content.draft`` with ``Emit(..., to=<writer id>)``.
- The writer records its assignment and schedules ``content.draft.finish``
  after the drafting time (``words / 100`` seconds: 100 words a second, on the
  Trio clock). Then it "drafts" deterministically (the topic's words,
  repeated up to the requested length), and reports ``content.drafted``
  (``job``, ``worker``, ``title``, ``words``, ``opening``) to the orchestrator
  with ``Emit(..., to=<orchestrator name>)``.
- ``content.drafted`` -> ``drafted``: the orchestrator marks the job done,
  stops the writer with ``StopChild`` and publishes ``content.published`` on
  the bus. A report for a job it does not know is an error (dead-lettered); a
  second report for a finished job is ignored (at-least-once delivery is
  harmless).

Both agents are pure state machines (``ORCHESTRATOR``, ``WRITER``): ``cmd``
runs them without a runtime, as :func:`main` shows. :func:`run_demo` runs them
supervised on virtual time: two requests, a writer killed mid-draft and
restarted by the orchestrator's supervisor (its pending timer and committed
assignment survive), the writers in ``jido_trio.tree()`` under the
orchestrator's path, and a third writer that dies with the orchestrator.

Run ``python docs/examples/orchestrator.py``; it prints the same bytes every time.
"""

from __future__ import annotations

import attrs
import trio
import trio.testing

import jido_trio
from jido_trio import (
    ActionResult,
    AgentDef,
    Emit,
    NoParams,
    Schedule,
    Signal,
    SpawnAgent,
    StopChild,
    TelemetryEvent,
    action,
    cmd,
    execute,
)

__all__ = [
    "ORCHESTRATOR",
    "WRITER",
    "WORDS_PER_SECOND",
    "DraftParams",
    "DraftedParams",
    "Job",
    "OrchestratorState",
    "RequestParams",
    "WriterState",
    "compose",
    "main",
    "run_demo",
]

#: How fast a writer drafts, in words per second of the Trio clock.
WORDS_PER_SECOND = 100


# -- The writer -------------------------------------------------------------------


@attrs.frozen
class WriterState:
    """A writer's assignment.

    Attributes:
        worker: the writer's own id (its registry name).
        job: the job in hand, ``""`` when idle. Defaults to ``""``.
        topic: what to write about. Defaults to ``""``.
        words: how many words to write. Defaults to 0.
        reply_to: the registry name to report to. Defaults to ``""``.
        drafts: drafts finished so far. Defaults to 0.
    """

    worker: str
    job: str = ""
    topic: str = ""
    words: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    reply_to: str = ""
    drafts: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class DraftParams:
    """A ``content.draft`` assignment."""

    job: str
    topic: str
    words: int = attrs.field(validator=attrs.validators.ge(1))
    reply_to: str


def compose(topic: str, words: int) -> str:
    """The writer's deterministic "draft": the topic's words, repeated to length."""
    vocabulary = topic.split() or ["content"]
    return " ".join(vocabulary[i % len(vocabulary)] for i in range(words))


@action("draft", params=DraftParams, description="Take an assignment; finish it later.")
def draft(state: WriterState, params: DraftParams) -> ActionResult[WriterState]:
    if state.job:
        raise ValueError(f"{state.worker} is busy with {state.job}")
    new = attrs.evolve(
        state, job=params.job, topic=params.topic, words=params.words, reply_to=params.reply_to
    )
    finish_later = Schedule(params.words / WORDS_PER_SECOND, "content.draft.finish")
    return ActionResult(new, result=params.job, directives=[finish_later])


@action("finish", description="Write the draft and report it to the orchestrator.")
def finish(state: WriterState, params: NoParams) -> ActionResult[WriterState]:
    if not state.job:
        raise ValueError(f"{state.worker} has no job to finish")
    text = compose(state.topic, state.words)
    report = Emit(
        "content.drafted",
        {
            "job": state.job,
            "worker": state.worker,
            "title": state.topic.title(),
            "words": len(text.split()),
            "opening": " ".join(text.split()[:4]),
        },
        to=state.reply_to,
    )
    idle = WriterState(state.worker, drafts=state.drafts + 1)
    return ActionResult(idle, result=text, directives=[report])


WRITER: AgentDef[WriterState] = AgentDef(
    "writer",
    WriterState,
    [draft, finish],
    routes={"content.draft": "draft", "content.draft.finish": "finish"},
    initial=lambda worker_id: WriterState(worker=worker_id),
)


# -- The orchestrator -------------------------------------------------------------


@attrs.frozen
class Job:
    """One content job.

    Attributes:
        topic: what to write about.
        words: the length asked for.
        worker: the writer agent's id.
        status: ``"drafting"`` or ``"done"``. Defaults to ``"drafting"``.
        title: the draft's title, once done. Defaults to ``""``.
        drafted_words: the draft's word count, once done. Defaults to 0.
    """

    topic: str
    words: int
    worker: str
    status: str = attrs.field(
        default="drafting", validator=attrs.validators.in_(("drafting", "done"))
    )
    title: str = ""
    drafted_words: int = 0


@attrs.frozen
class OrchestratorState:
    """The orchestrator's book of jobs.

    Attributes:
        name: its own registry name, where writers report. Defaults to
            ``"orchestrator"``.
        next_job: the number of the next job. Defaults to 1.
        jobs: every job by id (``"job-1"``), in the order opened.
    """

    name: str = "orchestrator"
    next_job: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    jobs: dict[str, Job] = attrs.field(factory=dict)

    @property
    def active(self) -> list[str]:
        """The writers still drafting, by id."""
        return [job.worker for job in self.jobs.values() if job.status == "drafting"]


@attrs.frozen
class RequestParams:
    """A ``content.requested`` signal: a topic and a length (1 to 5000 words)."""

    topic: str = attrs.field(validator=attrs.validators.min_len(1))
    words: int = attrs.field(
        default=300, validator=[attrs.validators.ge(1), attrs.validators.le(5000)]
    )


@attrs.frozen
class DraftedParams:
    """A writer's ``content.drafted`` report."""

    job: str
    worker: str
    title: str
    words: int
    opening: str


@action("request", params=RequestParams, description="Open a job and spawn its writer.")
def request(state: OrchestratorState, params: RequestParams) -> ActionResult[OrchestratorState]:
    job_id = f"job-{state.next_job}"
    worker = f"writer-{state.next_job}"
    job = Job(params.topic, params.words, worker)
    new = attrs.evolve(state, next_job=state.next_job + 1, jobs={**state.jobs, job_id: job})
    assignment = {
        "job": job_id,
        "topic": params.topic,
        "words": params.words,
        "reply_to": state.name,
    }
    return ActionResult(
        new,
        result=job_id,
        directives=[
            SpawnAgent(WRITER, worker, restart="transient"),
            Emit("content.draft", assignment, to=worker),
        ],
    )


@action("drafted", params=DraftedParams, description="Take a draft; stop its writer.")
def drafted(state: OrchestratorState, params: DraftedParams) -> ActionResult[OrchestratorState]:
    job = state.jobs.get(params.job)
    if job is None or job.worker != params.worker:
        raise ValueError(f"no job {params.job!r} for worker {params.worker!r}")
    if job.status == "done":
        return ActionResult(state, result=job)  # a duplicate report: nothing to do
    done = attrs.evolve(job, status="done", title=params.title, drafted_words=params.words)
    new = attrs.evolve(state, jobs={**state.jobs, params.job: done})
    published = Emit(
        "content.published",
        {"job": params.job, "title": params.title, "words": params.words},
    )
    return ActionResult(new, result=done, directives=[StopChild(job.worker), published])


ORCHESTRATOR: AgentDef[OrchestratorState] = AgentDef(
    "orchestrator",
    OrchestratorState,
    [request, drafted],
    routes={"content.requested": "request", "content.drafted": "drafted"},
    initial=lambda agent_id: OrchestratorState(name=agent_id),
)


# -- The pure part at work --------------------------------------------------------


def main() -> None:
    """Show both state machines with ``cmd``: no runtime, no clock."""
    boss = ORCHESTRATOR.new("orchestrator")
    boss, directives = cmd(boss, Signal("content.requested", {"topic": "trio nurseries"}))
    print("request:  ", boss.state.jobs["job-1"])
    for directive in directives:
        print("          ", directive)

    emit = directives[1]
    assert isinstance(emit, Emit)
    writer = WRITER.new("writer-1")
    writer, directives = cmd(writer, Signal(emit.type, emit.data))
    print("draft:    ", writer.state, directives)
    writer, directives = cmd(writer, Signal("content.draft.finish"))
    report = directives[0]
    assert isinstance(report, Emit)
    print("finish:   ", writer.state)
    print("          ", report)

    boss, directives = cmd(boss, Signal(report.type, report.data))
    print("drafted:  ", boss.state.jobs["job-1"])
    for directive in directives:
        print("          ", directive)
    print("active:   ", boss.state.active)

    again = execute(boss, Signal(report.type, report.data))
    print("duplicate:", "ok" if again.ok else "error", again.directives)
    unknown = execute(boss, Signal("content.drafted", {**report.data, "job": "job-9"}))
    print("unknown:  ", unknown.error)
    bad = execute(boss, Signal("content.requested", {"words": "many", "urgent": True}))
    print("bad:      ", bad.error)


# -- The runtime part -------------------------------------------------------------


def _say(text: str) -> None:
    print(f"t={trio.current_time():5.2f}  {text}")


def _show_tree(title: str) -> None:
    print(f"         {title}")
    for node in jido_trio.tree():
        print(
            f"           {node.path:<28} {node.kind:<10} {node.status:<8} restarts={node.restarts}"
        )


def _published(sub: jido_trio.Subscription) -> None:
    while True:
        try:
            signal = sub.receive_nowait()
        except trio.WouldBlock:
            return
        assert isinstance(signal, Signal)
        data = signal.data
        print(
            f"         bus  {signal.type} from {signal.source} at t={signal.time:.2f}: "
            f"{data['job']} {data['title']!r}, {data['words']} words"
        )


def _timeline(event: TelemetryEvent) -> None:
    """Telemetry handler: the writers' lives, from the supervisors' events."""
    if "/writer-" not in event.path:
        return
    if event.name == "child.started":
        what = "restarted" if event.data["restarts"] else "spawned"
    elif event.data.get("error") is not None:
        what = f"crashed ({type(event.data['error']).__name__})"
        what += ", restarting" if event.data["restart"] else ""
    else:
        what = f"stopped ({event.data['reason']})"
    _say(f"{event.path} {what}")


async def _demo() -> None:
    spec = jido_trio.agent_spec(
        "orchestrator",
        ORCHESTRATOR,
        children={"strategy": "one_for_one", "max_restarts": 3, "max_seconds": 5},
    )
    boss = jido_trio.spec_ref(spec)
    with (
        jido_trio.subscribe("content.published") as sub,
        jido_trio.attach_telemetry(_timeline, events=["child.started", "child.exited"]),
    ):
        async with jido_trio.open_supervisor([spec]) as sup:
            first = await boss.call(
                Signal("content.requested", {"topic": "trio nurseries", "words": 300}, id="rq-1")
            )
            second = await boss.call(
                Signal("content.requested", {"topic": "supervision trees", "words": 500}, id="rq-2")
            )
            _say(f"requested {first} and {second}; drafting: {boss.state.active}")
            _show_tree("the tree: the writers live under the orchestrator's path")

            await trio.sleep_until(1.0)
            jido_trio.kill("root/orchestrator/writer-2", reason="demo kill")
            await trio.testing.wait_all_tasks_blocked()
            writer = boss.children()["writer-2"]
            _say(f"writer-2 back with its committed assignment: job={writer.state.job!r}")

            await trio.sleep_until(6.0)
            _published(sub)
            for job_id, job in boss.state.jobs.items():
                _say(f"{job_id}: {job.status}, {job.title!r}, {job.drafted_words} words")
            _say(f"children left: {sorted(boss.children())}")

            third = await boss.call(
                Signal("content.requested", {"topic": "chaos drills", "words": 900}, id="rq-3")
            )
            await trio.sleep_until(7.0)
            _show_tree(f"t=7: {third} is drafting")
            doomed = boss.children()["writer-3"]
            await sup.terminate_child("orchestrator")
            _say("orchestrator stopped; its writer stopped with it")
            _show_tree("the tree now")
            for letter in doomed.dead_letters:
                message = letter.message
                assert isinstance(message, Signal)
                _say(f"writer-3 dead letter: {message.type} ({letter.reason})")
            await sup.shutdown()

    stats = boss.stats()
    print(
        f"         orchestrator stats: sent={stats.sent} processed={stats.processed} "
        f"dead_lettered={stats.dead_lettered} queued={stats.queued}"
    )


def run_demo() -> None:
    """Run the orchestrator and its writers supervised, on virtual time."""
    print("Content orchestrator, supervised (virtual time)")
    trio.run(_demo, clock=trio.testing.MockClock(autojump_threshold=0))


if __name__ == "__main__":
    main()
    print()
    run_demo()
