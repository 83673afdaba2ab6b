"""Telemetry: lifecycle events delivered synchronously to handlers attached in
the current context (a Trio run, or any task tree below a ``with`` block).

Handlers live in a :class:`contextvars.ContextVar`, so attaching one is scoped to
the ``with`` block and to the tasks started inside it, never process-global.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Final

import attrs
import trio

from ._errors import InvalidArgumentError

__all__ = ["TelemetryEvent", "attach_telemetry", "log_telemetry"]

_log: Final = logging.getLogger("jido_trio.telemetry")

#: Every event name jido_trio emits, with what its ``data`` carries.
EVENT_NAMES: Final = frozenset(
    {
        "supervisor.started",  # strategy, children
        "supervisor.stopped",  # reason: shutdown | escalated | cancelled
        "supervisor.escalated",  # restarts, max_restarts, max_seconds, child_id, error
        "child.started",  # id, restarts, value
        "child.exited",  # id, reason, error, restart (whether it will be restarted)
        "child.restarting",  # id, delay, restarts, cause (the child whose exit caused it)
        "child.start_failed",  # id, reason, error, restart (always False)
        "agent.signal.handled",  # agent, message, action, duration
        "agent.cmd",  # agent, action, ok, duration
        "agent.directive",  # agent, directive, error (None unless it failed)
        "agent.dead_letter",  # agent, message, signal_id, reason, error (+ to, for Emit)
        "agent.checkpoint",  # agent, version
    }
)


@attrs.frozen(slots=True)
class TelemetryEvent:
    """One telemetry event.

    Attributes:
        name: dotted event name, e.g. ``"child.exited"`` (see ``docs/telemetry.md``).
        time: ``trio.current_time()`` when it happened (virtual under a mock clock).
        path: the tree path of the node it concerns (``root/pipeline/worker-1``).
        data: event-specific measurements and metadata, read-only.
    """

    name: str
    time: float
    path: str
    data: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))


Handler = Callable[[TelemetryEvent], None]
_Entry = tuple[frozenset[str] | None, tuple[str, ...], Handler]


def _matches(entry: _Entry, name: str) -> bool:
    exact, prefixes = entry[0], entry[1]
    if exact is None:
        return True
    return name in exact or any(name.startswith(p) for p in prefixes)


def _wants_family(entry: _Entry, family: str) -> bool:
    exact, prefixes = entry[0], entry[1]
    if exact is None:
        return True
    return any(n.startswith(family) for n in exact) or any(
        p.startswith(family) or family.startswith(p) for p in prefixes
    )


class _Handlers:
    """The handlers attached in a context, and whether any of them wants the
    per-message ``agent.*`` events (so a handler of lifecycle events only does
    not make every message build its events)."""

    __slots__ = ("agent", "entries")

    def __init__(self, entries: tuple[_Entry, ...]) -> None:
        self.entries = entries
        self.agent = any(_wants_family(e, "agent.") for e in entries)


_handlers: ContextVar[_Handlers | None] = ContextVar("jido_trio.telemetry", default=None)


@contextmanager
def attach_telemetry(handler: Handler, *, events: Iterable[str] | None = None) -> Iterator[None]:
    """Deliver telemetry events to ``handler`` for the duration of the ``with`` block.

    ``handler`` is called synchronously, in the task that emitted the event, with
    one :class:`TelemetryEvent`; it must not block. An exception raised by a handler
    is logged on the ``jido_trio.telemetry`` logger and never reaches the runtime.

    ``events`` — names to deliver; a name ending in ``.*`` selects a family
    (``"child.*"``). Defaults to ``None``: every event.

    Tasks started inside the block (supervisors, children, agent servers) keep the
    handler for their whole life, even after the block exits, as Trio tasks copy
    their context when spawned.
    """
    exact: frozenset[str] | None = None
    prefixes: tuple[str, ...] = ()
    if not callable(handler):
        raise InvalidArgumentError(f"handler={handler!r} is not callable")
    if events is not None:
        if isinstance(events, str):
            raise InvalidArgumentError(
                f"events={events!r} must be a collection of names, not a string; "
                f"write events=[{events!r}]"
            )
        names = list(events)
        exact = frozenset(n for n in names if not n.endswith("*"))
        prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
        unknown = sorted(n for n in exact if n not in EVENT_NAMES)
        unknown += sorted(
            p + "*"
            for p in prefixes
            if not p.endswith(".") or not any(e.startswith(p) for e in EVENT_NAMES)
        )
        if unknown:
            raise InvalidArgumentError(
                f"unknown telemetry event name(s) {unknown}; expected some of "
                f"{sorted(EVENT_NAMES)} or a family such as 'child.*'"
            )
    current = _handlers.get()
    entries = () if current is None else current.entries
    token = _handlers.set(_Handlers((*entries, (exact, prefixes, handler))))
    try:
        yield
    finally:
        _handlers.reset(token)


def telemetry_enabled() -> bool:
    """Whether any handler is attached in this context (cheap; for hot paths)."""
    return _handlers.get() is not None


def agent_telemetry_enabled() -> bool:
    """Whether any handler attached in this context wants ``agent.*`` events
    (cheap; for the per-message paths of the AgentServer)."""
    current = _handlers.get()
    return current is not None and current.agent


def emit(name: str, path: str, data: Mapping[str, Any]) -> None:
    """Deliver an event to the handlers attached in the current context."""
    current = _handlers.get()
    if current is None:
        return
    event = TelemetryEvent(name, trio.current_time(), path, MappingProxyType(dict(data)))
    for entry in current.entries:
        if _matches(entry, name):
            try:
                entry[2](event)
            except Exception:  # noqa: BLE001 - a handler must never break the runtime
                _log.exception("telemetry handler %r failed on %s", entry[2], name)


def _format(event: TelemetryEvent) -> str:
    parts = " ".join(f"{k}={v!r}" for k, v in event.data.items())
    return f"[{event.time:.6f}] {event.name} {event.path} {parts}".rstrip()


@contextmanager
def log_telemetry(
    logger: logging.Logger | None = None,
    *,
    level: int = logging.INFO,
    events: Iterable[str] | None = None,
) -> Iterator[None]:
    """Bridge telemetry to stdlib :mod:`logging` for the ``with`` block.

    Each event becomes one record on ``logger`` (defaults to the
    ``jido_trio.telemetry`` logger) at ``level`` (defaults to ``logging.INFO``;
    ``child.exited`` with an error and ``supervisor.escalated`` are logged at
    ``WARNING`` or above). The record carries the event as ``record.telemetry``.
    ``events`` filters as in :func:`attach_telemetry`.
    """
    target = logger if logger is not None else _log

    def handler(event: TelemetryEvent) -> None:
        lvl = level
        if event.name == "supervisor.escalated" or (
            event.name == "child.exited" and event.data.get("error") is not None
        ):
            lvl = max(level, logging.WARNING)
        if target.isEnabledFor(lvl):
            target.log(lvl, "%s", _format(event), extra={"telemetry": event})

    with attach_telemetry(handler, events=events):
        yield
