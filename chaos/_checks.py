"""Checks: what a run must show, and their verdicts.

Four kinds, as in Antithesis and TigerBeetle's VOPR:

- ``always`` — must hold at every step: built-in ones are watched on every
  seam crossing (crashes, restart intensity, FIFO per link, call deadlines),
  and an :class:`Invariant` is checked on every state an agent commits;
- ``eventually`` — judged once, after the faults have healed and the quiet
  period has passed (liveness): every child running, every mailbox drained,
  every request of the quiet period answered, every message accounted for,
  plus any :class:`Eventually` predicate;
- ``sometimes`` — must hold at least once in a run (coverage: each fault hit
  a live target, each recovery path ran, any :class:`Sometimes`);
- ``bound`` — an end-of-run limit on a metric (:class:`Bound`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import attrs

from ._errors import InvalidPlanError
from ._glob import check_glob

if TYPE_CHECKING:
    from ._view import SystemView

__all__ = [
    "BUILTIN_CHECKS",
    "Bound",
    "CheckKind",
    "CheckResult",
    "Eventually",
    "Invariant",
    "Sometimes",
    "Verdict",
]

CheckKind = Literal["always", "eventually", "sometimes", "bound"]
Verdict = Literal["pass", "fail", "unknown"]

#: The built-in checks, by name, with their kind. All are on unless a run is
#: given ``disable=[...]``.
BUILTIN_CHECKS: Final[Mapping[str, CheckKind]] = {
    "no_unexpected_crash": "always",
    "restart_intensity": "always",
    "fifo_per_link": "always",
    "call_deadlines": "always",
    "all_running": "eventually",
    "mailboxes_drained": "eventually",
    "requests_answered": "eventually",
    "messages_accounted": "eventually",
    "names_released": "eventually",
    "faults_hit": "sometimes",
    "recovered": "sometimes",
}


def _name(inst: object, attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPlanError(f"{type(inst).__name__}.name={value!r}: expected a non-empty str")
    if value in BUILTIN_CHECKS:
        raise InvalidPlanError(
            f"{type(inst).__name__}.name={value!r} is the name of a built-in check; pick another"
        )


def _callable(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidPlanError(f"{type(inst).__name__}.{attr.name}={value!r} is not callable")


def _target(inst: object, attr: attrs.Attribute[str], value: object) -> None:
    check_glob(value, f"{type(inst).__name__}.target")


@attrs.frozen
class Invariant:
    """An ``always`` check on agent states: ``predicate(path, state)`` must be
    true for every state committed by an agent whose path matches ``target``
    (a glob; defaults to ``"**"``). It may return a string instead of
    ``False`` to say what is wrong."""

    name: str = attrs.field(validator=_name)
    predicate: Callable[[str, Any], bool | str] = attrs.field(validator=_callable)
    target: str = attrs.field(default="**", kw_only=True, validator=_target)


@attrs.frozen
class Eventually:
    """An ``eventually`` check: ``predicate(view)`` (sync or async, given a
    :class:`SystemView`) must be true once the quiet period is over. An async
    predicate may ``await view.call(...)``: a liveness probe."""

    name: str = attrs.field(validator=_name)
    predicate: Callable[[SystemView], bool | str | Awaitable[bool | str]] = attrs.field(
        validator=_callable
    )


@attrs.frozen
class Sometimes:
    """A ``sometimes`` check: ``predicate(view)`` must be true at least once;
    it is evaluated after every committed state and every lifecycle event
    until it is."""

    name: str = attrs.field(validator=_name)
    predicate: Callable[[SystemView], bool] = attrs.field(validator=_callable)


def _limit(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidPlanError(f"Bound.{attr.name}={value!r}: expected a number or None")


@attrs.frozen
class Bound:
    """A ``bound`` check: the run's metric ``metric`` (see
    :attr:`RunReport.metrics`, e.g. ``"restarts"``, ``"restarts:root/tracker"``,
    ``"escalations"``, ``"recovery_time.max"``, ``"dead_letters:crashed"``,
    ``"latency.p99"``) must be within ``[min, max]`` at the end. A metric the
    run did not produce counts as ``0``."""

    metric: str = attrs.field(validator=attrs.validators.instance_of(str))
    max: float | None = attrs.field(default=None, kw_only=True, validator=_limit)
    min: float | None = attrs.field(default=None, kw_only=True, validator=_limit)
    name: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.max is None and self.min is None:
            raise InvalidPlanError(f"Bound({self.metric!r}) needs max=, min= or both")

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return f"{self.metric} {' and '.join(parts)}"


UserCheck = Invariant | Eventually | Sometimes | Bound


@attrs.frozen
class CheckResult:
    """The verdict of one check in one run.

    Attributes:
        name: the check's name (a built-in name, or the user's).
        kind: ``"always"``, ``"eventually"``, ``"sometimes"`` or ``"bound"``.
        verdict: ``"pass"``, ``"fail"`` or ``"unknown"``: there was nothing
            to judge (``requests_answered`` with no call after the heal,
            ``faults_hit`` with no fault, ``recovered`` when no fault took a
            target down).
        detail: why, on one or a few lines (the first violation, with its
            virtual time and path).
        time: the virtual time of the first violation, if any.
    """

    name: str
    kind: CheckKind
    verdict: Verdict
    detail: str = ""
    time: float | None = None

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"


CHECK_KINDS: Final = get_args(CheckKind)
