"""AgentServer: one agent run as a supervised Trio task with a bounded mailbox.

The :class:`AgentRef` *is* the server's durable core: it owns the mailbox, the
one-shot timers, the counters and dead letters, and the last committed agent,
so it stays valid across restarts. :func:`agent_spec` wraps it in a
:class:`~jido_trio.ChildSpec`; each start of that child is one *incarnation*
running :meth:`AgentRef._serve`: load state, arm periodic schedules, then take
one message at a time, in arrival order.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import sys
from collections import deque
from typing import Any, Final, Literal

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
    InvalidArgumentError,
    InvalidChildSpecError,
    InvalidParamsError,
    JidoError,
    MailboxFullError,
    UnknownActionError,
    UnroutableSignalError,
)
from ._intercept import Interceptor, current_interceptors
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
from ._telemetry import emit, telemetry_enabled

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
            ``"no_such_agent"`` (an ``Emit`` to a name nobody holds).
        agent: the path (or registry name) of the agent it was meant for.
        time: ``trio.current_time()`` when it was dead-lettered.
        error: the error behind it, if any.
    """

    message: Message
    reason: str
    agent: str
    time: float
    error: BaseException | None = attrs.field(default=None, eq=False)


@attrs.frozen(slots=True)
class AgentStats:
    """Mailbox accounting of one agent. At every quiescent point,
    ``sent == processed + dead_lettered + queued + in_flight``."""

    sent: int
    processed: int
    dead_lettered: int
    queued: int
    in_flight: int


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


class _Deadlines:
    """The pending ``call`` deadlines of one Trio run, in a heap, and the one
    system task that expires them at exactly their deadline."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, _Reply]] = []
        self.seq = 0
        self.scope: trio.CancelScope | None = None
        trio.lowlevel.spawn_system_task(self._watch, name="jido_trio.call_deadlines")

    def add(self, reply: _Reply) -> None:
        self.seq += 1
        heap = self.heap
        heapq.heappush(heap, (reply.deadline, self.seq, reply))
        scope = self.scope
        if scope is not None and reply.deadline < scope.deadline:
            scope.deadline = reply.deadline

    def settle(self, reply: _Reply) -> None:
        """Drop finished replies from the top of the heap. The watcher's own
        deadline is left as is (moving it costs as much as a call): it may
        wake once for nothing, then re-arms for the next live deadline."""
        heap = self.heap
        if heap and heap[0][2] is reply:
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


_deadlines_var: trio.lowlevel.RunVar[_Deadlines] = trio.lowlevel.RunVar("jido_trio.call_deadlines")


def _deadlines() -> _Deadlines:
    try:
        return _deadlines_var.get()
    except LookupError:
        deadlines = _Deadlines()
        _deadlines_var.set(deadlines)
        return deadlines


class _Envelope:
    __slots__ = ("done", "handled", "message", "queued", "reply")

    def __init__(self, message: Message, reply: _Reply | None) -> None:
        self.message = message
        self.reply = reply
        self.handled = False  # an interceptor let it through to cmd
        self.done = False  # counted: processed or dead-lettered
        self.queued = False  # _enqueue got it into the mailbox


_WAKE: Final = _Envelope(Signal("jido.wake", id="wake"), None)


def _reason(error: JidoError) -> str:
    if isinstance(error, UnroutableSignalError):
        return "unroutable"
    if isinstance(error, InvalidParamsError):
        return "invalid_params"
    if isinstance(error, UnknownActionError):
        return "unknown_action"
    return "action_failed"


def _check_message(message: object) -> None:
    if not isinstance(message, Signal | Instruction):
        raise InvalidArgumentError(
            f"an agent accepts a Signal or an Instruction (e.g. boost(amount=5)), not {message!r}"
        )


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


class AgentRef:
    """A stable reference to an agent run by an AgentServer.

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
        "_dead",
        "_dead_letter_limit",
        "_dead_letters",
        "_down",
        "_emit_seq",
        "_handling",
        "_incarnation",
        "_inflight",
        "_initial_state",
        "_last_result",
        "_mailbox_size",
        "_path",
        "_pending",
        "_pending_at",
        "_pending_reply",
        "_processed",
        "_recv",
        "_registration",
        "_restart_from",
        "_send",
        "_sent",
        "_stop_after",
        "_stopping",
        "_store",
        "_sup",
        "_taken_at",
        "_timer_seq",
        "_timers",
        "_wake_pending",
        "definition",
        "id",
        "name",
    )

    def __init__(
        self,
        id: str,
        definition: AgentDef[Any],
        *,
        state: Any,
        mailbox_size: int,
        store: CheckpointStore | None,
        restart_from: Literal["checkpoint", "initial"],
        name: str | None,
        dead_letter_limit: int,
        children: dict[str, Any] | None,
    ) -> None:
        self.id = id
        self.definition = definition
        self.name = name
        self._initial_state = state
        self._mailbox_size = mailbox_size
        self._store = store
        self._restart_from = restart_from
        self._children_options = children
        self._send, self._recv = trio.open_memory_channel[_Envelope](mailbox_size)
        self._path: str | None = None
        self._agent: Agent[Any] | None = None
        self._down = False
        self._stopping = False
        self._stop_after: str | None = None
        self._sent = 0
        self._processed = 0
        self._dead = 0
        self._inflight: _Envelope | None = None
        self._dead_letter_limit = dead_letter_limit
        self._dead_letters: deque[DeadLetter] | None = None  # made on first use
        self._timers: list[tuple[float, int, Signal, float, int]] = []
        self._timer_seq = 0
        self._emit_seq = 0
        self._incarnation = 0
        self._sup: Supervisor | None = None
        # directives of the message in hand still to run: a tuple and a cursor
        self._pending: tuple[Any, ...] = ()
        self._pending_at = 0
        self._pending_reply: _Envelope | None = None
        self._registration: Registration | None = None
        self._last_result: Any = None
        self._wake_pending = False
        self._taken_at = 0.0
        self._handling: tuple[Message, str | None] | None = None

    def __repr__(self) -> str:
        status = "down" if self._down else "up"
        return f"<AgentRef {self.path} {self.definition.name} {status}>"

    # ---------------------------------------------------------------- queries
    @property
    def path(self) -> str:
        """The agent's path in the supervision tree (its id before it starts)."""
        return self._path if self._path is not None else self.id

    @property
    def state(self) -> Any:
        """The agent's current state (the last committed one)."""
        return None if self._agent is None else self._agent.state

    @property
    def agent(self) -> Agent[Any] | None:
        """The current :class:`Agent` value, or ``None`` before the first start."""
        return self._agent

    @property
    def queue_length(self) -> int:
        """Messages waiting in the mailbox."""
        return self._send.statistics().current_buffer_used - self._wake_pending

    @property
    def mailbox_size(self) -> int:
        """The mailbox's bound."""
        return self._mailbox_size

    @property
    def alive(self) -> bool:
        """Whether the agent is running or due to be restarted (not stopped for
        good)."""
        return not self._down

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """This agent's latest dead letters (up to ``dead_letter_limit``), oldest
        first."""
        return tuple(self._dead_letters or ())

    def stats(self) -> AgentStats:
        """The mailbox accounting, see :class:`AgentStats`."""
        return AgentStats(
            sent=self._sent,
            processed=self._processed,
            dead_lettered=self._dead,
            queued=self.queue_length,
            in_flight=1 if self._inflight is not None else 0,
        )

    def children(self) -> dict[str, AgentRef]:
        """The child agents started with ``SpawnAgent`` that are running, by id."""
        sup = self._sup
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
        caller gives up, the message is still processed and its reply dropped.
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
        if not self._post(env):  # the mailbox is full: wait for room, within the deadline
            with trio.move_on_at(deadline):
                await self._enqueue(env)
            if not env.queued:
                reply.expire()
        if not reply.done and deadline < math.inf:
            reply.heaped = True
            _deadlines().add(reply)
        await reply.wait()
        if reply.timed_out:
            raise CallTimeoutError(
                f"call to agent {self.path!r} got no reply within {timeout:g}s "
                f"(message {_describe(message)}; queue length {self.queue_length})"
            )
        if reply.error is not None:
            raise reply.error
        return reply.value

    async def cast(self, message: Message) -> None:
        """Send ``message`` without waiting for its result. Waits while the
        mailbox is full (backpressure). A message cast to an agent stopped for
        good is dead-lettered (reason ``"agent_stopped"``), as in Erlang a cast
        never fails. If ``cast`` is cancelled while waiting, nothing is sent."""
        _check_message(message)
        env = _Envelope(message, None)
        if self._down:
            self._post(env)  # dead-lettered
            await trio.lowlevel.checkpoint()
            return
        await self._enqueue(env)

    def cast_nowait(self, message: Message) -> None:
        """Like :meth:`cast`, but raises :class:`MailboxFullError` instead of
        waiting when the mailbox is full."""
        _check_message(message)
        if not self._post(_Envelope(message, None)):
            raise MailboxFullError(
                f"mailbox of agent {self.path!r} is full ({self._mailbox_size} messages); "
                "use `await cast(...)` to wait for space, or raise mailbox_size"
            )

    def _post(self, env: _Envelope) -> bool:
        """Put ``env`` in the mailbox without waiting (the fast path: no trip
        through the scheduler). False if the mailbox is full. An agent stopped
        for good takes nothing: the message is dead-lettered at once."""
        if self._down:
            self._sent += 1
            self._dead_letter(env, "agent_stopped", None)
            return True
        try:
            self._send.send_nowait(env)
        except trio.WouldBlock:
            return False
        self._sent += 1
        return True

    async def _enqueue(self, env: _Envelope) -> None:
        """Wait for mailbox space. A message counts as sent once it is in the
        mailbox; if the wait is cancelled, nothing was sent."""
        try:
            await self._send.send(env)
        except trio.BrokenResourceError:  # stopped for good while we waited
            self._sent += 1
            env.queued = True
            self._dead_letter(env, "agent_stopped", None)
            return
        self._sent += 1
        env.queued = True

    # ------------------------------------------------------ dead letters
    def _dead_letter(self, env: _Envelope, reason: str, error: BaseException | None) -> None:
        if env is _WAKE:
            self._wake_pending = False
            return
        env.done = True
        self._dead += 1
        letter = DeadLetter(env.message, reason, self.path, trio.current_time(), error)
        if self._dead_letters is None:
            self._dead_letters = deque(maxlen=self._dead_letter_limit)
        self._dead_letters.append(letter)
        _office().append(letter)
        if telemetry_enabled():
            message = env.message
            emit(
                "agent.dead_letter",
                self.path,
                {
                    "agent": self.definition.name,
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
                down = AgentDownError(f"agent {self.path!r} {what} {_describe(env.message)}")
                down.__cause__ = error
                reply.set(error=down)
            else:
                reply.set(error=error)

    # --------------------------------------------------------- lifecycle
    def _on_stopped(self) -> None:
        """The supervisor leaves this agent stopped for good."""
        if self._down:
            return
        self._down = True
        self._stopping = False
        if self._registration is not None:
            self._registration.unregister()
            self._registration = None
        try:
            while True:
                env = self._recv.receive_nowait()
                self._dead_letter(env, "agent_stopped", None)
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            pass
        self._recv.close()  # senders blocked on a full mailbox get BrokenResourceError
        for _, _, signal, interval, _ in self._timers:
            if not interval:
                self._sent += 1
                self._dead_letter(_Envelope(signal, None), "agent_stopped", None)
        self._timers.clear()

    def _revive(self) -> None:
        self._down = False
        self._send, self._recv = trio.open_memory_channel[_Envelope](self._mailbox_size)

    def _request_stop(self) -> None:
        # called synchronously when the supervisor begins a cooperative stop
        self._stopping = True
        # if busy, the loop checks _stopping between messages
        if not self._wake_pending:
            busy = (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError)
            with contextlib.suppress(*busy):
                self._send.send_nowait(_WAKE)
                self._wake_pending = True

    async def _load(self) -> Agent[Any]:
        if self._restart_from == "checkpoint":
            if self._store is not None:
                loaded = await self._store.load(self.path, self.definition)
                if loaded is not None:
                    return loaded
            elif self._agent is not None:
                return self._agent  # the last committed agent, kept by the ref
        return self.definition.new(self.id, self._initial_state)

    async def _serve(self, *, task_status: trio.TaskStatus[AgentRef]) -> None:
        child = current_child()
        if self._down:
            self._revive()
        self._path = child.path
        child._stop_hook = self._request_stop
        self._stopping = False
        self._stop_after = None
        self._incarnation += 1
        if self._registration is None and self.name is not None:
            self._registration = current_registry().register_nowait(self.name, self)
        self._agent = await self._load()
        now = trio.current_time()
        # periodic schedules are re-armed by every incarnation; stale ones go
        self._timers = [t for t in self._timers if not t[3]]
        for every in self.definition.schedules:
            self._timer_seq += 1
            signal = Signal(every.type, every.data, source=self.path, id="")
            self._timers.append(
                (now + every.interval, self._timer_seq, signal, every.interval, self._incarnation)
            )
        heapq.heapify(self._timers)
        task_status.started(self)
        try:
            if await self._loop():
                async with open_supervisor(**(self._children_options or {})) as sup:
                    self._sup = sup
                    await self._loop()
                    await sup.shutdown()
        finally:
            self._sup = None
            inflight = self._inflight
            self._inflight = None
            self._pending_reply = None
            self._handling = None
            self._pending = ()
            self._pending_at = 0
            if inflight is not None and not inflight.done:
                # crashed, was killed or was stopped while processing it; a
                # state it committed stays committed.
                self._dead_letter(inflight, *self._exit_cause(child, sys.exc_info()[1]))
        if self._stop_after is not None and self._stop_after != "normal":
            raise AgentStopError(self.path, self._stop_after)

    def _exit_cause(
        self, child: ChildContext, exc: BaseException | None
    ) -> tuple[str, BaseException | None]:
        """The dead-letter reason and error for the message in hand at exit."""
        if isinstance(exc, trio.Cancelled):
            if child.kill_reason is not None:
                return "crashed", ChildKilled(child.path, child.kill_reason)
            return "agent_stopped", None  # shutdown grace ran out, or cancelled
        return "crashed", exc

    async def _loop(self) -> bool:
        """Serve messages until stopped. Returns True when a ``SpawnAgent``
        needs the agent's own supervisor, which the caller opens before calling
        again; the directives still to run are kept in ``_pending``."""
        if self._pending or self._pending_reply is not None:  # resuming after SpawnAgent
            if await self._run_pending():
                return True
            self._inflight = None
        recv = self._recv
        timers = self._timers
        while not self._stopping and self._stop_after is None:
            # due timers join the back of the mailbox, as Erlang's send_after;
            # if one is overdue, the mailbox is full and receive returns at once
            if timers and not self._fire_timers() and timers:
                got: _Envelope | None = None
                with trio.move_on_at(timers[0][0]):
                    got = await recv.receive()
                if got is None:
                    continue
                env = got
            else:
                env = await recv.receive()
            if env is _WAKE:
                self._wake_pending = False
                continue
            if telemetry_enabled():
                self._taken_at = trio.current_time()
            self._inflight = env
            chain = current_interceptors()
            if chain:
                if await self._intercepted(chain, env):
                    return True
            else:
                env.handled = True
                if await self._process(env.message, env):
                    return True
            self._inflight = None
        return False

    def _fire_timers(self) -> bool:
        """Put every due timer's signal in the mailbox, oldest first. Returns
        True if one is due but the mailbox is full (it fires when there is room)."""
        timers = self._timers
        now = trio.current_time()
        while timers and timers[0][0] <= now:
            due, _, signal, interval, incarnation = timers[0]
            if interval and incarnation != self._incarnation:
                heapq.heappop(timers)  # a periodic schedule of an earlier incarnation
                continue
            fired = attrs.evolve(signal, id=f"{self.path}#{self._emit_seq + 1}", time=due)
            try:
                self._send.send_nowait(_Envelope(fired, None))
            except trio.WouldBlock:
                return True
            self._emit_seq += 1
            self._sent += 1
            heapq.heappop(timers)
            if interval:
                self._timer_seq += 1
                heapq.heappush(
                    timers, (due + interval, self._timer_seq, signal, interval, incarnation)
                )
        return False

    async def _intercepted(self, chain: tuple[Interceptor, ...], env: _Envelope) -> bool:
        needs_sup = False

        async def step(i: int, message: Message) -> None:
            nonlocal needs_sup
            if i == len(chain):
                first = not env.handled
                env.handled = True
                if first:
                    needs_sup = await self._process(message, env)
                else:  # a duplicate: processed again, counted once
                    await self._process(message, None)
                return
            await chain[i].on_signal(self, message, lambda m: step(i + 1, m))

        await step(0, env.message)
        if not env.handled:
            self._dead_letter(env, "dropped", None)
        return needs_sup

    async def _process(self, message: Message, env: _Envelope | None) -> bool:
        agent = self._agent
        assert agent is not None
        tel = telemetry_enabled()
        started = trio.current_time() if tel else 0.0
        outcome: CmdOutcome[Any] = execute(agent, message)
        if tel:  # for agent.signal.handled, emitted when its directives are done
            self._handling = (message, outcome.action)
        chain = current_interceptors()
        for interceptor in chain:
            outcome = interceptor.on_cmd(self, outcome)
        if tel:
            emit(
                "agent.cmd",
                self.path,
                {
                    "agent": self.definition.name,
                    "action": outcome.action,
                    "ok": outcome.error is None,
                    "duration": trio.current_time() - started,
                },
            )
        error = outcome.error
        if error is not None:
            if env is not None:
                self._dead_letter(env, _reason(error), error)
            return False
        new = outcome.agent
        if self._store is not None:
            await self._store.save(self.path, new)
        self._agent = new  # committed
        if tel:
            emit(
                "agent.checkpoint",
                self.path,
                {"agent": self.definition.name, "version": new.version},
            )
        self._pending = outcome.directives
        self._pending_at = 0
        self._pending_reply = env
        if env is not None:
            self._last_result = outcome.result
        return await self._run_pending()

    async def _run_pending(self) -> bool:
        pending = self._pending
        while self._pending_at < len(pending):
            directive = pending[self._pending_at]
            if isinstance(directive, SpawnAgent) and self._sup is None:
                return True
            self._pending_at += 1
            try:
                await self._directive(directive)
            except JidoError as exc:
                # the state is committed; a directive that cannot be carried out
                # (an unknown child to stop, a name already taken, ...) is
                # reported, and the agent carries on.
                self._directive_failed(directive, exc)
        self._pending = ()
        self._pending_at = 0
        env = self._pending_reply
        self._pending_reply = None
        if env is not None:
            env.done = True
            self._processed += 1
            if env.reply is not None:
                env.reply.set(self._last_result)
        handling = self._handling
        if handling is not None:
            self._handling = None
            if telemetry_enabled():
                emit(
                    "agent.signal.handled",
                    self.path,
                    {
                        "agent": self.definition.name,
                        "message": _describe(handling[0]),
                        "action": handling[1],
                        "duration": trio.current_time() - self._taken_at,
                    },
                )
        return False

    def _directive_failed(self, directive: Any, exc: JidoError) -> None:
        _log.warning("agent %s: directive %r failed: %s", self.path, directive, exc)
        if telemetry_enabled():
            emit(
                "agent.directive",
                self.path,
                {"agent": self.definition.name, "directive": directive, "error": exc},
            )

    async def _directive(self, directive: Any) -> None:
        check_directive(directive)
        if telemetry_enabled():
            emit(
                "agent.directive",
                self.path,
                {"agent": self.definition.name, "directive": directive, "error": None},
            )
        if isinstance(directive, Emit):
            await self._emit(directive)
        elif isinstance(directive, Schedule):
            self._timer_seq += 1
            signal = Signal(directive.type, directive.data, source=self.path, id="")
            heapq.heappush(
                self._timers,
                (trio.current_time() + directive.delay, self._timer_seq, signal, 0.0, 0),
            )
        elif isinstance(directive, SpawnAgent):
            assert self._sup is not None
            await self._sup.start_child(
                agent_spec(
                    directive.id,
                    directive.agent,
                    state=directive.state,
                    restart=directive.restart,  # type: ignore[arg-type]
                )
            )
        elif isinstance(directive, StopChild):
            sup = self._sup
            if sup is None or directive.id not in {c.id for c in sup.which_children()}:
                raise ChildNotFoundError(
                    f"agent {self.path!r} has no child agent {directive.id!r} to stop"
                )
            await sup.terminate_child(directive.id)
            await sup.delete_child(directive.id)
        elif isinstance(directive, Stop):
            self._stop_after = directive.reason
        elif isinstance(directive, Error):
            pass  # an action may report an error as data; telemetry has it

    async def _emit(self, directive: Emit) -> None:
        self._emit_seq += 1
        signal = Signal(
            directive.type,
            directive.data,
            source=self.path,
            subject=directive.subject,
            id=f"{self.path}#{self._emit_seq}",
            time=trio.current_time(),
        )
        target = directive.to
        chain = current_interceptors()
        delivered = False

        async def deliver(sig: Signal) -> None:
            nonlocal delivered
            delivered = True
            self._deliver(target, sig)

        if chain:

            async def step(i: int, sig: Signal) -> None:
                if i == len(chain):
                    await deliver(sig)
                else:
                    await chain[i].on_deliver(self, target, sig, lambda s: step(i + 1, s))

            await step(0, signal)
            if not delivered:
                self._undeliverable(signal, target, "dropped")
        else:
            self._deliver(target, signal)

    def _deliver(self, target: str | None, signal: Signal) -> None:
        if target is None:
            publish(signal)
            return
        ref = current_registry().whereis(target)
        if not isinstance(ref, AgentRef):
            self._undeliverable(signal, target, "no_such_agent")
            return
        try:
            ref.cast_nowait(signal)
        except MailboxFullError as exc:
            ref._sent += 1
            ref._dead_letter(_Envelope(signal, None), "mailbox_full", exc)

    def _undeliverable(self, signal: Signal, target: str | None, reason: str) -> None:
        letter = DeadLetter(signal, reason, target or "<bus>", trio.current_time(), None)
        _office().append(letter)
        if telemetry_enabled():
            emit(
                "agent.dead_letter",
                self.path,
                {
                    "agent": self.definition.name,
                    "message": _describe(signal),
                    "signal_id": signal.id,
                    "reason": reason,
                    "error": None,
                    "to": target,
                },
            )


def _describe(message: Message) -> str:
    if isinstance(message, Signal):
        return f"signal {message.type!r}"
    return f"action {message.action.name!r}"


def agent_spec(
    id: str,
    definition: AgentDef[Any],
    *,
    state: Any = None,
    restart: Literal["permanent", "transient", "temporary"] = "permanent",
    shutdown: float | None = 5.0,
    significant: bool = False,
    mailbox_size: int = 1000,
    store: CheckpointStore | None = None,
    restart_from: Literal["checkpoint", "initial"] = "checkpoint",
    name: str | Literal[False] | None = None,
    dead_letter_limit: int = 1000,
    children: dict[str, Any] | None = None,
) -> ChildSpec:
    """A :class:`ChildSpec` that runs ``definition`` as an AgentServer with id ``id``.

    Start it with ``await sup.start_child(agent_spec(...))`` (or in
    ``open_supervisor(children=[...])``); the start value is the agent's
    :class:`AgentRef`, also available as ``spec_ref(spec)``.

    - ``state`` — the initial state (a state, a mapping, or ``None`` for the
      definition's default). Defaults to ``None``.
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
    """
    if not isinstance(definition, AgentDef):
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): definition={definition!r} is not valid; expected an AgentDef"
        )
    if not isinstance(mailbox_size, int) or isinstance(mailbox_size, bool) or mailbox_size < 1:
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): mailbox_size={mailbox_size!r} is not valid; expected an int >= 1"
        )
    if restart_from not in ("checkpoint", "initial"):
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): restart_from={restart_from!r} is not valid; "
            "expected 'checkpoint' or 'initial'"
        )
    if store is not None and not isinstance(store, CheckpointStore):
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): store={store!r} is not valid; expected a CheckpointStore "
            "(MemoryStore, SqliteStore) or None"
        )
    if name is not None and name is not False and (not isinstance(name, str) or not name):
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): name={name!r} is not valid; expected a non-empty string, "
            "None (register under the id) or False (register nothing)"
        )
    options = None
    if children:
        options = dict(children)
        if "name" in options:
            raise InvalidChildSpecError(f"agent_spec({id!r}): children= takes no name")
        check_supervisor_options(options, f"agent_spec({id!r}, children=...)")
    if (
        not isinstance(dead_letter_limit, int)
        or isinstance(dead_letter_limit, bool)
        or dead_letter_limit < 1
    ):
        raise InvalidChildSpecError(
            f"agent_spec({id!r}): dead_letter_limit={dead_letter_limit!r} is not valid; "
            "expected an int >= 1"
        )
    ref = AgentRef(
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
