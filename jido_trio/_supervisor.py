"""Supervisors: Trio nurseries with Erlang/OTP restart policies.

A supervisor owns one nursery. Every child runs in its own task inside its own
cancel scope (``_Child.scope``), so the supervisor can stop or kill one child
without touching the others. A child reports its exit synchronously to the
supervisor's *control task* through an unbounded channel; the control task is
the only place that restarts children, so restarts happen one decision at a
time, in a deterministic order. Structural changes (start, terminate, restart,
delete, group restarts, shutdown) are serialised by one ``trio.Lock``.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import math
import random
import sys
import types
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Final

import attrs
import trio

from ._errors import (
    ChildKilled,
    ChildNotFoundError,
    ChildRunningError,
    ChildStartError,
    DuplicateChildError,
    InvalidChildSpecError,
    RestartIntensityError,
    SupervisorClosedError,
    TooManyChildrenError,
)
from ._intercept import current_chain, run_child_start
from ._random import run_random
from ._telemetry import emit, telemetry_enabled
from ._util import NoPublicConstructor, final
from ._validate import (
    AUTO_SHUTDOWNS,
    CHILD_KINDS,
    RESTART_TYPES,
    STRATEGIES,
    AutoShutdown,
    ChildKind,
    ChildStatus,
    RestartType,
    Strategy,
    check_choice,
    check_number,
    check_rng,
)

__all__ = [
    "Backoff",
    "ChildContext",
    "ChildCounts",
    "ChildInfo",
    "ChildSpec",
    "Supervisor",
    "current_child",
    "open_supervisor",
    "supervisor_spec",
]


def _check_choice(field: str, value: object, choices: Sequence[str]) -> None:
    check_choice(field, value, choices, InvalidChildSpecError)


def _check_number(
    field: str,
    value: object,
    *,
    allow_none: bool = False,
    integer: bool = False,
    positive: bool = False,
) -> None:
    check_number(
        field,
        value,
        allow_none=allow_none,
        integer=integer,
        positive=positive,
        error=InvalidChildSpecError,
    )


def _takes_task_status(fn: Callable[..., Any]) -> bool:
    func = getattr(fn, "__func__", fn)  # a bound method: look at its function
    if inspect.isfunction(func):
        return _function_takes_task_status(func)
    return _inspect_task_status(fn)


@functools.lru_cache(maxsize=1024)
def _function_takes_task_status(func: Callable[..., Any]) -> bool:
    return _inspect_task_status(func)


def _inspect_task_status(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False
    p = params.get("task_status")
    return p is not None and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)


def _validate_id(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value or "/" in value:
        raise InvalidChildSpecError(
            f"id={value!r} is not valid; expected a non-empty string without '/'"
        )


def _is_async_callable(fn: object) -> bool:
    if type(fn) is types.FunctionType:  # the common case: a plain async def
        return bool(fn.__code__.co_flags & inspect.CO_COROUTINE)
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = inspect.getattr_static(type(fn), "__call__", None)  # an async __call__
    return inspect.iscoroutinefunction(call)


def _validate_start(_inst: object, _attr: attrs.Attribute[Any], value: object) -> None:
    if not _is_async_callable(value):
        raise InvalidChildSpecError(
            f"start={value!r} is not valid; expected an async function "
            "(called as start(*args) or start(*args, task_status=...))"
        )


def _validate_restart(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if value == "permanent":
        return
    _check_choice("restart", value, RESTART_TYPES)


def _validate_shutdown(_inst: object, _attr: attrs.Attribute[Any], value: object) -> None:
    if type(value) is float and 0.0 <= value < math.inf:
        return
    _check_number("shutdown", value, allow_none=True)


def _validate_bool(inst: object, attr: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidChildSpecError(f"{attr.name}={value!r} is not valid; expected True or False")


def _validate_on_stopped(_inst: object, _attr: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not callable(value):
        raise InvalidChildSpecError(
            f"on_stopped={value!r} is not valid; expected a function of the ChildContext, or None"
        )


def _validate_kind(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    _check_choice("kind", value, CHILD_KINDS)


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    if type(value) is tuple:
        return value
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidChildSpecError(f"args={value!r} is not valid; expected a tuple of arguments")
    return tuple(value)


@attrs.frozen(slots=True)
class ChildSpec:
    """How a supervisor starts, restarts and stops one child.

    ``ChildSpec(id, start, *, args=(), restart="permanent", shutdown=5.0,
    significant=False)``

    - ``id`` — unique among the supervisor's children; becomes the last segment
      of the child's path (``root/pipeline/worker-1``). No ``/``.
    - ``start`` — an async function, called as ``start(*args)``. If it accepts a
      ``task_status`` keyword it follows Trio's ``nursery.start`` protocol: the
      child counts as started when it calls ``task_status.started(value)`` and
      :meth:`Supervisor.start_child` returns ``value``. Otherwise it counts as
      started at once and the value is ``None``.
    - ``args`` — positional arguments for ``start``. Defaults to ``()``.
    - ``restart`` — ``"permanent"`` (always restarted, after a normal return too),
      ``"transient"`` (restarted only after an abnormal exit: an exception or a
      kill) or ``"temporary"`` (never restarted, removed when it exits).
      Defaults to ``"permanent"``.
    - ``shutdown`` — seconds the child has to finish after a cooperative stop is
      requested (``current_child().stop_requested`` is set) before it is
      cancelled; ``0`` cancels at once; ``None`` waits for ever (the OTP
      ``infinity``, the default of :func:`supervisor_spec`). Defaults to ``5.0``.
    - ``significant`` — with the supervisor's ``auto_shutdown``, whether this
      child's exit can shut the supervisor down. Only for transient or
      temporary children. Defaults to ``False``.
    - ``on_stopped`` — a seam for runtimes built on supervisors (AgentServer
      uses it): called synchronously with the child's :class:`ChildContext`
      each time the child is left stopped with no restart coming: it exited
      and its restart type says no, it was terminated, it failed to start, or
      its supervisor shut down, gave up or went away (cancelled, its body
      raised) while the child was running or waiting for a restart. It runs
      once per stop for good (again after a ``restart_child`` and a later
      stop); it must not raise. Defaults to ``None``.
    - ``kind`` — ``"worker"`` or ``"supervisor"``; reported by ``which_children``
      and ``count_children``. :func:`supervisor_spec` sets it. Defaults to
      ``"worker"``.
    """

    id: str = attrs.field(validator=_validate_id)
    start: Callable[..., Awaitable[Any]] = attrs.field(validator=_validate_start)
    args: tuple[Any, ...] = attrs.field(default=(), converter=_to_tuple, kw_only=True)
    restart: RestartType = attrs.field(
        default="permanent", validator=_validate_restart, kw_only=True
    )
    shutdown: float | None = attrs.field(default=5.0, validator=_validate_shutdown, kw_only=True)
    significant: bool = attrs.field(default=False, validator=_validate_bool, kw_only=True)
    kind: ChildKind = attrs.field(default="worker", validator=_validate_kind, kw_only=True)
    on_stopped: Callable[[ChildContext], None] | None = attrs.field(
        default=None, kw_only=True, eq=False, repr=False, validator=_validate_on_stopped
    )
    _takes_status: bool = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.significant and self.restart == "permanent":
            raise InvalidChildSpecError(
                f"child {self.id!r}: significant=True is not valid with restart='permanent'; "
                "use restart='transient' or 'temporary'"
            )
        object.__setattr__(self, "_takes_status", _takes_task_status(self.start))


@attrs.frozen(slots=True)
class Backoff:
    """Delay between a crash and the restart it causes: exponential, capped,
    with jitter.

    The n-th restart inside the intensity window waits
    ``min(maximum, initial * factor ** (n - 1))``, then multiplied by a factor
    drawn uniformly from ``[1 - jitter, 1 + jitter]`` with the supervisor's
    ``rng``.

    - ``initial`` — first delay in seconds. Defaults to ``0.1``.
    - ``factor`` — growth per restart. Defaults to ``2.0``.
    - ``maximum`` — cap in seconds. Defaults to ``30.0``.
    - ``jitter`` — relative jitter in ``[0, 1]``. Defaults to ``0.1``.
    """

    initial: float = attrs.field(default=0.1, kw_only=True)
    factor: float = attrs.field(default=2.0, kw_only=True)
    maximum: float = attrs.field(default=30.0, kw_only=True)
    jitter: float = attrs.field(default=0.1, kw_only=True)

    def __attrs_post_init__(self) -> None:
        _check_number("backoff.initial", self.initial)
        _check_number("backoff.maximum", self.maximum)
        _check_number("backoff.factor", self.factor)
        if self.factor < 1:
            raise InvalidChildSpecError(
                f"backoff.factor={self.factor!r} is not valid; expected a number >= 1"
            )
        _check_number("backoff.jitter", self.jitter)
        if self.jitter > 1:
            raise InvalidChildSpecError(
                f"backoff.jitter={self.jitter!r} is not valid; expected a number in [0, 1]"
            )

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The delay before restart number ``attempt`` (1-based) in the window."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        if self.jitter:
            base *= 1.0 + self.jitter * (2.0 * rng.random() - 1.0)
        return max(0.0, base)


class _State(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    RESTARTING = "restarting"
    STOPPED = "stopped"


_ACTIVE: Final = frozenset({_State.STARTING, _State.RUNNING, _State.STOPPING})


@attrs.frozen(slots=True)
class ChildInfo:
    """A snapshot of one child (from :meth:`Supervisor.which_children` or
    :func:`jido_trio.tree`).

    ``status`` is one of ``"starting"``, ``"running"``, ``"stopping"``,
    ``"restarting"`` (waiting for its restart, e.g. during a backoff) and
    ``"stopped"``. ``restarts`` counts the times it was restarted. ``value`` is
    what it passed to ``task_status.started``. ``supervisor`` is the path of the
    supervisor it belongs to (``None`` for a root supervisor in ``tree()``).
    """

    id: str
    path: str
    kind: ChildKind
    status: ChildStatus
    restart: RestartType
    restarts: int
    supervisor: str | None
    value: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True)
class ChildCounts:
    """Like OTP's ``count_children``: ``specs`` held, ``active`` (running) children,
    and how many specs are ``supervisors`` and ``workers``."""

    specs: int
    active: int
    supervisors: int
    workers: int


@final
class ChildContext(metaclass=NoPublicConstructor):
    """A supervised child's view of itself, from :func:`current_child`; also
    what :class:`Interceptor` hooks receive. One per child spec: it survives
    restarts. Its attributes are read-only facts.

    Attributes:
        id: the child's id.
        path: its stable path in the tree (``root/pipeline/worker-1``).
        status: ``"starting"``, ``"running"``, ``"stopping"``, ``"restarting"``
            or ``"stopped"`` (a :data:`ChildStatus`).
        restarts: how many times it has been restarted so far.
        stop_requested: a ``trio.Event`` set when the supervisor begins a
            cooperative stop of this child; the child is cancelled when its
            ``shutdown`` grace runs out.
        supervisor: the :class:`Supervisor` it belongs to.
    """

    __slots__ = (
        "_done",
        "_due",
        "_error",
        "_exit_reason",
        "_failure",
        "_finalized",
        "_incarnation",
        "_kill_reason",
        "_order",
        "_path",
        "_regroup",
        "_restarts",
        "_retry",
        "_scope",
        "_spec",
        "_state",
        "_stop",
        "_stop_hook",
        "_subs",
        "_supervisor",
        "_value",
    )

    def __init__(self, spec: ChildSpec, supervisor: Supervisor, order: int) -> None:
        self._spec = spec
        self._supervisor = supervisor
        self._path = f"{supervisor.path}/{spec.id}"
        self._state = _State.STOPPED
        self._restarts = 0
        self._order = order
        self._scope: trio.CancelScope | None = None
        self._value: Any = None
        self._kill_reason: str | None = None
        self._failure: BaseException | None = None  # the crash a kill stands for
        self._exit_reason: str | None = None
        self._error: BaseException | None = None
        self._due = 0.0
        self._incarnation = 0
        self._regroup = False  # being stopped to be restarted with its group
        self._finalized = False  # on_stopped ran since its last start
        self._retry = False  # this start is a restart by the supervisor's policy
        self._subs: list[Supervisor] | None = None
        self._stop: trio.Event | None = None
        self._stop_hook: Callable[[], None] | None = None
        self._done: trio.Event | None = None

    @property
    def id(self) -> str:
        """The child's id (unique among its siblings)."""
        return self._spec.id

    @property
    def path(self) -> str:
        """The child's stable path in the tree, ``<supervisor path>/<id>``."""
        return self._path

    @property
    def status(self) -> ChildStatus:
        """Where the child is in its life (see :data:`ChildStatus`)."""
        return self._state.value

    @property
    def restarts(self) -> int:
        """How many times the supervisor has restarted this child."""
        return self._restarts

    @property
    def supervisor(self) -> Supervisor:
        """The :class:`Supervisor` this child belongs to."""
        return self._supervisor

    @property
    def stop_requested(self) -> trio.Event:
        """Set when the supervisor begins a cooperative stop of this child."""
        if self._stop is None:  # made on first use: most children never ask
            self._stop = trio.Event()
            if self._state is _State.STOPPING:
                self._stop.set()
        return self._stop

    def _set_state(self, new: _State) -> None:
        # keep the supervisor's counters exact, so no control step scans
        # every child: live children, and the set waiting to restart
        old = self._state
        if old is new:
            return
        self._state = new
        sup = self._supervisor
        if old is _State.STOPPED:
            sup._live += 1
        elif new is _State.STOPPED:
            sup._live -= 1
        if new is _State.RESTARTING:
            sup._restarting[self] = None
        elif old is _State.RESTARTING:
            del sup._restarting[self]

    def __repr__(self) -> str:
        return f"<ChildContext {self._path} {self._state.value}>"

    def _kill(self, reason: str) -> None:
        if self._state in (_State.STARTING, _State.RUNNING) and self._scope is not None:
            if self._kill_reason is None:
                self._kill_reason = reason
            self._scope.cancel()

    def _fail(self, error: BaseException) -> None:
        """Crash the child from outside its task with ``error`` (a task the
        child owns elsewhere failed): a kill whose exit error is ``error``."""
        if self._state in (_State.STARTING, _State.RUNNING) and self._failure is None:
            self._failure = error
            self._kill(f"{type(error).__name__}: {error}")

    def _host(self) -> trio.Nursery:
        """The nursery the child's task runs in (its supervisor's), for a task
        the child owns that must not sit inside the child's own task."""
        nursery = self._supervisor._nursery
        assert nursery is not None
        return nursery

    def _info(self) -> ChildInfo:
        return ChildInfo(
            id=self._spec.id,
            path=self._path,
            kind=self._spec.kind,
            status=self.status,
            restart=self._spec.restart,
            restarts=self._restarts,
            supervisor=self._supervisor.path,
            value=self._value,
        )


_current_child: ContextVar[ChildContext | None] = ContextVar("jido_trio.child", default=None)


def current_child() -> ChildContext:
    """The context of the supervised child whose task (or sub-task) calls this.

    Raises :class:`ChildNotFoundError` when called outside a supervised child.
    """
    child = _current_child.get()
    if child is None:
        raise ChildNotFoundError(
            "current_child() was called outside a supervised child; "
            "only code running under a supervisor's child task has one"
        )
    return child


def _started_event(child: ChildContext) -> None:
    if telemetry_enabled():
        emit(
            "child.started",
            child._path,
            {"id": child._spec.id, "restarts": child._restarts, "value": child._value},
        )


class _StartStatus:
    """The ``task_status`` handed to a child, and the handshake with the task
    that starts it (``nursery.start``'s protocol, without its temporary
    nursery): ``started(value)`` marks the child running and wakes the starter
    with ``value``; an error before that is handed to the starter instead of
    the supervisor's nursery. If the starter is cancelled, the child is too."""

    __slots__ = ("_child", "done", "error", "task", "value")

    def __init__(self, child: ChildContext) -> None:
        self._child = child
        self.done = False
        self.task: trio.lowlevel.Task | None = None
        self.value: Any = None
        self.error: BaseException | None = None

    def started(self, value: Any = None) -> None:
        child = self._child
        if self.done or child._state is not _State.STARTING:
            raise RuntimeError(f"child {child._path!r} called task_status.started() twice")
        child._value = value
        child._set_state(_State.RUNNING)
        _started_event(child)
        self.resolve(value)

    def resolve(self, value: Any = None, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        self.value = value
        self.error = error
        task = self.task
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task)

    def _abort(self, _: Any) -> trio.lowlevel.Abort:
        # the starter is cancelled: so is the child (it exits before started())
        self.task = None
        scope = self._child._scope
        if scope is not None:
            scope.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    async def wait(self) -> Any:
        """Wait for ``started(value)`` and return ``value``, or raise the
        child's error before it."""
        if self.done:
            await trio.lowlevel.checkpoint()
        else:
            self.task = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.value


async def _call_start(child: ChildContext, status: _StartStatus | None) -> None:
    """A child's body, as the innermost step of the interceptor chain."""
    spec = child._spec
    if status is not None:
        await spec.start(*spec.args, task_status=status)
    else:
        await spec.start(*spec.args)


class _Lock:
    """The supervisor's lock: FIFO, handed over on release, cancellable while
    waiting. Private to the supervisor's own methods, so it skips
    ``trio.Lock``'s owner bookkeeping (a parking-lot breaker registered on
    every acquire): a start takes it once, and that cost showed per child."""

    __slots__ = ("_held", "_lot")

    def __init__(self) -> None:
        self._held = False
        self._lot = trio.lowlevel.ParkingLot()

    def acquire_nowait(self) -> None:
        if self._held:
            raise trio.WouldBlock
        self._held = True

    async def acquire(self) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        if not self._held:
            self._held = True
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        await self._lot.park()  # release() hands the lock over, still held

    def release(self) -> None:
        if self._lot:
            self._lot.unpark()
        else:
            self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class _Op:
    """A structural operation the control task runs on a caller's behalf."""

    __slots__ = ("done", "error", "fn")

    def __init__(self, fn: Callable[[], Awaitable[None]]) -> None:
        self.fn = fn
        self.done = trio.Event()
        self.error: Exception | None = None


_SHUTDOWN: Final = "shutdown"
_ControlItem = tuple["ChildContext", int, BaseException | None] | _Op | str

_EXIT_NORMAL: Final = "normal"
_EXIT_SHUTDOWN: Final = "shutdown"


@final
class Supervisor(metaclass=NoPublicConstructor):
    """A running supervisor; obtained from :func:`open_supervisor` (or as the
    start value of a :func:`supervisor_spec` child).

    Every method is safe to call from any task in the same Trio run. Methods that
    change the set of children are serialised with the supervisor's restarts.
    """

    def __init__(
        self,
        *,
        path: str,
        strategy: Strategy,
        max_restarts: int,
        max_seconds: float,
        backoff: Backoff | None,
        auto_shutdown: AutoShutdown,
        max_children: int | None,
        rng: random.Random | None,
    ) -> None:
        self.path = path
        self.strategy: Strategy = strategy
        self.max_restarts = max_restarts
        self.max_seconds = max_seconds
        self.backoff = backoff
        self.auto_shutdown: AutoShutdown = auto_shutdown
        self.max_children = max_children
        self._rng = rng  # None: the run's source, resolved at the first draw
        self._children: dict[str, ChildContext] = {}
        self._live = 0  # children whose state is not STOPPED
        self._restarting: dict[ChildContext, None] = {}  # insertion-ordered set
        self._order = 0
        self._restarts: deque[float] = deque()
        self._lock = _Lock()
        self._send, self._receive = trio.open_memory_channel[_ControlItem](math.inf)
        self._nursery: trio.Nursery | None = None
        self._closing = False
        self._closed = trio.Event()
        self._idle = trio.Event()
        self._failure: RestartIntensityError | None = None
        self._parent: ChildContext | None = None
        # _stop_all's chain: the children still to stop, the one being stopped,
        # and what the caller waits on
        self._chain: list[ChildContext] | None = None
        self._chain_child: ChildContext | None = None
        self._chain_done: trio.Event | None = None

    def __repr__(self) -> str:
        return f"<Supervisor {self.path} {self.strategy} children={len(self._children)}>"

    # ----------------------------------------------------------------- queries
    def which_children(self) -> list[ChildInfo]:
        """A snapshot of every child spec held, in start order."""
        return [c._info() for c in self._ordered()]

    def count_children(self) -> ChildCounts:
        """Counts of specs, active children, supervisors and workers."""
        children = self._children.values()
        sups = sum(1 for c in children if c._spec.kind == "supervisor")
        active = sum(1 for c in children if c._state in _ACTIVE)
        return ChildCounts(
            specs=len(self._children),
            active=active,
            supervisors=sups,
            workers=len(self._children) - sups,
        )

    @property
    def restart_history(self) -> tuple[float, ...]:
        """Times of the restarts currently inside the intensity window."""
        return tuple(self._restarts)

    @property
    def closed(self) -> bool:
        """Whether the supervisor has shut down (it starts nothing more)."""
        return self._closed.is_set()

    def _ordered(self) -> list[ChildContext]:
        # dicts keep insertion order, which is start order: a restarted child
        # keeps its entry (and its place).
        return list(self._children.values())

    def _get(self, child_id: str) -> ChildContext:
        try:
            return self._children[child_id]
        except KeyError:
            known = ", ".join(repr(k) for k in self._children) or "none"
            raise ChildNotFoundError(
                f"supervisor {self.path!r} has no child {child_id!r}; its children: {known}"
            ) from None

    def _check_open(self, what: str) -> None:
        if self._closing or self._nursery is None:
            raise SupervisorClosedError(
                f"supervisor {self.path!r} is shut down or shutting down; cannot {what}"
            )

    # ----------------------------------------------------------- runtime API
    async def start_child(self, spec: ChildSpec) -> Any:
        """Add ``spec`` and start it; return the value it passed to
        ``task_status.started`` (``None`` if it takes no ``task_status``).

        Raises :class:`DuplicateChildError` if the id is taken,
        :class:`TooManyChildrenError` past ``max_children``,
        :class:`SupervisorClosedError` once shutting down, and the child's own
        exception if it fails before it is started (the spec is then not kept
        and nothing is restarted). If ``start_child`` is cancelled while the
        child is starting, the child is cancelled too and not kept.
        """
        if not isinstance(spec, ChildSpec):
            raise InvalidChildSpecError(f"start_child() takes a ChildSpec, got {spec!r}")
        # an uncontended lock costs no trip through the scheduler
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            self._lock.acquire_nowait()
        except trio.WouldBlock:
            await self._lock.acquire()
        try:
            return await self._start_child_locked(spec)
        finally:
            self._lock.release()

    async def _start_child_locked(self, spec: ChildSpec) -> Any:
        self._check_open(f"start child {spec.id!r}")
        if spec.id in self._children:
            raise DuplicateChildError(
                f"supervisor {self.path!r} already has a child with id={spec.id!r}; "
                "ids must be unique among siblings"
            )
        if self.max_children is not None and len(self._children) >= self.max_children:
            raise TooManyChildrenError(
                f"supervisor {self.path!r} already holds max_children={self.max_children} "
                f"child specs; cannot start {spec.id!r} (delete stopped children or raise "
                "max_children)"
            )
        if spec.significant and self.auto_shutdown == "never":
            raise InvalidChildSpecError(
                f"child {spec.id!r}: significant=True needs the supervisor's auto_shutdown "
                "to be 'any_significant' or 'all_significant', not 'never'"
            )
        child = ChildContext._create(spec, self, self._order)
        self._order += 1
        self._children[spec.id] = child
        started = False
        try:
            value = await self._start(child)
            started = True
            return value
        finally:
            if not started:  # failed or cancelled during its start: not kept,
                self._children.pop(spec.id, None)
                self._final(child)  # and whatever it took is released

    async def terminate_child(self, child_id: str) -> None:
        """Stop a child (cooperatively, within its ``shutdown`` grace) without
        restarting it. Its spec is kept, so :meth:`restart_child` can start it
        again, except for a temporary child, whose spec is deleted.

        The stop is carried out by the supervisor's own task: if the caller is
        cancelled (or is the child being stopped, cancelled when its grace runs
        out), the stop still completes. Raises :class:`ChildNotFoundError` for
        an unknown id.
        """
        self._get(child_id)
        await self._in_control(lambda: self._terminate(child_id))

    async def _terminate(self, child_id: str) -> None:
        child = self._get(child_id)
        if child._state is _State.RESTARTING:
            child._set_state(_State.STOPPED)
        await self._stop(child)
        if child._spec.restart == "temporary":
            self._children.pop(child_id, None)
        self._final(child)
        self._check_idle()

    async def _in_control(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` in the control task, under the lock, and wait for it."""
        op = _Op(fn)
        try:
            self._send.send_nowait(op)
        except trio.ClosedResourceError:  # shut down: nothing is running
            async with self._lock:
                await fn()
            return
        await op.done.wait()
        if op.error is not None:
            raise op.error

    async def restart_child(self, child_id: str) -> Any:
        """Start a stopped child again from its spec; returns its start value.
        Raises :class:`ChildRunningError` if it is running."""
        async with self._lock:
            self._check_open(f"restart child {child_id!r}")
            child = self._get(child_id)
            if child._state is not _State.STOPPED:
                raise ChildRunningError(
                    f"child {child._path!r} is {child._state.value}; terminate_child() it first"
                )
            started = False
            try:
                value = await self._start(child)
                started = True
                return value
            finally:
                if not started:  # left stopped: whatever it took is released
                    self._final(child)

    async def delete_child(self, child_id: str) -> None:
        """Forget a stopped child's spec. Raises :class:`ChildRunningError` if it
        is running."""
        async with self._lock:
            child = self._get(child_id)
            if child._state is not _State.STOPPED:
                raise ChildRunningError(
                    f"child {child._path!r} is {child._state.value}; terminate_child() it first"
                )
            del self._children[child_id]

    def kill_child(self, child_id: str, *, reason: str = "killed") -> None:
        """Kill a child now: cancel it at its next checkpoint, and count the exit
        as a crash (reason :class:`ChildKilled`), so the restart policy applies.

        Cooperative, as all Trio cancellation: a child that never reaches a
        checkpoint is not interrupted. Killing a child that is not running does
        nothing.
        """
        self._get(child_id)._kill(reason)

    async def shutdown(self) -> None:
        """Stop every child in reverse start order, each within its ``shutdown``
        grace, and close the supervisor: its ``async with`` ends when the body
        does. Idempotent; returns when the supervisor is closed.

        The shutdown is carried out by the supervisor's own task: cancelling
        the caller does not interrupt it, and a child may shut its own
        supervisor down (it is stopped like its siblings, and cancelled when its
        grace runs out, while the shutdown goes on).
        """
        if not self._closed.is_set():
            self._closing = True
            with contextlib.suppress(trio.ClosedResourceError):
                self._send.send_nowait(_SHUTDOWN)
        await self._closed.wait()

    async def wait(self) -> None:
        """Wait until the supervisor has shut down."""
        await self._closed.wait()

    # --------------------------------------------------------------- internals
    def _close(self) -> None:
        self._closing = True
        self._closed.set()
        self._idle.set()
        if telemetry_enabled():
            emit(
                "supervisor.stopped",
                self.path,
                {"reason": "escalated" if self._failure else "shutdown"},
            )
        self._send.close()  # the control task has nothing left to do

    async def _start(self, child: ChildContext) -> Any:
        """Start one child (lock held). Raises what the child raised before it
        was started."""
        assert self._nursery is not None
        if child._incarnation:  # a restart: clear the last incarnation's record
            child._kill_reason = None
            child._failure = None
            child._exit_reason = None
            child._error = None
            child._value = None
            child._stop = None
            child._stop_hook = None
            child._done = None
        child._incarnation += 1
        child._finalized = False
        child._retry = child._state is _State.RESTARTING
        child._scope = trio.CancelScope()
        if child._spec._takes_status:
            child._set_state(_State.STARTING)
            status = _StartStatus(child)
            self._nursery.start_soon(self._run_child, child, status, name=child._path)
            return await status.wait()
        child._set_state(_State.RUNNING)
        self._nursery.start_soon(self._run_child, child, None, name=child._path)
        _started_event(child)
        return None

    async def _run_child(self, child: ChildContext, status: _StartStatus | None) -> None:
        """The task of one child incarnation. ``status`` is the start handshake
        of a child that takes ``task_status`` (``None`` otherwise)."""
        _current_child.set(child)
        spec = child._spec
        scope = child._scope
        assert scope is not None
        error: BaseException | None = None
        settled = False
        try:
            with scope:
                chain = current_chain()
                if chain is not None and chain.on_child_start:
                    await run_child_start(
                        chain.on_child_start, child, functools.partial(_call_start, child, status)
                    )
                elif status is not None:
                    await spec.start(*spec.args, task_status=status)
                else:
                    await spec.start(*spec.args)
            settled = True
        except Exception as exc:  # noqa: BLE001 - a child's crash, whatever it is
            settled = True
            if child._state is _State.STARTING:
                # failed before it was started: the starter gets the error
                assert status is not None
                self._exited(child, exc, reported=False)
                status.resolve(error=exc)
                return
            error = exc
        finally:
            if not settled:
                # Cancelled from outside (the supervisor's scope),
                # KeyboardInterrupt, SystemExit: never a crash, never swallowed.
                starting = child._state is _State.STARTING
                self._abandoned(child, sys.exc_info()[1])
                if starting and status is not None:
                    status.resolve(
                        error=ChildStartError(
                            f"child {child._path!r} was cancelled before it called "
                            "task_status.started()"
                        )
                    )
        if child._state is _State.STARTING:
            # returned, or cancelled by a stop, before task_status.started()
            assert status is not None
            err = ChildStartError(
                f"child {child._path!r} "
                + ("was stopped" if scope.cancelled_caught else "returned")
                + " before it called task_status.started()"
            )
            self._exited(child, err, reported=False)
            status.resolve(error=err)
            return
        if scope.cancelled_caught and child._kill_reason is not None and error is None:
            error = child._failure or ChildKilled(child._path, child._kill_reason)
        self._exited(child, error, reported=True)

    def _abandoned(self, child: ChildContext, exc: BaseException | None) -> None:
        """The child is going down with its supervisor's scope (or the process):
        no restart, but its record, telemetry and on_stopped stay truthful."""
        child._set_state(_State.STOPPED)
        child._exit_reason = (
            "cancelled"
            if isinstance(exc, trio.Cancelled)
            else (type(exc).__name__ if exc is not None else "cancelled")
        )
        child._error = None
        if child._spec.restart == "temporary":
            self._children.pop(child._spec.id, None)
        if telemetry_enabled():
            emit(
                "child.exited",
                child._path,
                {
                    "id": child._spec.id,
                    "reason": child._exit_reason,
                    "error": None,
                    "restart": False,
                },
            )
        self._final(child)
        self._exit_done(child)

    def _exited(self, child: ChildContext, error: BaseException | None, *, reported: bool) -> None:
        """Synchronous exit bookkeeping, run in the dying child's task."""
        stopping = child._state is _State.STOPPING
        if stopping:
            child._exit_reason = _EXIT_SHUTDOWN
        elif error is not None:
            child._exit_reason = type(error).__name__
        else:
            child._exit_reason = _EXIT_NORMAL
        child._error = error
        if not reported or stopping or self._closing:
            # no decision to make: a failed start, a stop the supervisor asked
            # for, or an exit while it shuts down (its _stop_all settles it).
            # A sibling stopped to be restarted with its group is due to be
            # restarted from now on, while the rest of the group stops.
            regroup = stopping and child._regroup and not self._closing
            # a failed restart stays "restarting" until the control task
            # decides (retry or escalate), as any crash does
            retry = not reported and child._retry and not self._closing
            child._set_state(_State.RESTARTING if regroup or retry else _State.STOPPED)
            if reported and not regroup:
                # stopped for good now: not when the stop of its siblings is done
                self._final(child)
            if telemetry_enabled():
                emit(
                    "child.exited" if reported else "child.start_failed",
                    child._path,
                    {
                        "id": child._spec.id,
                        "reason": child._exit_reason,
                        "error": error,
                        "restart": child._regroup,
                    },
                )
        else:
            # the control task decides; until then the child is "restarting"
            # or "stopped" as the policy says (and a child with no restart
            # coming is stopped for good at once, even if the control task is
            # busy, e.g. waiting out a sibling's shutdown grace).
            wants = self._wants_restart(child, error)
            child._set_state(_State.RESTARTING if wants else _State.STOPPED)
            try:
                self._send.send_nowait((child, child._incarnation, error))
            except trio.ClosedResourceError:
                child._set_state(_State.STOPPED)
                wants = False
            if not wants:
                self._final(child)
        self._exit_done(child)

    @staticmethod
    def _final(child: ChildContext) -> None:
        """``child`` is stopped for good: its ``on_stopped`` runs, once per
        start (the paths that reach here overlap: an exit, the control task's
        decision, a shutdown's settling)."""
        if child._finalized:
            return
        child._finalized = True
        hook = child._spec.on_stopped
        if hook is not None:
            hook(child)

    def _wants_restart(self, child: ChildContext, error: BaseException | None) -> bool:
        restart = child._spec.restart
        if self._closing or restart == "temporary":
            return False
        return restart == "permanent" or error is not None

    def _begin_stop(self, child: ChildContext) -> bool:
        """Begin a cooperative stop of one child (lock held); ``True`` if it
        has to be waited for."""
        if child._state not in _ACTIVE:
            return False
        scope = child._scope
        assert scope is not None
        child._set_state(_State.STOPPING)
        if child._stop is not None:
            child._stop.set()  # else stop_requested is made set when first asked for
        if child._stop_hook is not None:
            child._stop_hook()
        grace = child._spec.shutdown
        if grace is not None:
            if grace <= 0:
                scope.cancel()
            else:
                scope.deadline = min(scope.deadline, trio.current_time() + grace)
        return child._state is not _State.STOPPED

    async def _stop(self, child: ChildContext) -> None:
        """Cooperatively stop one child and wait for it (lock held)."""
        if self._begin_stop(child):
            if child._done is None:
                child._done = trio.Event()
            await child._done.wait()

    def _settle_leftovers(self) -> None:
        """The supervisor is gone (its nursery has exited, so no child task
        runs): settle what the control task never got to. Exits it never
        handled, and children waiting for a restart that will never come, are
        left stopped for good (``on_stopped`` runs, in reverse start order);
        structural requests still queued are completed (every child is
        stopped, so they have nothing left to do)."""
        leftovers: dict[ChildContext, None] = {}
        while True:
            try:
                item = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            if isinstance(item, _Op):
                item.done.set()
            elif isinstance(item, tuple):
                leftovers[item[0]] = None
        for child in list(self._children.values()):
            if child._state is not _State.STOPPED:  # restarting: it has no task
                child._set_state(_State.STOPPED)
                leftovers[child] = None
        for child in sorted(leftovers, key=lambda c: c._order, reverse=True):
            if child._spec.restart == "temporary":
                self._children.pop(child._spec.id, None)
            self._final(child)

    async def _stop_all(self) -> None:
        """Stop every child in reverse start order, one at a time (lock held).

        The stops are chained: each child's exit, in its own task, begins the
        stop of the next one (:meth:`_chain_next`), so a stop costs one pass of
        the scheduler instead of two, and the caller waits once, for the last."""
        self._chain = list(self._children.values())
        self._chain_done = None
        self._chain_next()
        if self._chain is not None:
            self._chain_done = done = trio.Event()
            await done.wait()

    def _chain_next(self) -> None:
        chain = self._chain
        while chain:
            child = chain.pop()
            if child._state is _State.RESTARTING:
                child._set_state(_State.STOPPED)
            if self._begin_stop(child):
                self._chain_child = child
                return
            self._settle_stopped(child)
        self._chain = None
        self._chain_child = None
        if self._chain_done is not None:
            self._chain_done.set()

    def _settle_stopped(self, child: ChildContext) -> None:
        """A child stopped by :meth:`_stop_all`: stopped for good."""
        if child._spec.restart == "temporary" and child._state is _State.STOPPED:
            self._children.pop(child._spec.id, None)
        self._final(child)

    def _exit_done(self, child: ChildContext) -> None:
        """A child's exit bookkeeping is over: wake whoever waits for it, or
        go on with the chain of stops it is part of."""
        if child is self._chain_child:
            self._chain_child = None
            self._settle_stopped(child)
            self._chain_next()
        elif child._done is not None:
            child._done.set()

    def _all_stopped(self) -> bool:
        return self._live == 0

    def _check_idle(self) -> None:
        if self._all_stopped():
            self._idle.set()

    async def _wait_idle(self) -> None:
        while not self._closed.is_set() and not self._all_stopped():
            self._idle = trio.Event()
            await self._idle.wait()

    # ------------------------------------------------------------ control task
    async def _control(self) -> None:
        """Handle child exits one at a time: restart, escalate, auto-shutdown."""
        receive = self._receive
        while True:
            event: _ControlItem | None = None
            try:
                event = receive.receive_nowait()
            except trio.WouldBlock:
                due = None if self._closing else self._next_due()
                try:
                    if due is None:
                        event = await receive.receive()
                    else:
                        with trio.move_on_at(due):
                            event = await receive.receive()
                except trio.EndOfChannel:
                    return
            except trio.EndOfChannel:
                return
            if isinstance(event, _Op):
                # the caller waits for done, even if this task is cancelled
                # before it gets the lock (the supervisor is going away)
                try:
                    async with self._lock:
                        try:
                            await event.fn()
                        except Exception as exc:  # noqa: BLE001 - handed to the caller
                            event.error = exc
                finally:
                    event.done.set()
                continue
            if event is _SHUTDOWN:
                async with self._lock:
                    if not self._closed.is_set():
                        await self._stop_all()
                        self._close()
                continue
            async with self._lock:
                if self._closing:
                    continue
                if isinstance(event, tuple):
                    child, incarnation, error = event
                    # an exit already handled by a group restart is stale (OTP
                    # ignores EXITs from pids it no longer knows)
                    if (
                        child._incarnation == incarnation
                        and self._children.get(child._spec.id) is child
                    ):
                        await self._handle_exit(child, error)
                await self._start_due()
                self._check_idle()

    def _next_due(self) -> float | None:
        restarting = self._restarting
        return min(c._due for c in restarting) if restarting else None

    async def _handle_exit(self, child: ChildContext, error: BaseException | None) -> None:
        wants = child._state is _State.RESTARTING
        escalate = False
        if wants:
            now = trio.current_time()
            self._restarts.append(now)
            while self._restarts and now - self._restarts[0] > self.max_seconds:
                self._restarts.popleft()
            escalate = len(self._restarts) > self.max_restarts
        if telemetry_enabled():
            emit(
                "child.exited",
                child._path,
                {
                    "id": child._spec.id,
                    "reason": child._exit_reason,
                    "error": error,
                    "restart": wants and not escalate,
                },
            )
        if not wants:
            if child._spec.restart == "temporary":
                self._children.pop(child._spec.id, None)
            self._final(child)
            await self._maybe_auto_shutdown(child)
            return
        if escalate:
            await self._escalate(child, error)
            return
        group = self._group(child)
        # stop the rest of the group in reverse start order
        for other in reversed(group):
            if other is child or other._state is _State.RESTARTING:
                continue
            other._regroup = other._spec.restart != "temporary"
            await self._stop(other)
            other._regroup = False
            if other._spec.restart == "temporary":
                self._children.pop(other._spec.id, None)
                self._final(other)
        if self._closing:  # shut down while the group stopped: nothing restarts
            return
        delay = 0.0
        if self.backoff is not None:
            if self._rng is None:
                self._rng = run_random()
            delay = self.backoff.delay(len(self._restarts), self._rng)
        due = trio.current_time() + delay
        for member in group:
            if member._spec.restart == "temporary":
                continue
            member._set_state(_State.RESTARTING)
            member._due = due
        if telemetry_enabled():
            for member in group:
                if member._state is _State.RESTARTING:
                    emit(
                        "child.restarting",
                        member._path,
                        {
                            "id": member._spec.id,
                            "delay": delay,
                            "restarts": member._restarts + 1,
                            "cause": child._spec.id,
                        },
                    )

    def _group(self, child: ChildContext) -> list[ChildContext]:
        """The children a restart of ``child`` affects, in start order."""
        if self.strategy == "one_for_one":
            return [child]
        ordered = self._ordered()
        if self.strategy == "rest_for_one":
            ordered = [c for c in ordered if c._order >= child._order]
        return [
            c for c in ordered if c is child or c._state in _ACTIVE or c._state is _State.RESTARTING
        ]

    async def _start_due(self) -> None:
        now = trio.current_time()
        while not self._closing:  # a shutdown that came meanwhile wins
            due = sorted((c for c in self._restarting if c._due <= now), key=lambda c: c._order)
            if not due:
                return
            for child in due:
                if child._state is not _State.RESTARTING:
                    continue
                child._restarts += 1
                try:
                    await self._start(child)
                except Exception as exc:  # noqa: BLE001 - a crash during restart
                    # a failed restart is a crash like any other: it counts
                    # towards the intensity and the strategy applies again.
                    child._set_state(_State.RESTARTING)
                    child._exit_reason = type(exc).__name__
                    child._error = exc
                    await self._handle_exit(child, exc)
                    if self._closing:
                        return
                    break
            else:
                return

    async def _maybe_auto_shutdown(self, child: ChildContext) -> None:
        if not child._spec.significant or self.auto_shutdown == "never":
            return
        if self.auto_shutdown == "all_significant" and any(
            c._spec.significant and c._state is not _State.STOPPED for c in self._children.values()
        ):
            return
        self._closing = True
        await self._stop_all()
        self._close()

    async def _escalate(self, child: ChildContext, error: BaseException | None) -> None:
        failure = RestartIntensityError(
            self.path,
            self._restarts,
            max_restarts=self.max_restarts,
            max_seconds=self.max_seconds,
            child_id=child._spec.id,
        )
        failure.__cause__ = error
        self._failure = failure
        self._closing = True
        child._set_state(_State.STOPPED)
        self._final(child)  # stopped for good now, not once its siblings are
        if telemetry_enabled():
            emit(
                "supervisor.escalated",
                self.path,
                {
                    "restarts": tuple(self._restarts),
                    "max_restarts": self.max_restarts,
                    "max_seconds": self.max_seconds,
                    "child_id": child._spec.id,
                    "error": error,
                },
            )
        await self._stop_all()
        self._close()
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    def _kill_path(self, parts: Sequence[str], reason: str) -> None:
        child = self._get(parts[0])
        if len(parts) == 1:
            child._kill(reason)
            return
        for sub in child._subs or ():
            if parts[1] in sub._children:
                sub._kill_path(parts[1:], reason)
                return
        raise ChildNotFoundError(f"no node {'/'.join((child._path, *parts[1:]))!r} in the tree")

    def _walk(self, out: list[ChildInfo]) -> None:
        for child in self._ordered():
            out.append(child._info())
            for sub in child._subs or ():
                sub._walk(out)


def _unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The single meaningful exception in a nursery's group, if there is one."""
    leaves: list[BaseException] = []

    def collect(g: BaseExceptionGroup[BaseException]) -> None:
        for e in g.exceptions:
            if isinstance(e, BaseExceptionGroup):
                collect(e)
            else:
                leaves.append(e)

    collect(group)
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if len(real) == 1:
        return real[0]
    if not real and leaves:
        return leaves[0]
    return None


def _raise_saving_context(exc: BaseException) -> Any:
    context = exc.__context__
    try:
        raise exc
    finally:
        exc.__context__ = context
        del exc, context


_roots_var: trio.lowlevel.RunVar[list[Supervisor]] = trio.lowlevel.RunVar("jido_trio.roots")


def _roots() -> list[Supervisor]:
    try:
        return _roots_var.get()
    except LookupError:
        roots: list[Supervisor] = []
        _roots_var.set(roots)
        return roots


@asynccontextmanager
async def open_supervisor(
    children: Iterable[ChildSpec] = (),
    *,
    strategy: Strategy = "one_for_one",
    max_restarts: int = 3,
    max_seconds: float = 5,
    backoff: Backoff | None = None,
    auto_shutdown: AutoShutdown = "never",
    max_children: int | None = None,
    name: str | None = None,
    rng: random.Random | None = None,
) -> AsyncIterator[Supervisor]:
    """Open a supervisor: a nursery whose children are restarted by OTP policy.

    ``children`` start in order on entry, each one started before the next; if
    one fails to start, those already started are stopped in reverse order and
    its error is raised. Leaving the ``async with`` body waits, as a nursery
    does, while any child is running or due to restart (a permanent child keeps
    it open); :meth:`Supervisor.shutdown` stops the children in reverse order
    and ends it.

    Options (keyword-only):

    - ``strategy`` — ``"one_for_one"``, ``"one_for_all"`` or ``"rest_for_one"``.
      Defaults to ``"one_for_one"``.
    - ``max_restarts`` — restarts allowed within ``max_seconds``; one more makes
      the supervisor stop all children and raise :class:`RestartIntensityError`.
      Defaults to ``3``.
    - ``max_seconds`` — the intensity window, in seconds (may be a float).
      Defaults to ``5``.
    - ``backoff`` — a :class:`Backoff` between a crash and its restart.
      Defaults to ``None`` (restart at once, as OTP).
    - ``auto_shutdown`` — ``"never"``, ``"any_significant"`` or
      ``"all_significant"`` (OTP 24): shut the supervisor down when a
      significant child exits and is not restarted. Defaults to ``"never"``.
    - ``max_children`` — most child specs held at once. Defaults to ``None``
      (no limit).
    - ``name`` — the supervisor's path. Defaults to the path of the child that
      opens it (so a :func:`supervisor_spec` child or an agent's own supervisor
      nests in the tree), or ``"root"`` outside any child.
    - ``rng`` — the ``random.Random`` that draws backoff jitter. Defaults to
      ``None``: the Trio run's source, :func:`jido_trio.run_random` (seed it
      with :func:`jido_trio.set_run_random` for reproducible runs).

    Cancellation: cancelling the enclosing scope cancels every child at once
    (no grace, no restarts) and nothing is left running. If the body raises,
    every child is cancelled the same way and the body's exception propagates
    unchanged (not wrapped in an ``ExceptionGroup``). When the restart intensity
    is exceeded, the children are stopped in reverse order within their grace,
    the body is cancelled, and :class:`RestartIntensityError` is raised from the
    ``async with``.
    """
    _check_options(
        strategy=strategy,
        max_restarts=max_restarts,
        max_seconds=max_seconds,
        backoff=backoff,
        auto_shutdown=auto_shutdown,
        max_children=max_children,
        rng=rng,
    )
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidChildSpecError(f"name={name!r} is not valid; expected a non-empty string")
    specs = _check_children(children)
    parent = _current_child.get()
    path = name if name is not None else (parent._path if parent is not None else "root")
    sup = Supervisor._create(
        path=path,
        strategy=strategy,
        max_restarts=max_restarts,
        max_seconds=max_seconds,
        backoff=backoff,
        auto_shutdown=auto_shutdown,
        max_children=max_children,
        rng=rng,
    )
    sup._parent = parent
    if parent is not None:
        if parent._subs is None:
            parent._subs = []
        parent._subs.append(sup)
        owners = parent._subs
    else:
        owners = _roots()
        owners.append(sup)
    try:
        async with trio.open_nursery() as nursery:
            sup._nursery = nursery
            nursery.start_soon(sup._control)
            try:
                for spec in specs:
                    await sup.start_child(spec)
            except Exception:
                # OTP: a supervisor whose init fails stops what it started,
                # in reverse order, and reports the child's error.
                sup._closing = True
                async with sup._lock:
                    await sup._stop_all()
                raise
            if telemetry_enabled():
                emit(
                    "supervisor.started",
                    path,
                    {"strategy": strategy, "children": [s.id for s in specs]},
                )
            yield sup
            await sup._wait_idle()
            if not sup._closed.is_set():
                sup._close()
    # not a blind except: the nursery's group is unwrapped and re-raised below
    except BaseExceptionGroup as group:
        only = _unwrap(group)
        if only is None:
            raise
        if sup._failure is not None and isinstance(only, trio.Cancelled):
            _raise_saving_context(sup._failure)
        _raise_saving_context(only)
    finally:
        sup._closing = True
        if not sup._closed.is_set() and telemetry_enabled():
            emit("supervisor.stopped", path, {"reason": "cancelled"})
        sup._closed.set()
        sup._send.close()
        sup._settle_leftovers()
        owners.remove(sup)
    if sup._failure is not None:
        _raise_saving_context(sup._failure)


_OPTIONS: Final = frozenset(
    {"strategy", "max_restarts", "max_seconds", "backoff", "auto_shutdown", "max_children", "rng"}
)


def _check_options(
    *,
    strategy: object = "one_for_one",
    max_restarts: object = 3,
    max_seconds: object = 5,
    backoff: object = None,
    auto_shutdown: object = "never",
    max_children: object = None,
    rng: object = None,
) -> None:
    _check_choice("strategy", strategy, STRATEGIES)
    _check_choice("auto_shutdown", auto_shutdown, AUTO_SHUTDOWNS)
    _check_number("max_restarts", max_restarts, integer=True)
    _check_number("max_seconds", max_seconds, positive=True)
    _check_number("max_children", max_children, integer=True, allow_none=True)
    if backoff is not None and not isinstance(backoff, Backoff):
        raise InvalidChildSpecError(
            f"backoff={backoff!r} is not valid; expected a Backoff (e.g. Backoff(initial=0.1)) "
            "or None"
        )
    check_rng("rng", rng, InvalidChildSpecError)


def _check_children(children: object) -> list[ChildSpec]:
    if isinstance(children, str | bytes | Mapping) or not isinstance(children, Iterable):
        raise InvalidChildSpecError(
            f"children={children!r} is not valid; expected a list of ChildSpec "
            "(agent_spec(...), supervisor_spec(...), ChildSpec(...))"
        )
    specs = list(children)
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if not isinstance(spec, ChildSpec):
            raise InvalidChildSpecError(
                f"children[{i}]={spec!r} is not valid; expected a ChildSpec"
            )
        if spec.id in seen:
            raise DuplicateChildError(f"children[{i}]: duplicate child id {spec.id!r}")
        seen.add(spec.id)
    return specs


def check_supervisor_options(options: object, where: str) -> dict[str, Any]:
    """Validate :func:`open_supervisor` options given as a mapping, eagerly, so a
    bad option fails where it is written (``where`` names the place); returns
    them as a new dict."""
    if not isinstance(options, Mapping):
        raise InvalidChildSpecError(
            f"{where}: {options!r} is not valid; expected a mapping of supervisor options "
            f"(some of {sorted(_OPTIONS)})"
        )
    unknown = sorted(str(k) for k in set(options) - _OPTIONS)
    if unknown:
        raise InvalidChildSpecError(
            f"{where}: unknown option(s) {unknown}; expected some of {sorted(_OPTIONS)}"
        )
    try:
        _check_options(**options)
    except InvalidChildSpecError as exc:
        raise InvalidChildSpecError(f"{where}: {exc}") from None
    return dict(options)


def supervisor_spec(
    id: str,
    children: Iterable[ChildSpec] = (),
    *,
    restart: RestartType = "permanent",
    shutdown: float | None = None,
    significant: bool = False,
    **options: Any,
) -> ChildSpec:
    """A :class:`ChildSpec` that runs a nested supervisor (the same options as
    :func:`open_supervisor`) as a child of another supervisor.

    The nested supervisor's path is its parent's path plus ``id``. When it gives
    up (:class:`RestartIntensityError`) the parent counts that as this child's
    crash: escalation up the tree. ``shutdown`` defaults to ``None`` (wait for
    the nested supervisor to stop its own children, the OTP ``infinity``). The
    start value is the nested :class:`Supervisor`.
    """
    if "name" in options:
        raise InvalidChildSpecError("supervisor_spec() takes its name from id; drop name=")
    check_supervisor_options(options, f"supervisor_spec({id!r})")
    specs = _check_children(children)

    async def run_supervisor(*, task_status: trio.TaskStatus[Supervisor]) -> None:
        me = current_child()
        async with open_supervisor(specs, **options) as sup:
            task_status.started(sup)
            async with trio.open_nursery() as watch:

                async def on_stop() -> None:
                    await me.stop_requested.wait()
                    await sup.shutdown()

                watch.start_soon(on_stop)
                await sup.wait()
                watch.cancel_scope.cancel()

    run_supervisor.__qualname__ = f"supervisor[{id}]"
    return ChildSpec(
        id,
        run_supervisor,
        restart=restart,
        shutdown=shutdown,
        significant=significant,
        kind="supervisor",
    )


def tree() -> list[ChildInfo]:
    """Every supervisor and child of the current Trio run, depth first.

    Root supervisors appear with ``kind="supervisor"`` and ``supervisor=None``;
    every node has a stable ``path`` (``root/pipeline/worker-1``) that survives
    restarts, its ``status`` and its ``restarts`` count.
    """
    out: list[ChildInfo] = []
    for sup in _roots():
        out.append(
            ChildInfo(
                id=sup.path,
                path=sup.path,
                kind="supervisor",
                status="stopped" if sup.closed else "running",
                restart="permanent",
                restarts=0,
                supervisor=None,
                value=sup,
            )
        )
        sup._walk(out)
    return out


def kill(path: str, *, reason: str = "killed") -> None:
    """Kill the child at ``path`` (as :meth:`Supervisor.kill_child`): it is
    cancelled at its next checkpoint and its exit counts as a crash.

    Raises :class:`ChildNotFoundError` if no child has that path in this Trio
    run. Root supervisors have no parent to count a crash, so they cannot be
    killed (use :meth:`Supervisor.shutdown`).
    """
    if not isinstance(path, str) or not path:
        raise ChildNotFoundError(f"path={path!r} is not a tree path such as 'root/worker-1'")
    for sup in _roots():
        prefix = sup.path + "/"
        if path.startswith(prefix):
            try:
                sup._kill_path(path[len(prefix) :].split("/"), reason)
            except ChildNotFoundError:
                continue
            return
    known = ", ".join(repr(n.path) for n in tree() if n.supervisor is not None) or "none"
    raise ChildNotFoundError(f"no child at path {path!r} in this run; children: {known}")
