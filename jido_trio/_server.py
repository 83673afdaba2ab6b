"""AgentServer: one agent run as a supervised Trio task with a bounded mailbox.

Three objects, split the way Trio splits a memory channel (one state object
behind small handles):

- :class:`_Mailbox` — the agent's mailbox and the **one owner** of its
  accounting identity ``sent == processed + dead_lettered + queued +
  in_flight``: the bounded queue, the senders waiting for room, the timers
  (one-shot ``Schedule`` signals, periodic ``Every`` schedules, delayed
  deliveries), the dead letters. No other object writes its counters.
- :class:`AgentRef` — the public handle (``call``, ``cast``, ``stats``, ...)
  and the agent's durable facts: definition, options, last committed agent,
  registry name. It stays valid across restarts.
- :class:`_Server` — one *incarnation*: made by each (re)start of the child
  that :func:`agent_spec` returns, it loads the state, arms the periodic
  schedules, then takes one message at a time, in arrival order, and runs
  ``cmd``, the commit and the directives.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import sys
from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import trio

from ._action import Instruction
from ._agent import Agent, AgentDef, CmdOutcome, execute
from ._bus import publish
from ._directive import Emit, Error, Schedule, SpawnAgent, Stop, StopChild, check_directive
from ._errors import (
    AgentDownError,
    AgentStopError,
    CallTimeoutError,
    ChildKilled,
    ChildNotFoundError,
    ChildRunningError,
    InvalidArgumentError,
    InvalidChildSpecError,
    InvalidParamsError,
    InvalidStateError,
    JidoError,
    MailboxFullError,
    StoreError,
    UnknownActionError,
    UnroutableSignalError,
)
from ._intercept import Interceptor, _Chain, current_chain
from ._registry import Registration, current_registry
from ._signal import Signal
from ._store import CheckpointStore
from ._supervisor import (
    ChildContext,
    ChildSpec,
    Supervisor,
    check_supervisor_options,
    current_child,
    open_supervisor,
)
from ._telemetry import agent_telemetry_enabled, emit
from ._util import NoPublicConstructor, final
from ._validate import RESTART_FROM, DeadLetterReason, RestartFrom, RestartType, check_choice

_log = logging.getLogger("jido_trio.agent")

__all__ = ["AgentRef", "AgentStats", "DeadLetter", "Message", "agent_spec"]

#: What ``call`` and ``cast`` accept.
Message = Signal | Instruction


@attrs.frozen(slots=True)
class DeadLetter:
    """A message an agent could not process, and why.

    Attributes:
        message: the :class:`Signal` or :class:`Instruction`.
        reason: ``"unroutable"``, ``"invalid_params"``, ``"unknown_action"``,
            ``"action_failed"`` (the action raised, returned an invalid state
            or an unknown directive), ``"crashed"`` (the agent crashed while
            processing it), ``"agent_stopped"`` (queued or sent when the agent
            stopped for good), ``"dropped"`` (an interceptor dropped it),
            ``"mailbox_full"`` (an ``Emit`` found the target's mailbox full) or
            ``"no_such_agent"`` (an ``Emit`` to a name nobody holds): a
            :data:`DeadLetterReason`.
        agent: the path (or registry name) of the agent it was meant for.
        time: ``trio.current_time()`` when it was dead-lettered.
        error: the error behind it, if any.
    """

    message: Message
    reason: DeadLetterReason
    agent: str
    time: float
    error: BaseException | None = attrs.field(default=None, eq=False)


@attrs.frozen(slots=True)
class AgentStats:
    """Mailbox accounting of one agent. At every point where the agent's task
    is not running, ``sent == processed + dead_lettered + queued + in_flight``.

    Attributes:
        sent: messages that entered the mailbox (or were dead-lettered on
            arrival), including fired timers and delayed deliveries.
        processed: messages whose action succeeded and whose directives ran.
        dead_lettered: messages that ended as dead letters.
        queued: messages waiting in the mailbox.
        in_flight: ``1`` while a message is in hand, else ``0``.
    """

    sent: int
    processed: int
    dead_lettered: int
    queued: int
    in_flight: int


# -- call replies and their deadlines -------------------------------------------


class _Reply:
    """A one-shot reply slot for exactly one waiter, with its own deadline.

    A ``trio.move_on_after`` scope per call costs as much as the rest of a
    call together, so call deadlines live in one heap per Trio run, watched by
    one system task (:class:`_Deadlines`).
    """

    __slots__ = ("deadline", "done", "error", "heaped", "task", "timed_out", "value")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.heaped = False  # in the run's deadline heap
        self.done = False
        self.timed_out = False
        self.task: trio.lowlevel.Task | None = None
        self.value: Any = None
        self.error: BaseException | None = None

    def set(self, value: Any = None, error: BaseException | None = None) -> None:
        if self.done:  # duplicates and late replies are dropped
            return
        self.done = True
        self.value = value
        self.error = error
        self._wake()

    def expire(self) -> None:
        if not self.done:
            self.done = True
            self.timed_out = True
            self._wake()

    def _wake(self) -> None:
        task = self.task
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task)
        if self.heaped:
            _deadlines().settle(self)

    def _abort(self, _: Any) -> trio.lowlevel.Abort:
        self.task = None
        self.done = True  # the caller is gone: a late reply is dropped
        if self.heaped:
            _deadlines().settle(self)
        return trio.lowlevel.Abort.SUCCEEDED

    async def wait(self) -> None:
        if self.done:
            await trio.lowlevel.checkpoint()
            return
        self.task = trio.lowlevel.current_task()
        await trio.lowlevel.wait_task_rescheduled(self._abort)


class _Wake:
    """A server waiting for a message until its next timer is due: woken by
    the run's deadline watcher, so a timed wait costs no cancel scope."""

    __slots__ = ("deadline", "done", "mailbox", "task")

    def __init__(self, deadline: float, mailbox: _Mailbox, task: trio.lowlevel.Task) -> None:
        self.deadline = deadline
        self.mailbox = mailbox
        self.task = task
        self.done = False

    def expire(self) -> None:
        if self.done:
            return
        self.done = True
        mailbox = self.mailbox
        if mailbox._receiver is self.task:
            mailbox._receiver = None
            trio.lowlevel.reschedule(self.task)


_Timed = _Reply | _Wake


class _Deadlines:
    """The pending deadlines of one Trio run (``call`` replies, and servers
    waiting for their next timer), in a heap, and the one system task that
    expires them at exactly their deadline, in (deadline, arrival) order.
    Many agents due at the same instant cost one wake of the watcher."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, _Timed]] = []
        self.seq = 0
        self.scope: trio.CancelScope | None = None
        trio.lowlevel.spawn_system_task(self._watch, name="jido_trio.deadlines")

    def add(self, item: _Timed) -> None:
        self.seq += 1
        heap = self.heap
        heapq.heappush(heap, (item.deadline, self.seq, item))
        scope = self.scope
        if scope is not None and item.deadline < scope.deadline:
            scope.deadline = item.deadline

    def settle(self, item: _Timed) -> None:
        """Drop finished items from the top of the heap. The watcher's own
        deadline is left as is (moving it costs as much as a call): it may
        wake once for nothing, then re-arms for the next live deadline."""
        heap = self.heap
        if heap and heap[0][2] is item:
            while heap and heap[0][2].done:
                heapq.heappop(heap)

    async def _watch(self) -> None:
        heap = self.heap
        while True:
            now = trio.current_time()
            while heap and (heap[0][2].done or heap[0][0] <= now):
                heapq.heappop(heap)[2].expire()
            with trio.CancelScope(deadline=heap[0][0] if heap else math.inf) as scope:
                self.scope = scope
                await trio.sleep_forever()
            self.scope = None


_deadlines_var: trio.lowlevel.RunVar[_Deadlines] = trio.lowlevel.RunVar("jido_trio.deadlines")


def _deadlines() -> _Deadlines:
    try:
        return _deadlines_var.get()
    except LookupError:
        deadlines = _Deadlines()
        _deadlines_var.set(deadlines)
        return deadlines


# -- the mailbox ------------------------------------------------------------------


class _Envelope:
    """One message on its way through a mailbox, and its reply slot."""

    __slots__ = ("done", "handled", "message", "queued", "reply")

    def __init__(self, message: Message, reply: _Reply | None) -> None:
        self.message = message
        self.reply = reply
        self.handled = False  # an interceptor let it through to cmd
        self.done = False  # counted: processed or dead-lettered
        self.queued = False  # it counts as sent (in the mailbox, or dead-lettered there)


#: A timer: (due, sequence, signal, interval, incarnation). ``interval`` is 0.0
#: for a one-shot timer; a signal with an empty id is stamped when it fires.
_Timer = tuple[float, int, Signal, float, int]

_dead_office: trio.lowlevel.RunVar[deque[DeadLetter]] = trio.lowlevel.RunVar(
    "jido_trio.dead_letters"
)


def _office() -> deque[DeadLetter]:
    try:
        return _dead_office.get()
    except LookupError:
        office: deque[DeadLetter] = deque(maxlen=10_000)
        _dead_office.set(office)
        return office


def dead_letters() -> list[DeadLetter]:
    """Every dead letter recorded in this Trio run (the latest 10,000), oldest
    first: all agents' plus undeliverable ``Emit`` signals."""
    return list(_office())


def _describe(message: Message) -> str:
    if isinstance(message, Signal):
        return f"signal {message.type!r}"
    return f"action {message.action.name!r}"


class _Mailbox:
    """An agent's mailbox, and the one owner of its accounting identity.

    A bounded FIFO of envelopes with a single consumer (the agent's current
    server), the senders waiting for room (served first come, first served),
    the timers, and the dead letters. Every message ends exactly once, as
    ``processed`` or ``dead_lettered``; only this object writes the counters.

    A message stays in the buffer until the server takes it, and is
    ``in_flight`` from that moment until it is counted, so the identity holds
    whenever the server's task is not running, even when a kill lands between
    the wake-up and the take. The buffer is made on first use: most agents of
    a large system sit idle.
    """

    __slots__ = (
        "_buf",
        "_receiver",
        "_ref",
        "_senders",
        "closed",
        "dead",
        "inflight",
        "letter_limit",
        "letters",
        "processed",
        "sent",
        "size",
        "timer_seq",
        "timers",
    )

    def __init__(self, ref: AgentRef, size: int, letter_limit: int) -> None:
        self._ref = ref
        self.size = size
        self._buf: deque[_Envelope] | None = None
        self._receiver: trio.lowlevel.Task | None = None
        self._senders: deque[tuple[trio.lowlevel.Task, _Envelope]] | None = None
        self.closed = False  # stopped for good: takes nothing more
        self.sent = 0
        self.processed = 0
        self.dead = 0
        self.inflight: _Envelope | None = None
        self.letter_limit = letter_limit
        self.letters: deque[DeadLetter] | None = None
        self.timers: list[_Timer] | None = None
        self.timer_seq = 0

    # ------------------------------------------------------------- accounting
    @property
    def queued(self) -> int:
        buf = self._buf
        return 0 if buf is None else len(buf)

    def stats(self) -> AgentStats:
        return AgentStats(
            sent=self.sent,
            processed=self.processed,
            dead_lettered=self.dead,
            queued=self.queued,
            in_flight=0 if self.inflight is None else 1,
        )

    def finished(self, env: _Envelope, result: Any) -> None:
        """``env`` was processed: its action succeeded and its directives ran."""
        env.done = True
        self.processed += 1
        reply = env.reply
        if reply is not None:
            reply.set(result)

    def reject(self, env: _Envelope, reason: DeadLetterReason, error: BaseException | None) -> None:
        """``env`` arrived but could not be queued (an ``Emit`` into a full mailbox)."""
        self.sent += 1
        env.queued = True
        self.dead_letter(env, reason, error)

    def dead_letter(
        self, env: _Envelope, reason: DeadLetterReason, error: BaseException | None
    ) -> None:
        env.done = True
        self.dead += 1
        ref = self._ref
        path = ref.path
        letter = DeadLetter(env.message, reason, path, trio.current_time(), error)
        if self.letters is None:
            self.letters = deque(maxlen=self.letter_limit)
        self.letters.append(letter)
        _office().append(letter)
        message = env.message
        if agent_telemetry_enabled():
            emit(
                "agent.dead_letter",
                path,
                {
                    "agent": ref._definition.name,
                    "message": _describe(message),
                    "signal_id": message.id if isinstance(message, Signal) else None,
                    "reason": reason,
                    "error": error,
                },
            )
        reply = env.reply
        if reply is not None:
            if reason in ("crashed", "agent_stopped", "dropped"):
                what = {
                    "crashed": "crashed before answering",
                    "agent_stopped": "stopped before answering",
                    "dropped": "never got (an interceptor dropped it)",
                }[reason]
                down = AgentDownError(f"agent {path!r} {what} {_describe(message)}")
                down.__cause__ = error
                reply.set(error=down)
            else:
                reply.set(error=error)

    # ---------------------------------------------------------------- senders
    def post(self, env: _Envelope) -> bool:
        """Queue ``env`` now, without waiting; ``False`` if the mailbox is full.
        A closed mailbox takes nothing: the message is dead-lettered at once."""
        if self.closed:
            self.sent += 1
            env.queued = True
            self.dead_letter(env, "agent_stopped", None)
            return True
        buf = self._buf
        if buf is None:
            buf = self._buf = deque()
        elif len(buf) >= self.size:
            return False
        buf.append(env)
        self.sent += 1
        env.queued = True
        task = self._receiver
        if task is not None:
            self._receiver = None
            trio.lowlevel.reschedule(task)
        return True

    async def put(self, env: _Envelope) -> None:
        """Queue ``env``, waiting for room behind the senders already waiting.
        Cancelled while waiting: nothing was sent."""
        await trio.lowlevel.checkpoint_if_cancelled()
        if self.post(env):
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        senders = self._senders
        if senders is None:
            senders = self._senders = deque()
        entry = (trio.lowlevel.current_task(), env)
        senders.append(entry)

        def abort(_: Any) -> trio.lowlevel.Abort:
            senders.remove(entry)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def _admit(self) -> None:
        """Move waiting senders' envelopes into the room just made."""
        senders = self._senders
        buf = self._buf
        assert senders is not None
        assert buf is not None
        while senders and len(buf) < self.size:
            task, env = senders.popleft()
            buf.append(env)
            self.sent += 1
            env.queued = True
            trio.lowlevel.reschedule(task)

    # ---------------------------------------------------------------- receiver
    def _pop(self) -> _Envelope | None:
        buf = self._buf
        if not buf:
            return None
        env = buf.popleft()
        self.inflight = env
        if self._senders:
            self._admit()
        return env

    def _abort_take(self, _: Any) -> trio.lowlevel.Abort:
        self._receiver = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def take(self, deadline: float = math.inf, *, woke: bool = False) -> _Envelope | None:
        """The next envelope, now in flight; waits for one until ``deadline``.
        ``None`` when the wait ended (the deadline came, or :meth:`interrupt`)
        with nothing to take. Taking a waiting envelope is a checkpoint (so a
        busy agent lets others run), except right after a wait (``woke``): the
        caller has just been scheduled, and one pass of the scheduler per
        message is enough."""
        await trio.lowlevel.checkpoint_if_cancelled()
        env = self._pop()
        if env is not None:
            if not woke:
                await trio.lowlevel.cancel_shielded_checkpoint()
            return env
        task = trio.lowlevel.current_task()
        self._receiver = task
        if deadline == math.inf:
            await trio.lowlevel.wait_task_rescheduled(self._abort_take)
            return self._pop()
        wake = _Wake(deadline, self, task)
        deadlines = _deadlines()
        deadlines.add(wake)
        try:
            await trio.lowlevel.wait_task_rescheduled(self._abort_take)
        finally:
            if not wake.done:
                wake.done = True
                deadlines.settle(wake)
        return self._pop()

    def interrupt(self) -> None:
        """Wake the server if it waits for a message (a stop was requested, or
        a timer was added that it must wait for)."""
        task = self._receiver
        if task is not None:
            self._receiver = None
            trio.lowlevel.reschedule(task)

    # ------------------------------------------------------------------ timers
    def schedule(
        self, due: float, signal: Signal, *, interval: float = 0.0, incarnation: int = 0
    ) -> None:
        """Put ``signal`` in the mailbox at ``due`` (then every ``interval``
        seconds, for a periodic schedule of ``incarnation``). A one-shot timer
        of a closed mailbox is dead-lettered at once."""
        if self.closed:
            if not interval:
                self.reject(_Envelope(signal, None), "agent_stopped", None)
            return
        self.timer_seq += 1
        if self.timers is None:
            self.timers = []
        heapq.heappush(self.timers, (due, self.timer_seq, signal, interval, incarnation))
        self.interrupt()

    def fire_due(self, now: float, incarnation: int) -> bool:
        """Queue every due timer's signal at the back of the mailbox, oldest
        first (as Erlang's ``send_after``). ``True`` if one is due but the
        mailbox is full: it fires when there is room."""
        timers = self.timers
        if not timers:
            return False
        buf = self._buf
        if buf is None:
            buf = self._buf = deque()
        while timers and timers[0][0] <= now:
            due, _, signal, interval, owner = timers[0]
            if interval and owner != incarnation:
                heapq.heappop(timers)  # a periodic schedule of an earlier incarnation
                continue
            if len(buf) >= self.size:
                return True
            heapq.heappop(timers)
            fired = signal
            if not signal.id:
                fired = attrs.evolve(signal, id=self._ref._next_id(), time=due)
            buf.append(_Envelope(fired, None))
            self.sent += 1
            if interval:
                self.timer_seq += 1
                heapq.heappush(timers, (due + interval, self.timer_seq, signal, interval, owner))
        return False

    # --------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """The agent is stopped for good: everything queued, waiting for room,
        or due later on a one-shot timer is dead-lettered ``"agent_stopped"``
        (in that order); later sends are dead-lettered at once."""
        if self.closed:
            return
        self.closed = True
        buf = self._buf
        while buf:
            self.dead_letter(buf.popleft(), "agent_stopped", None)
        senders = self._senders
        while senders:
            task, env = senders.popleft()
            self.reject(env, "agent_stopped", None)
            trio.lowlevel.reschedule(task)
        timers = self.timers
        if timers:
            for _, _, signal, interval, _ in sorted(timers):
                if not interval:
                    self.sent += 1
                    self.dead_letter(_Envelope(signal, None), "agent_stopped", None)
            timers.clear()

    def reopen(self) -> None:
        self.closed = False


# -- one incarnation ----------------------------------------------------------------


def _reason(error: JidoError) -> DeadLetterReason:
    if isinstance(error, UnroutableSignalError):
        return "unroutable"
    if isinstance(error, InvalidParamsError):
        return "invalid_params"
    if isinstance(error, UnknownActionError):
        return "unknown_action"
    return "action_failed"


class _Server:
    """One incarnation of an agent: made by each (re)start, gone at its exit."""

    __slots__ = (
        "child",
        "children",
        "incarnation",
        "mailbox",
        "ref",
        "stop_after",
        "stopping",
        "sup",
        "taken_at",
    )

    def __init__(self, ref: AgentRef, child: ChildContext, incarnation: int) -> None:
        self.ref = ref
        self.mailbox = ref._mailbox
        self.child = child
        self.incarnation = incarnation
        self.sup: Supervisor | None = None  # the agent's own, opened by its first SpawnAgent
        self.children: tuple[trio.CancelScope, trio.Event] | None = None  # its host task
        self.stopping = False
        self.stop_after: str | None = None
        self.taken_at = 0.0

    # ------------------------------------------------------------- lifecycle
    async def run(self, task_status: trio.TaskStatus[AgentRef]) -> None:
        ref = self.ref
        mailbox = self.mailbox
        child = self.child
        if mailbox.closed:
            mailbox.reopen()  # started again after it was stopped for good
        ref._path = child.path
        child._stop_hook = self.request_stop
        ref._agent = await self.load()
        if ref._registration is None and ref._name is not None:
            ref._registration = current_registry().register_nowait(ref._name, ref)
        now = trio.current_time()
        for every in ref._definition.schedules:
            signal = Signal(every.type, every.data, source=ref._path, id="")
            mailbox.schedule(
                now + every.interval,
                signal,
                interval=every.interval,
                incarnation=self.incarnation,
            )
        task_status.started(ref)
        try:
            await self.loop()
            if self.sup is not None:
                await self.sup.shutdown()  # the agent's children first, within their grace
        finally:
            exc = sys.exc_info()[1]
            inflight = mailbox.inflight
            mailbox.inflight = None
            if inflight is not None and not inflight.done:
                # crashed, was killed or was stopped while processing it; a
                # state it committed stays committed.
                mailbox.dead_letter(inflight, *self.exit_cause(exc))
            self.close_children()
            await self.wait_children()
            self.sup = None
        if self.stop_after is not None and self.stop_after != "normal":
            raise AgentStopError(ref._path, self.stop_after)

    def request_stop(self) -> None:
        """The supervisor begins a cooperative stop: finish the message in
        hand, then exit (what is queued waits for the next start)."""
        self.stopping = True
        self.mailbox.interrupt()

    def exit_cause(
        self, exc: BaseException | None
    ) -> tuple[DeadLetterReason, BaseException | None]:
        """The dead-letter reason and error for the message in hand at exit."""
        if isinstance(exc, trio.Cancelled):
            child = self.child
            if child._failure is not None:
                return "crashed", child._failure  # its own supervisor gave up
            if child._kill_reason is not None:
                return "crashed", ChildKilled(child.path, child._kill_reason)
            return "agent_stopped", None  # shutdown grace ran out, or cancelled
        return "crashed", exc

    async def load(self) -> Agent[Any]:
        ref = self.ref
        if ref._restart_from == "checkpoint":
            chain = current_chain()
            if chain is not None and chain.on_load:
                loaded = await self._load_through(chain.on_load)
            else:
                loaded = await self._load_checkpoint()
            if loaded is not None:
                return self._check_loaded(loaded)
        return ref._definition.new(ref._id, ref._initial_state)

    async def _load_checkpoint(self) -> Agent[Any] | None:
        ref = self.ref
        store = ref._store
        if store is not None:
            return await store.load(ref._path or ref._id, ref._definition)
        return ref._saved

    async def _load_through(self, hooks: tuple[Interceptor, ...]) -> Agent[Any] | None:
        ref = self.ref

        async def step(i: int) -> Agent[Any] | None:
            if i == len(hooks):
                return await self._load_checkpoint()
            return await hooks[i].on_load(ref, lambda: step(i + 1))

        return await step(0)

    def _check_loaded(self, loaded: object) -> Agent[Any]:
        ref = self.ref
        definition = ref._definition
        ok = (
            isinstance(loaded, Agent)
            and type(loaded.version) is int
            and loaded.version >= 0
            and isinstance(loaded.state, definition.state_type)
        )
        if not ok:
            source = repr(ref._store) if ref._store is not None else "memory"
            raise StoreError(
                f"agent {ref.path!r}: the checkpoint loaded from {source} is not valid: "
                f"{loaded!r}; expected an Agent whose version is an int >= 0 and whose state "
                f"is a {definition.state_type.__name__} (the checkpoint is corrupt: delete it "
                "or restore a good one, or start with restart_from='initial')"
            )
        assert isinstance(loaded, Agent)
        if loaded.definition is not definition:
            loaded = Agent(definition, loaded.id, loaded.state, loaded.version)
        return loaded

    # ------------------------------------------------------------------ loop
    async def loop(self) -> None:
        """Serve messages, one at a time, until stopped."""
        mailbox = self.mailbox
        incarnation = self.incarnation
        env: _Envelope | None = None
        while not self.stopping and self.stop_after is None:
            # due timers join the back of the mailbox, then the wait for a
            # message lasts until the next timer is due; a timer still due
            # means the mailbox is full, and take returns at once
            timers = mailbox.timers
            deadline = math.inf
            if timers and not mailbox.fire_due(trio.current_time(), incarnation) and timers:
                deadline = timers[0][0]
            env = await mailbox.take(deadline, woke=env is None)
            if env is None:
                continue
            if agent_telemetry_enabled():
                self.taken_at = trio.current_time()
            chain = current_chain()
            if chain is not None and chain.on_signal:
                await self.intercepted(chain.on_signal, env)
            else:
                env.handled = True
                await self.process(env.message, env)
            mailbox.inflight = None

    # ---------------------------------------------- the agent's own supervisor
    async def open_children(self) -> Supervisor:
        """Open the supervisor of the agent's ``SpawnAgent`` children, on its
        first spawn. Most agents never spawn, so none is opened up front; and
        as a nursery cannot be opened around code that is already running, it
        is hosted by a task of its own, started in the nursery the agent runs
        in, with the agent's context (so it takes the agent's path and sits
        under it in the tree). It lives no longer than this incarnation: a
        normal exit shuts it down, a crash or a kill cancels it, and the
        incarnation waits for it either way. If it gives up (its children
        exceeded its intensity), the agent crashes with its error."""
        ref = self.ref
        child = self.child
        scope = trio.CancelScope()
        done = trio.Event()
        self.children = (scope, done)

        async def host(*, task_status: trio.TaskStatus[Supervisor]) -> None:
            try:
                with scope:
                    async with open_supervisor(**(ref._children_options or {})) as sup:
                        task_status.started(sup)
                        await sup.wait()
            except Exception as exc:  # noqa: BLE001 - the agent crashes with it instead
                child._fail(exc)
            finally:
                done.set()

        self.sup = await child._host().start(host, name=child.path)  # a task of the agent
        return self.sup

    def close_children(self) -> None:
        """End the children's host task, if any (cancelled if still running);
        the incarnation's end waits for it in :meth:`run`'s ``finally``."""
        children = self.children
        if children is not None:
            children[0].cancel()

    async def wait_children(self) -> None:
        children = self.children
        if children is not None:
            with trio.CancelScope(shield=True):  # cleanup: nothing may outlive the agent
                await children[1].wait()

    async def intercepted(self, hooks: tuple[Interceptor, ...], env: _Envelope) -> None:
        ref = self.ref

        async def step(i: int, message: Message) -> None:
            if i == len(hooks):
                if env.handled:  # a duplicate: processed again, counted once
                    await self.process(message, None)
                else:
                    env.handled = True
                    await self.process(message, env)
                return
            await hooks[i].on_signal(ref, message, lambda m: step(i + 1, m))

        await step(0, env.message)
        if not env.handled:
            self.mailbox.dead_letter(env, "dropped", None)

    async def process(self, message: Message, env: _Envelope | None) -> None:
        """``cmd``, commit, directives, for one message (``env`` is ``None``
        for a duplicate, which is not counted)."""
        ref = self.ref
        tel = agent_telemetry_enabled()
        started = trio.current_time() if tel else 0.0
        agent = ref._agent
        assert agent is not None  # loaded before the first message
        outcome: CmdOutcome[Any] = execute(agent, message)
        chain = current_chain()
        if chain is not None and chain.on_cmd:
            for interceptor in chain.on_cmd:
                outcome = interceptor.on_cmd(ref, outcome)
                if type(outcome) is not CmdOutcome or not isinstance(outcome.agent, Agent):
                    raise InvalidArgumentError(
                        f"{interceptor!r}.on_cmd returned {outcome!r}; expected a CmdOutcome "
                        "(return the one it was given, or attrs.evolve(outcome, ...))"
                    )
        if tel:
            emit(
                "agent.cmd",
                ref._path or ref._id,
                {
                    "agent": ref._definition.name,
                    "action": outcome.action,
                    "ok": outcome.error is None,
                    "duration": trio.current_time() - started,
                },
            )
        error = outcome.error
        if error is not None:
            if env is not None:
                env.message = message  # the message as processed (an interceptor may rewrite it)
                self.mailbox.dead_letter(env, _reason(error), error)
            return
        await self.commit(outcome.agent, chain)
        handling = (message, outcome.action) if tel else None
        await self.run_directives(outcome.directives, env, outcome.result, handling)

    async def commit(self, new: Agent[Any], chain: _Chain | None) -> None:
        ref = self.ref
        if chain is not None and chain.on_save:
            hooks = chain.on_save

            async def step(i: int, agent: Agent[Any]) -> None:
                if i == len(hooks):
                    await self._save(agent)
                else:
                    await hooks[i].on_save(ref, agent, lambda a: step(i + 1, a))

            await step(0, new)
        else:
            await self._save(new)
        ref._agent = new  # committed
        if agent_telemetry_enabled():
            emit(
                "agent.checkpoint",
                ref._path or ref._id,
                {"agent": ref._definition.name, "version": new.version},
            )

    async def _save(self, agent: Agent[Any]) -> None:
        ref = self.ref
        store = ref._store
        if store is not None:
            await store.save(ref._path or ref._id, agent)
        else:
            ref._saved = agent

    # ------------------------------------------------------------ directives
    async def run_directives(
        self,
        directives: tuple[Any, ...],
        env: _Envelope | None,
        result: Any,
        handling: tuple[Message, str | None] | None,
    ) -> None:
        """Carry out ``directives``, then count the message as processed."""
        for directive in directives:
            try:
                await self.directive(directive)
            except JidoError as exc:
                # the state is committed; a directive that cannot be carried out
                # (an unknown child to stop, a name already taken, ...) is
                # reported, and the agent carries on.
                self.directive_failed(directive, exc)
        if env is not None:
            self.mailbox.finished(env, result)
        if handling is not None and agent_telemetry_enabled():
            ref = self.ref
            emit(
                "agent.signal.handled",
                ref.path,
                {
                    "agent": ref._definition.name,
                    "message": _describe(handling[0]),
                    "action": handling[1],
                    "duration": trio.current_time() - self.taken_at,
                },
            )

    def directive_failed(self, directive: Any, exc: JidoError) -> None:
        ref = self.ref
        _log.warning("agent %s: directive %r failed: %s", ref.path, directive, exc)
        if agent_telemetry_enabled():
            emit(
                "agent.directive",
                ref.path,
                {"agent": ref._definition.name, "directive": directive, "error": exc},
            )

    async def directive(self, directive: Any) -> None:
        check_directive(directive)
        ref = self.ref
        if agent_telemetry_enabled():
            emit(
                "agent.directive",
                ref.path,
                {"agent": ref._definition.name, "directive": directive, "error": None},
            )
        if isinstance(directive, Emit):
            await self.emit(directive)
        elif isinstance(directive, Schedule):
            signal = Signal(directive.type, directive.data, source=ref.path, id="")
            self.mailbox.schedule(trio.current_time() + directive.delay, signal)
        elif isinstance(directive, SpawnAgent):
            sup = self.sup
            if sup is None:
                sup = await self.open_children()
            await sup.start_child(
                agent_spec(
                    directive.id,
                    directive.agent,
                    state=directive.state,
                    restart=directive.restart,  # type: ignore[arg-type]
                )
            )
        elif isinstance(directive, StopChild):
            sup = self.sup
            if sup is None or directive.id not in {c.id for c in sup.which_children()}:
                raise ChildNotFoundError(
                    f"agent {ref.path!r} has no child agent {directive.id!r} to stop"
                )
            await sup.terminate_child(directive.id)
            # a temporary child's spec is gone with its stop
            with contextlib.suppress(ChildNotFoundError):
                await sup.delete_child(directive.id)
        elif isinstance(directive, Stop):
            self.stop_after = directive.reason
        elif isinstance(directive, Error):
            pass  # an action may report an error as data; telemetry has it

    async def emit(self, directive: Emit) -> None:
        ref = self.ref
        signal = Signal(
            directive.type,
            directive.data,
            source=ref.path,
            subject=directive.subject,
            id=ref._next_id(),
            time=trio.current_time(),
        )
        target = directive.to
        chain = current_chain()
        if chain is None or not chain.on_deliver:
            self.deliver(target, signal, 0.0)
            return
        hooks = chain.on_deliver
        delivered = False

        async def step(i: int, sig: Signal, delay: float) -> None:
            nonlocal delivered
            if i == len(hooks):
                delivered = True
                self.deliver(target, sig, delay)
                return

            def proceed(s: Signal, /, *, delay: float = 0.0) -> Any:
                if (
                    not isinstance(delay, int | float)
                    or isinstance(delay, bool)
                    or not math.isfinite(delay)
                    or delay < 0
                ):
                    raise InvalidArgumentError(
                        f"on_deliver: proceed(delay={delay!r}) is not valid; expected a "
                        "finite number of seconds >= 0"
                    )
                return step(i + 1, s, acc + delay)

            acc = delay
            await hooks[i].on_deliver(ref, target, sig, proceed)

        await step(0, signal, 0.0)
        if not delivered:
            self.undeliverable(signal, target, "dropped")

    def deliver(self, target: str | None, signal: Signal, delay: float) -> None:
        if target is None:
            if delay:
                raise InvalidArgumentError(
                    f"a delivery to the bus cannot be delayed (delay={delay!r}, signal "
                    f"{signal.type!r}); delay deliveries to agents only"
                )
            publish(signal)
            return
        dest = current_registry().whereis(target)
        if not isinstance(dest, AgentRef):
            self.undeliverable(signal, target, "no_such_agent")
            return
        mailbox = dest._mailbox
        if delay:
            mailbox.schedule(trio.current_time() + delay, signal)
            return
        env = _Envelope(signal, None)
        if not mailbox.post(env):
            mailbox.reject(
                env,
                "mailbox_full",
                MailboxFullError(
                    f"mailbox of agent {dest.path!r} is full ({mailbox.size} messages); "
                    f"{_describe(signal)} from {self.ref.path!r} was dead-lettered"
                ),
            )

    def undeliverable(self, signal: Signal, target: str | None, reason: DeadLetterReason) -> None:
        letter = DeadLetter(signal, reason, target or "<bus>", trio.current_time(), None)
        _office().append(letter)
        if agent_telemetry_enabled():
            ref = self.ref
            emit(
                "agent.dead_letter",
                ref.path,
                {
                    "agent": ref._definition.name,
                    "message": _describe(signal),
                    "signal_id": signal.id,
                    "reason": reason,
                    "error": None,
                    "to": target,
                },
            )


# -- the public handle ----------------------------------------------------------------


def _check_message(message: object) -> None:
    if not isinstance(message, Signal | Instruction):
        raise InvalidArgumentError(
            f"an agent accepts a Signal or an Instruction (e.g. boost(amount=5)), not {message!r}"
        )


@final
class AgentRef(metaclass=NoPublicConstructor):
    """A stable reference to an agent run by an AgentServer; obtained from
    ``start_child(agent_spec(...))``, :func:`spec_ref`, or the registry.

    It stays valid across restarts: callers never re-resolve after a crash.
    Messages queued at a crash are delivered to the restarted instance; the
    message being processed at the crash is dead-lettered with reason
    ``"crashed"`` and its ``call`` raises :class:`AgentDownError`. When the agent
    stops for good (not to be restarted), queued messages are dead-lettered
    with reason ``"agent_stopped"`` and pending calls raise
    :class:`AgentDownError`; a later ``restart_child`` revives the same ref.
    """

    __slots__ = (
        "_agent",
        "_children_options",
        "_definition",
        "_emit_seq",
        "_id",
        "_incarnations",
        "_initial_state",
        "_mailbox",
        "_name",
        "_owner",
        "_path",
        "_registration",
        "_restart_from",
        "_saved",
        "_server",
        "_store",
    )

    def __init__(
        self,
        id: str,
        definition: AgentDef[Any],
        *,
        state: Any,
        mailbox_size: int,
        store: CheckpointStore | None,
        restart_from: RestartFrom,
        name: str | None,
        dead_letter_limit: int,
        children: dict[str, Any] | None,
    ) -> None:
        self._id = id
        self._definition = definition
        self._name = name
        self._initial_state = state
        self._store = store
        self._restart_from = restart_from
        self._children_options = children
        self._mailbox = _Mailbox(self, mailbox_size, dead_letter_limit)
        self._path: str | None = None
        self._agent: Agent[Any] | None = None  # the running agent (its last commit)
        self._saved: Agent[Any] | None = None  # the checkpoint, without a store
        self._owner: ChildContext | None = None  # the child that runs it
        self._server: _Server | None = None  # the running incarnation
        self._registration: Registration | None = None
        self._emit_seq = 0
        self._incarnations = 0

    def __repr__(self) -> str:
        status = "down" if self._mailbox.closed else "up"
        return f"<AgentRef {self.path} {self._definition.name} {status}>"

    # ---------------------------------------------------------------- queries
    @property
    def id(self) -> str:
        """The agent's id (its child id)."""
        return self._id

    @property
    def definition(self) -> AgentDef[Any]:
        """The agent's :class:`AgentDef`."""
        return self._definition

    @property
    def name(self) -> str | None:
        """The registry name it registers under while alive, or ``None``."""
        return self._name

    @property
    def path(self) -> str:
        """The agent's path in the supervision tree (its id before it starts)."""
        path = self._path
        return path if path is not None else self._id

    @property
    def state(self) -> Any:
        """The agent's current state (the last committed one)."""
        agent = self._agent
        return None if agent is None else agent.state

    @property
    def agent(self) -> Agent[Any] | None:
        """The current :class:`Agent` value, or ``None`` before the first start."""
        return self._agent

    @property
    def queue_length(self) -> int:
        """Messages waiting in the mailbox."""
        return self._mailbox.queued

    @property
    def mailbox_size(self) -> int:
        """The mailbox's bound."""
        return self._mailbox.size

    @property
    def alive(self) -> bool:
        """Whether the agent is running or due to be restarted (not stopped for
        good)."""
        return not self._mailbox.closed

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """This agent's latest dead letters (up to ``dead_letter_limit``), oldest
        first."""
        return tuple(self._mailbox.letters or ())

    def stats(self) -> AgentStats:
        """The mailbox accounting, see :class:`AgentStats`."""
        return self._mailbox.stats()

    @property
    def supervisor(self) -> Supervisor | None:
        """The agent's own supervisor, of its ``SpawnAgent`` children: opened
        at its first spawn, gone when the incarnation ends; else ``None``."""
        server = self._server
        return None if server is None else server.sup

    def children(self) -> dict[str, AgentRef]:
        """The child agents started with ``SpawnAgent`` that are running, by id."""
        server = self._server
        sup = None if server is None else server.sup
        if sup is None or sup.closed:
            return {}
        return {
            info.id: info.value
            for info in sup.which_children()
            if isinstance(info.value, AgentRef) and info.status == "running"
        }

    # ------------------------------------------------------------ messaging
    # DESIGN.md fixes call(..., timeout=...): one deadline for enqueue + reply
    async def call(self, message: Message, *, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Send ``message`` and wait for the result of its action.

        One deadline, ``timeout`` seconds (defaults to ``5.0``), covers waiting
        for mailbox space and for the reply. Returns the action's result; raises
        the action's error (an :class:`ActionError` with the original as
        ``__cause__``, :class:`InvalidParamsError`, :class:`UnroutableSignalError`,
        ...), :class:`CallTimeoutError`, or :class:`AgentDownError` if the agent
        crashes or stops before answering. Never hangs past ``timeout``. If the
        caller gives up (cancelled, or timed out), a message already queued is
        still processed and its reply dropped; one still waiting for room is
        not sent.
        """
        _check_message(message)
        if (
            not isinstance(timeout, int | float)
            or isinstance(timeout, bool)
            or math.isnan(timeout)
            or timeout < 0
        ):
            raise InvalidArgumentError(
                f"call(timeout={timeout!r}) is not valid; expected seconds >= 0 "
                "(math.inf waits for ever)"
            )
        deadline = trio.current_time() + timeout
        reply = _Reply(deadline)
        env = _Envelope(message, reply)
        mailbox = self._mailbox
        if not mailbox.post(env):  # the mailbox is full: wait for room, within the deadline
            with trio.move_on_at(deadline):
                await mailbox.put(env)
            if not env.queued:
                reply.expire()
        if not reply.done and deadline < math.inf:
            reply.heaped = True
            _deadlines().add(reply)
        await reply.wait()
        if reply.timed_out:
            raise CallTimeoutError(
                f"call to agent {self.path!r} got no reply within {timeout:g}s "
                f"(message {_describe(message)}; queue length {mailbox.queued})"
            )
        if reply.error is not None:
            raise reply.error
        return reply.value

    async def cast(self, message: Message) -> None:
        """Send ``message`` without waiting for its result. Waits while the
        mailbox is full (backpressure), behind senders already waiting. A
        message cast to an agent stopped for good is dead-lettered (reason
        ``"agent_stopped"``): as in Erlang, a cast never fails, and never
        blocks on an agent that will not read it. If ``cast`` is cancelled
        while waiting, nothing is sent."""
        _check_message(message)
        await self._mailbox.put(_Envelope(message, None))

    def cast_nowait(self, message: Message) -> None:
        """Like :meth:`cast`, but raises :class:`MailboxFullError` instead of
        waiting when the mailbox is full."""
        _check_message(message)
        if not self._mailbox.post(_Envelope(message, None)):
            raise MailboxFullError(
                f"mailbox of agent {self.path!r} is full ({self._mailbox.size} messages); "
                "use `await cast(...)` to wait for space, or raise mailbox_size"
            )

    # --------------------------------------------------------------- runtime
    def _next_id(self) -> str:
        self._emit_seq += 1
        return f"{self.path}#{self._emit_seq}"

    async def _serve(self, *, task_status: trio.TaskStatus[AgentRef]) -> None:
        """The body of the agent's child: one incarnation."""
        child = current_child()
        owner = self._owner
        if owner is not None and owner is not child:
            raise ChildRunningError(
                f"agent {self._id!r} is already running at {owner.path!r}, so it cannot also "
                f"start at {child.path!r}: an agent_spec runs one agent at a time; build "
                "another agent_spec for a second agent"
            )
        self._owner = child
        self._incarnations += 1
        server = _Server(self, child, self._incarnations)
        self._server = server
        try:
            await server.run(task_status)
        finally:
            self._server = None

    def _on_stopped(self, child: ChildContext) -> None:
        """The supervisor leaves this agent's child stopped for good."""
        owner = self._owner
        if owner is not None and owner is not child:
            return  # another supervisor's failed attempt to start it
        self._owner = None
        registration = self._registration
        if registration is not None:
            self._registration = None
            registration.unregister()
        self._mailbox.close()


def agent_spec(
    id: str,
    definition: AgentDef[Any],
    *,
    state: Any = None,
    restart: RestartType = "permanent",
    shutdown: float | None = 5.0,
    significant: bool = False,
    mailbox_size: int = 1000,
    store: CheckpointStore | None = None,
    restart_from: RestartFrom = "checkpoint",
    name: str | Literal[False] | None = None,
    dead_letter_limit: int = 1000,
    children: dict[str, Any] | None = None,
) -> ChildSpec:
    """A :class:`ChildSpec` that runs ``definition`` as an AgentServer with id ``id``.

    Start it with ``await sup.start_child(agent_spec(...))`` (or in
    ``open_supervisor(children=[...])``); the start value is the agent's
    :class:`AgentRef`, also available as ``spec_ref(spec)``. A spec runs one
    agent: starting it under a second supervisor while it runs under a first
    raises :class:`ChildRunningError`.

    - ``state`` — the initial state (a state, a mapping structured into the
      state type now, or ``None`` for the definition's default). Defaults to
      ``None``.
    - ``restart``, ``shutdown``, ``significant`` — as for any
      :class:`ChildSpec`. Defaults ``"permanent"``, ``5.0``, ``False``. On a
      cooperative stop the agent finishes the message in hand and exits; queued
      messages wait for the next start.
    - ``mailbox_size`` — the mailbox bound (``cast`` waits, ``cast_nowait``
      raises when full). Defaults to ``1000``.
    - ``store`` — a checkpoint store (:class:`MemoryStore`,
      :class:`SqliteStore`); the state is saved there after every successful
      ``cmd``, before its directives run, keyed by the agent's path. Defaults to
      ``None``: the last committed state is kept in memory by the ref.
    - ``restart_from`` — ``"checkpoint"`` (the last committed state) or
      ``"initial"``. Defaults to ``"checkpoint"``.
    - ``name`` — the registry name (for ``Emit(to=...)`` and
      ``jido_trio.lookup``); ``None`` uses ``id``; ``False`` registers nothing.
      Defaults to ``None``.
    - ``dead_letter_limit`` — dead letters kept on the ref. Defaults to ``1000``.
    - ``children`` — options for the agent's own supervisor of ``SpawnAgent``
      children (``strategy``, ``max_restarts``, ...), opened on the first
      ``SpawnAgent``. Defaults to ``{}`` (one_for_one, 3 in 5 s).

    Every option is checked here, before anything starts: a bad one raises
    :class:`InvalidChildSpecError` (a bad ``state`` mapping,
    :class:`InvalidStateError`), naming the option and the value.
    """
    where = f"agent_spec({id!r})"
    if not isinstance(definition, AgentDef):
        raise InvalidChildSpecError(
            f"{where}: definition={definition!r} is not valid; expected an AgentDef"
        )
    if not isinstance(mailbox_size, int) or isinstance(mailbox_size, bool) or mailbox_size < 1:
        raise InvalidChildSpecError(
            f"{where}: mailbox_size={mailbox_size!r} is not valid; expected an int >= 1"
        )
    try:
        check_choice("restart_from", restart_from, RESTART_FROM, InvalidChildSpecError)
    except InvalidChildSpecError as exc:
        raise InvalidChildSpecError(f"{where}: {exc}") from None
    if store is not None and not isinstance(store, CheckpointStore):
        raise InvalidChildSpecError(
            f"{where}: store={store!r} is not valid; expected a CheckpointStore "
            "(MemoryStore, SqliteStore) or None"
        )
    if name is not None and name is not False and (not isinstance(name, str) or not name):
        raise InvalidChildSpecError(
            f"{where}: name={name!r} is not valid; expected a non-empty string, "
            "None (register under the id) or False (register nothing)"
        )
    options = None
    if children is not None:
        if not isinstance(children, Mapping):
            raise InvalidChildSpecError(
                f"{where}: children={children!r} is not valid; expected a mapping of options "
                "for the agent's own supervisor, e.g. {'strategy': 'one_for_all'}"
            )
        options = check_supervisor_options(children, f"agent_spec({id!r}, children=...)")
        if "name" in options:
            raise InvalidChildSpecError(f"{where}: children= takes no name")
        options = options or None
    if (
        not isinstance(dead_letter_limit, int)
        or isinstance(dead_letter_limit, bool)
        or dead_letter_limit < 1
    ):
        raise InvalidChildSpecError(
            f"{where}: dead_letter_limit={dead_letter_limit!r} is not valid; expected an int >= 1"
        )
    if state is not None and isinstance(id, str) and id:
        try:
            state = definition.new(id, state).state
        except InvalidStateError as exc:
            raise InvalidStateError(
                f"{where}: state= is not a valid {definition.state_type.__name__}: {exc}",
                errors=exc.errors,
            ) from exc
    ref = AgentRef._create(
        id,
        definition,
        state=state,
        mailbox_size=mailbox_size,
        store=store,
        restart_from=restart_from,
        name=id if name is None else (name or None),
        dead_letter_limit=dead_letter_limit,
        children=options,
    )
    return ChildSpec(
        id,
        ref._serve,
        restart=restart,
        shutdown=shutdown,
        significant=significant,
        on_stopped=ref._on_stopped,
    )


def spec_ref(spec: ChildSpec) -> AgentRef:
    """The :class:`AgentRef` behind a spec made by :func:`agent_spec` (valid
    before the agent starts: messages cast to it wait in its mailbox)."""
    owner = getattr(spec.start, "__self__", None)
    if not isinstance(owner, AgentRef):
        raise InvalidChildSpecError(f"{spec!r} was not made by agent_spec()")
    return owner
