"""Small systems with one planted bug each, for the ``bugfind`` benchmark.

Every bug comes with the check that catches it and a *fixed* twin (the same
system with the bug repaired), so the benchmark can show both that the
engine finds the bug and that the check does not fire on the fixed system
under the same faults. The systems are tiny on purpose: a run is a few
milliseconds, so a search of hundreds of seeds takes seconds.

The bugs (``BUGS``, in this order):

- ``duplicate_counter`` — a counter that is not idempotent: the client
  retries a call that timed out (same request id), and a message processed
  twice (a retry, or a duplicated delivery) is counted twice. Check
  (``always``): the count equals the number of distinct request ids seen.
- ``lost_handoff`` — state lost between commit and emit: the intake commits
  an accepted item, then hands it to the auditor with one ``Emit`` and no
  acknowledgement; if that one delivery is lost (dropped, partitioned, or
  dead-lettered when the auditor crashes on it) the item is never audited.
  Check (``eventually``): every accepted item is audited.
- ``restart_storm`` — a restart intensity that lets a crash loop run forever:
  the store leaks a pending write when its ``done`` message is lost, and its
  watchdog then stops it abnormally; restarted from its checkpoint (the leak
  included), it crash-loops. Its supervisor allows 50 restarts in 10 s, so it
  never gives up; the fixed one (3 in 5 s) escalates, and its parent
  restarts the whole service with fresh agents. Check (``eventually``): the
  store stays up for 5 s after the quiet period.
- ``reorder_sequence`` — a consumer that applies readings in arrival order:
  an earlier reading that arrives after a later one (reordered), or one
  delivered twice, takes its sequence number back or repeats it; the fix
  ignores a reading no newer than the one applied. Check (``always``): the
  sequence number only increases.
- ``missing_timeout`` — a request/reply over ``Emit`` with no timer: when a
  request or its reply is lost, the requester waits for ever and its queue of
  jobs never drains. The fix asks again every second (a periodic schedule).
  (A ``call`` cannot be lost in jido_trio: a dropped or crashed call fails at
  once with ``AgentDownError``; a hung or paused agent is released at the
  heal. So the missing timeout is in the agents' own protocol.) Check
  (``eventually``): every job is finished.
- ``volatile_ledger`` — a ledger that restarts from its initial state
  (``restart_from="initial"``): a crash or a kill forgets every deposit.
  Check (``eventually``): the balance covers every acknowledged deposit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import trio

import chaos
from jido_trio import (
    ActionResult,
    AgentDef,
    ChildSpec,
    Emit,
    Every,
    NoParams,
    RestartFrom,
    Schedule,
    Stop,
    action,
    agent_spec,
    current_child,
    open_supervisor,
)

__all__ = ["BUGS", "GENERIC_PLAN", "Bug", "run_options"]

#: The one fault generator every bug is searched with: eleven kinds (every
#: kind that needs no checkpoint store and breaks no type), one fault every
#: five virtual seconds on average, on any node of the tree.
GENERIC_PLAN = chaos.FaultPlan(
    [
        chaos.RandomFaults(
            kinds=[
                "kill",
                "restart_storm",
                "crash",
                "hang",
                "pause",
                "delay",
                "drop",
                "duplicate",
                "reorder",
                "partition",
                "fail_start",
            ],
            rate=0.2,
            targets=["root/**"],
        )
    ]
)

DURATION = 30.0
QUIET_PERIOD = 10.0
#: Every system's root supervisor: lenient enough that the generic plan's
#: restart storms (five kills 0.1 s apart) do not end the run, so a run ends
#: with the system up and the bug's own check decides.
ROOT_OPTIONS = {"max_restarts": 20, "max_seconds": 5.0}

Workload = Callable[[chaos.Client], Awaitable[None]]


@attrs.frozen
class Bug:
    """One planted bug: ``make(fixed)`` returns a fresh :class:`Setup` (the
    buggy system, or its fixed twin); ``check`` names the check that must
    fail when the bug shows."""

    name: str
    check: str
    summary: str
    make: Callable[[bool], Setup]


@attrs.frozen
class Setup:
    """What ``chaos.run`` needs for one system: its children, workload and checks."""

    children: Callable[[], Sequence[ChildSpec]]
    workload: Workload
    checks: tuple[Any, ...]


def run_options(bug: Bug, *, fixed: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``chaos.run`` (and ``chaos.shrink``) for ``bug``."""
    setup = bug.make(fixed)
    return {
        "duration": DURATION,
        "quiet_period": QUIET_PERIOD,
        "workload": setup.workload,
        "checks": setup.checks,
        "system": chaos.System(setup.children, options=ROOT_OPTIONS),
    }


# ----------------------------------------------------------- duplicate_counter
@attrs.frozen
class Tally:
    n: int = 0
    seen: frozenset[str] = frozenset()


@attrs.frozen
class Request:
    id: str


@action("add", params=Request)
def add_counted(state: Tally, params: Request) -> ActionResult[Tally]:
    """The bug: every message counts, a retry or a duplicate included."""
    new = Tally(state.n + 1, state.seen | {params.id})
    return ActionResult(new, result=new.n)


@action("add", params=Request)
def add_once(state: Tally, params: Request) -> ActionResult[Tally]:
    """The fix: a request id already seen is acknowledged, not counted."""
    if params.id in state.seen:
        return ActionResult(state, result=state.n)
    new = Tally(state.n + 1, state.seen | {params.id})
    return ActionResult(new, result=new.n)


COUNTER = AgentDef("counter", Tally, [add_counted], routes={"count.add": "add"})
COUNTER_FIXED = AgentDef("counter", Tally, [add_once], routes={"count.add": "add"})


async def retrying_client(client: chaos.Client) -> None:
    """A request every 0.5 s; one that fails (timeout 0.5 s, or the agent was
    down) is retried up to twice, with the same id."""
    k = 0
    while True:
        k += 1
        data = {"id": f"r{k}"}
        for _ in range(3):
            reply = await client.request("counter", client.signal("count.add", data), timeout=0.5)
            if reply.ok:
                break
        await trio.sleep(0.5)


def counted_once(path: str, state: Tally) -> bool | str:
    if state.n == len(state.seen):
        return True
    return f"n={state.n} but {len(state.seen)} distinct requests"


def duplicate_counter(fixed: bool) -> Setup:
    agent = COUNTER_FIXED if fixed else COUNTER
    return Setup(
        children=lambda: [agent_spec("counter", agent)],
        workload=retrying_client,
        checks=(chaos.Invariant("counted_once", counted_once, target="**/counter"),),
    )


# ----------------------------------------------------------------- lost_handoff
@attrs.frozen
class Intake:
    accepted: frozenset[int] = frozenset()
    unacked: frozenset[int] = frozenset()


@attrs.frozen
class Audit:
    recorded: frozenset[int] = frozenset()


@attrs.frozen
class Item:
    item: int


@action("accept", params=Item)
def accept_once(state: Intake, params: Item) -> ActionResult[Intake]:
    """The bug: commit, then one Emit; nobody notices if it is lost."""
    new = Intake(state.accepted | {params.item})
    return ActionResult(new, directives=[Emit("audit.record", {"item": params.item}, to="auditor")])


@action("accept", params=Item)
def accept_until_acked(state: Intake, params: Item) -> ActionResult[Intake]:
    """The fix: keep the item until the auditor acknowledges it."""
    new = Intake(state.accepted | {params.item}, state.unacked | {params.item})
    return ActionResult(new, directives=[Emit("audit.record", {"item": params.item}, to="auditor")])


@action("acked", params=Item)
def acked(state: Intake, params: Item) -> Intake:
    return attrs.evolve(state, unacked=state.unacked - {params.item})


@action("resend")
def resend(state: Intake, params: NoParams) -> ActionResult[Intake]:
    emits = [Emit("audit.record", {"item": i}, to="auditor") for i in sorted(state.unacked)]
    return ActionResult(state, directives=emits)


@action("record", params=Item)
def record(state: Audit, params: Item) -> Audit:
    return Audit(state.recorded | {params.item})


@action("record", params=Item)
def record_and_ack(state: Audit, params: Item) -> ActionResult[Audit]:
    ack = Emit("intake.acked", {"item": params.item}, to="intake")
    return ActionResult(Audit(state.recorded | {params.item}), directives=[ack])


INTAKE = AgentDef("intake", Intake, [accept_once], routes={"intake.accept": "accept"})
INTAKE_FIXED = AgentDef(
    "intake",
    Intake,
    [accept_until_acked, acked, resend],
    routes={"intake.accept": "accept", "intake.acked": "acked", "intake.resend": "resend"},
    schedules=[Every(1.0, "intake.resend")],
)
AUDITOR = AgentDef("auditor", Audit, [record], routes={"audit.record": "record"})
AUDITOR_FIXED = AgentDef("auditor", Audit, [record_and_ack], routes={"audit.record": "record"})


async def item_client(client: chaos.Client) -> None:
    """An item to the intake every 0.5 s (a call, so it is accepted before the next)."""
    k = 0
    while True:
        k += 1
        await client.request("intake", client.signal("intake.accept", {"item": k}), timeout=1.0)
        await trio.sleep(0.5)


def all_audited(view: chaos.SystemView) -> bool | str:
    accepted: frozenset[int] = view.state("intake").accepted
    missing = sorted(accepted - view.state("auditor").recorded)
    return not missing or f"accepted but never audited: items {missing}"


def lost_handoff(fixed: bool) -> Setup:
    intake, auditor = (INTAKE_FIXED, AUDITOR_FIXED) if fixed else (INTAKE, AUDITOR)
    return Setup(
        children=lambda: [agent_spec("intake", intake), agent_spec("auditor", auditor)],
        workload=item_client,
        checks=(chaos.Eventually("all_audited", all_audited),),
    )


# ---------------------------------------------------------------- restart_storm
@attrs.frozen
class Store:
    pending: int = 0
    stuck: int = 0


@action("write")
def write(state: Store, params: NoParams) -> ActionResult[Store]:
    return ActionResult(
        attrs.evolve(state, pending=state.pending + 1), directives=[Schedule(0.1, "store.done")]
    )


@action("done")
def done(state: Store, params: NoParams) -> Store:
    return attrs.evolve(state, pending=state.pending - 1)


@action("watchdog")
def watchdog(state: Store, params: NoParams) -> Store | ActionResult[Store]:
    """A write pending for three beats in a row: stop abnormally (let it crash)."""
    if state.pending <= 0:
        return Store(state.pending, 0) if state.stuck else state
    new = attrs.evolve(state, stuck=state.stuck + 1)
    if new.stuck >= 3:
        return ActionResult(new, directives=[Stop("stuck")])
    return new


STORE = AgentDef(
    "store",
    Store,
    [write, done, watchdog],
    routes={"store.write": "write", "store.done": "done", "store.watchdog": "watchdog"},
    schedules=[Every(0.5, "store.watchdog")],
)


@attrs.frozen
class Hits:
    n: int = 0


@action("hit")
def hit(state: Hits, params: NoParams) -> Hits:
    return Hits(state.n + 1)


FRONT = AgentDef("front", Hits, [hit], routes={"front.hit": "hit"})


def service(max_restarts: int, max_seconds: float) -> ChildSpec:
    """A supervisor of the store and its front that builds fresh agents each
    time it starts (as an Erlang subtree: a restart of the service forgets
    its agents' state)."""

    async def run_service(*, task_status: trio.TaskStatus[Any]) -> None:
        me = current_child()
        children = [agent_spec("store", STORE), agent_spec("front", FRONT)]
        async with open_supervisor(
            children, max_restarts=max_restarts, max_seconds=max_seconds
        ) as sup:
            task_status.started(sup)
            async with trio.open_nursery() as watch:

                async def on_stop() -> None:
                    await me.stop_requested.wait()
                    await sup.shutdown()

                watch.start_soon(on_stop)
                await sup.wait()
                watch.cancel_scope.cancel()

    return ChildSpec("svc", run_service, shutdown=None, kind="supervisor")


async def store_client(client: chaos.Client) -> None:
    """A write to the store and a hit to the front every second."""
    while True:
        await client.request("store", client.signal("store.write"), timeout=1.0)
        await client.request("front", client.signal("front.hit"), timeout=1.0)
        await trio.sleep(1.0)


def restarts_of(view: chaos.SystemView, path: str) -> int:
    return sum(info.restarts for info in view.tree() if info.path == path)


async def store_stays_up(view: chaos.SystemView) -> bool | str:
    before = restarts_of(view, "root/svc/store")
    await trio.sleep(5.0)
    after = restarts_of(view, "root/svc/store")
    return after == before or f"the store restarted {after - before} times in 5s"


def restart_storm(fixed: bool) -> Setup:
    limits = (3, 5.0) if fixed else (50, 10.0)
    return Setup(
        children=lambda: [service(*limits)],
        workload=store_client,
        checks=(chaos.Eventually("store_stays_up", store_stays_up),),
    )


# ------------------------------------------------------------- reorder_sequence
@attrs.frozen
class Seq:
    seq: int = 0


@action("produce")
def produce(state: Seq, params: NoParams) -> ActionResult[Seq]:
    n = state.seq + 1
    return ActionResult(Seq(n), directives=[Emit("reading.new", {"seq": n}, to="consumer")])


@attrs.frozen
class Reading:
    seq: int = 0
    prev: int = -1


@attrs.frozen
class SeqNo:
    seq: int


@action("apply", params=SeqNo)
def apply_any(state: Reading, params: SeqNo) -> Reading:
    """The bug: the last reading to arrive wins."""
    return Reading(params.seq, state.seq)


@action("apply", params=SeqNo)
def apply_newer(state: Reading, params: SeqNo) -> Reading:
    """The fix: a reading older than the one applied is ignored."""
    return Reading(params.seq, state.seq) if params.seq > state.seq else state


PRODUCER = AgentDef(
    "producer",
    Seq,
    [produce],
    routes={"producer.tick": "produce"},
    schedules=[Every(0.25, "producer.tick")],
)
CONSUMER = AgentDef("consumer", Reading, [apply_any], routes={"reading.new": "apply"})
CONSUMER_FIXED = AgentDef("consumer", Reading, [apply_newer], routes={"reading.new": "apply"})


async def idle_client(client: chaos.Client) -> None:
    """No workload: the producer's own schedule drives the system."""


def monotonic(path: str, state: Reading) -> bool | str:
    return state.seq > state.prev or f"seq went from {state.prev} to {state.seq}"


def reorder_sequence(fixed: bool) -> Setup:
    consumer = CONSUMER_FIXED if fixed else CONSUMER
    return Setup(
        children=lambda: [
            agent_spec("producer", PRODUCER),
            agent_spec("consumer", consumer),
        ],
        workload=idle_client,
        checks=(chaos.Invariant("monotonic", monotonic, target="**/consumer"),),
    )


# -------------------------------------------------------------- missing_timeout
@attrs.frozen
class Requester:
    queue: tuple[int, ...] = ()
    outstanding: int | None = None
    done: int = 0


@attrs.frozen
class Job:
    k: int


def ask(k: int) -> Emit:
    return Emit("server.request", {"k": k}, to="server")


@action("job", params=Job)
def job(state: Requester, params: Job) -> ActionResult[Requester]:
    if state.outstanding is None:
        return ActionResult(attrs.evolve(state, outstanding=params.k), directives=[ask(params.k)])
    return ActionResult(attrs.evolve(state, queue=(*state.queue, params.k)))


@action("reply", params=Job)
def reply(state: Requester, params: Job) -> ActionResult[Requester]:
    if params.k != state.outstanding:
        return ActionResult(state)  # a late or repeated reply
    if not state.queue:
        return ActionResult(Requester((), None, state.done + 1))
    k, *rest = state.queue
    return ActionResult(Requester(tuple(rest), k, state.done + 1), directives=[ask(k)])


@action("retry")
def retry(state: Requester, params: NoParams) -> ActionResult[Requester]:
    """The fix: every second, ask again for the job still waiting (the
    server's reply is idempotent; a repeated reply is ignored)."""
    if state.outstanding is None:
        return ActionResult(state)
    return ActionResult(state, directives=[ask(state.outstanding)])


ROUTES = {"requester.job": "job", "requester.reply": "reply"}
REQUESTER = AgentDef("requester", Requester, [job, reply], routes=ROUTES)
REQUESTER_FIXED = AgentDef(
    "requester",
    Requester,
    [job, reply, retry],
    routes={**ROUTES, "requester.retry": "retry"},
    # a periodic schedule, not a one-shot Schedule per request: a lost
    # one-shot timeout would end the retries (the search found that one)
    schedules=[Every(1.0, "requester.retry")],
)


@action("serve", params=Job)
def serve(state: Hits, params: Job) -> ActionResult[Hits]:
    return ActionResult(
        Hits(state.n + 1), directives=[Emit("requester.reply", {"k": params.k}, to="requester")]
    )


SERVER = AgentDef("server", Hits, [serve], routes={"server.request": "serve"})


async def job_client(client: chaos.Client) -> None:
    """A job cast to the requester every second."""
    k = 0
    while True:
        k += 1
        await client.cast("requester", client.signal("requester.job", {"k": k}))
        await trio.sleep(1.0)


def jobs_finished(view: chaos.SystemView) -> bool | str:
    state: Requester = view.state("requester")
    if state.outstanding is None and not state.queue:
        return True
    return f"job {state.outstanding} still waits for its reply; {len(state.queue)} queued"


def missing_timeout(fixed: bool) -> Setup:
    requester = REQUESTER_FIXED if fixed else REQUESTER
    return Setup(
        children=lambda: [agent_spec("requester", requester), agent_spec("server", SERVER)],
        workload=job_client,
        checks=(chaos.Eventually("jobs_finished", jobs_finished),),
    )


# -------------------------------------------------------------- volatile_ledger
@attrs.frozen
class Balance:
    total: int = 0


@action("deposit")
def deposit(state: Balance, params: NoParams) -> ActionResult[Balance]:
    return ActionResult(Balance(state.total + 1), result=state.total + 1)


LEDGER = AgentDef("ledger", Balance, [deposit], routes={"ledger.deposit": "deposit"})


class Ledger:
    """The ledger system; ``acked`` counts the deposits acknowledged in the
    current run (reset when the run builds its children)."""

    def __init__(self, durable: bool) -> None:
        self.restart_from: RestartFrom = "checkpoint" if durable else "initial"
        self.acked = 0

    def children(self) -> list[ChildSpec]:
        self.acked = 0
        return [
            agent_spec("ledger", LEDGER, restart_from=self.restart_from),
            agent_spec("front", FRONT),
        ]

    async def workload(self, client: chaos.Client) -> None:
        """A deposit every 0.5 s and a hit to the front every second."""
        while True:
            for _ in range(2):
                reply = await client.request("ledger", client.signal("ledger.deposit"))
                if reply.ok:
                    self.acked += 1
                await trio.sleep(0.5)
            await client.request("front", client.signal("front.hit"))

    def covered(self, view: chaos.SystemView) -> bool | str:
        total: int = view.state("ledger").total
        return total >= self.acked or f"balance {total} < {self.acked} acknowledged deposits"


def volatile_ledger(fixed: bool) -> Setup:
    ledger = Ledger(durable=fixed)
    return Setup(
        children=ledger.children,
        workload=ledger.workload,
        checks=(chaos.Eventually("deposits_kept", ledger.covered),),
    )


BUGS: tuple[Bug, ...] = (
    Bug(
        "duplicate_counter",
        "counted_once",
        "a retried or duplicated request is counted twice",
        duplicate_counter,
    ),
    Bug(
        "lost_handoff",
        "all_audited",
        "an item committed, then handed off with one unacknowledged Emit",
        lost_handoff,
    ),
    Bug(
        "restart_storm",
        "store_stays_up",
        "max_restarts=50 in 10s lets a crash loop run for ever",
        restart_storm,
    ),
    Bug(
        "reorder_sequence",
        "monotonic",
        "readings applied in arrival order",
        reorder_sequence,
    ),
    Bug(
        "missing_timeout",
        "jobs_finished",
        "a request over Emit with no timer: a lost request or reply blocks for ever",
        missing_timeout,
    ),
    Bug(
        "volatile_ledger",
        "deposits_kept",
        "restart_from='initial' forgets every deposit on a crash",
        volatile_ledger,
    ),
)
