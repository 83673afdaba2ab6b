"""Property testing: Hypothesis strategies for fault plans, and the assertion a
test makes on a run.

:func:`fault_plans` draws a :class:`FaultPlan` for a given system and
:func:`faults` one fault. Plans are plain data, built from Hypothesis' own
strategies, so a failing plan shrinks, and it shrinks toward what is simplest
to read: fewer faults; the first of ``kinds`` (``kill`` by default) and the
first of ``targets``; earlier times, which are whole milliseconds; every
optional field at its default (``pick="all"``, ``probability=1.0``, no
``nth``/``count``/``until``, no ``source``); and, for a field a fault
requires, the value a :class:`RandomFaults` generator would give it
(``Pause.duration=2.0``, ``Delay.seconds=1.0``, ...).

:func:`assert_ok` fails a test with the report's account of the run and the
``chaos.run(...)`` call that replays it (:class:`ChecksFailedError`, an
``AssertionError``), which the pytest plugin (``_pytest_plugin``) shows again
in its failure section.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._errors import ChaosError, InvalidPlanError
from ._glob import check_glob
from ._plan import (
    FAULT_CLASSES,
    FAULT_KINDS,
    Fault,
    FaultPlan,
)
from ._report import RunReport

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["ChecksFailedError", "assert_ok", "fault_plans", "faults", "replay_snippet"]

#: Times and durations are drawn as whole milliseconds: they shrink as
#: integers do, to 0 (or to the smallest value allowed) and then to round
#: numbers, and read as ``at=1.25``, never ``at=1.2500000000000002``.
_TICKS_PER_SECOND: Final = 1000
#: The largest ``nth`` / ``count`` / ``RestartStorm.count`` drawn.
_MAX_COUNT: Final = 5
#: Kinds whose faults may act on a link (``source`` -> ``target``); without a
#: link they act at the target's mailbox (``partition``: cut the target off
#: from every agent; ``reorder``: deliveries from every agent).
_LINK_KINDS: Final = frozenset(
    {"partition", "delay", "drop", "duplicate", "reorder", "corrupt_message"}
)


# -- arguments --------------------------------------------------------------------


@attrs.frozen
class _Space:
    """What the strategies draw from: validated arguments."""

    targets: tuple[str, ...]
    kinds: tuple[str, ...]
    ticks: int  # the horizon, in milliseconds: times are drawn in [0, ticks)
    links: tuple[tuple[str, str], ...]


def _globs(value: object, name: str, example: str) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidPlanError(f"{name}={value!r} is not valid; expected a list such as {example}")
    out = tuple(dict.fromkeys(value))
    if not out:
        raise InvalidPlanError(f"{name} is empty; give at least one, such as {example}")
    for glob in out:
        check_glob(glob, name)
    return out


def _kinds(value: object) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidPlanError(
            f"kinds={value!r} is not valid; expected a list of fault kinds such as "
            "['kill', 'crash'] (chaos.FAULT_KINDS lists them all)"
        )
    kinds = tuple(dict.fromkeys(value))
    if not kinds:
        raise InvalidPlanError("kinds is empty; name at least one fault kind, such as ['kill']")
    for kind in kinds:
        if kind not in FAULT_CLASSES:
            close = difflib.get_close_matches(str(kind), FAULT_KINDS, n=3)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise InvalidPlanError(
                f"kinds: unknown fault kind {kind!r}{hint}; expected some of "
                f"{', '.join(FAULT_KINDS)}"
            )
    return kinds


def _links(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidPlanError(
            f"links={value!r} is not valid; expected (source, target) pairs such as "
            "[('root/api', 'root/db')], or None"
        )
    links: list[tuple[str, str]] = []
    for i, pair in enumerate(value):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidPlanError(
                f"links[{i}]={pair!r} is not valid; expected a (source, target) pair of "
                "tree-path globs, such as ('root/api', 'root/db')"
            )
        check_glob(pair[0], f"links[{i}] source")
        check_glob(pair[1], f"links[{i}] target")
        links.append((pair[0], pair[1]))
    return tuple(dict.fromkeys(links))


def _horizon(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidPlanError(
            f"horizon={value!r} is not valid; expected the fault window in seconds (> 0), "
            "usually the run's duration="
        )
    # whole milliseconds in [0, horizon): round away float noise (0.3 * 1000)
    return max(1, math.ceil(round(value * _TICKS_PER_SECOND, 6)))


def _space(targets: object, kinds: object, horizon: object, links: object) -> _Space:
    return _Space(
        targets=_globs(targets, "targets", "['root/tracker', 'root/workers/*']"),
        kinds=_kinds(kinds),
        ticks=_horizon(horizon),
        links=_links(links),
    )


def _size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidPlanError(f"{name}={value!r} is not valid; expected an int >= 0")
    return value


# -- strategies -------------------------------------------------------------------


def fault_plans(
    targets: Sequence[str],
    *,
    horizon: float,
    kinds: Iterable[str] = FAULT_KINDS,
    max_faults: int = 5,
    min_faults: int = 0,
    links: Iterable[tuple[str, str]] | None = None,
) -> SearchStrategy[FaultPlan]:
    """A Hypothesis strategy for fault plans against a system.

    A failing plan shrinks: to fewer faults, to the first of ``kinds`` and of
    ``targets``, to earlier times, and to each field's default.

    - ``targets`` — the tree-path globs faults may aim at (``"root/tracker"``,
      ``"root/workers/*"``); put the most interesting first, as shrinking
      moves toward the first.
    - ``horizon`` — the fault window, in seconds (usually the run's
      ``duration``): times are whole milliseconds in ``[0, horizon)``, and a
      window (``until``) ends by ``horizon`` (rounded up to a millisecond).
      Durations (a delay's ``seconds`` and ``jitter``, a pause's
      ``duration``) are drawn up to it too, and a delay under way at the
      heal runs its course: with ``delay``, ``reorder`` or ``store_slow``
      among the kinds, give runs a ``quiet_period`` of at least twice the
      horizon.
    - ``kinds`` — the fault kinds drawn, in the order shrinking prefers.
      Defaults to every kind (:data:`FAULT_KINDS`, ``kill`` first).
    - ``max_faults``, ``min_faults`` — how many faults a plan holds.
      Default to 5 and 0.
    - ``links`` — ``(source, target)`` glob pairs that ``partition``,
      ``delay``, ``drop``, ``duplicate``, ``reorder`` and ``corrupt_message``
      faults may act on, besides acting on a target alone. Defaults to none.
      On a target alone, a ``partition`` cuts it off from every agent
      (``source="**"``), a ``reorder`` shuffles deliveries from every agent,
      and the others act at its mailbox (every message it takes).

    Raises :class:`InvalidPlanError` at once for a bad argument (an unknown
    kind, no targets, ``horizon <= 0``, ``min_faults > max_faults``).
    """
    space = _space(targets, kinds, horizon, links)
    low, high = _size("min_faults", min_faults), _size("max_faults", max_faults)
    if low > high:
        raise InvalidPlanError(
            f"min_faults={low} is more than max_faults={high}; a plan cannot hold both"
        )
    from hypothesis import strategies as st  # here: importing hypothesis changes trio

    from ._draw import draw_fault

    return st.lists(draw_fault(space), min_size=low, max_size=high).map(FaultPlan)


def faults(
    targets: Sequence[str],
    *,
    horizon: float,
    kinds: Iterable[str] = FAULT_KINDS,
    links: Iterable[tuple[str, str]] | None = None,
) -> SearchStrategy[Fault]:
    """A Hypothesis strategy for one fault; the arguments are those of
    :func:`fault_plans`."""
    from ._draw import draw_fault

    return draw_fault(_space(targets, kinds, horizon, links))


# -- the verdict ------------------------------------------------------------------


class ChecksFailedError(ChaosError, AssertionError):
    """A chaos run's checks failed (raised by :func:`assert_ok`).

    Its message is the report's :meth:`~RunReport.explain` and the
    ``chaos.run(...)`` call that replays the run.

    Attributes:
        report: the failing run's :class:`RunReport`.
        replay: that ``chaos.run(...)`` call, as one line of Python.
    """

    def __init__(self, report: RunReport) -> None:
        self.report = report
        self.replay = replay_snippet(report)
        super().__init__(
            f"{report.explain()}\nreplay it with this test's system, workload and checks:\n"
            f"  {self.replay}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.report,))


def replay_snippet(report: RunReport) -> str:
    """The ``chaos.run(...)`` call that replays ``report``'s run: its concrete
    plan (as JSON), seed and windows; ``system`` stands for the test's system,
    and the workload and checks are the test's."""
    plan = f"chaos.FaultPlan.from_json({report.plan.to_json()!r})"
    # the plan is what this seed kept in swarm mode: replaying it must not narrow it again
    swarm = ", swarm=False" if report.swarm is not None else ""
    return (
        f"chaos.run(system, {plan}, seed={report.seed}, duration={report.duration!r}, "
        f"quiet_period={report.quiet_period!r}{swarm})"
    )


def assert_ok(report: RunReport, *, coverage: bool = False) -> None:
    """Fail the test unless ``report`` passed: raise :class:`ChecksFailedError`
    (an ``AssertionError``) if an ``always``, ``eventually`` or ``bound`` check
    failed, or with ``coverage=True`` a ``sometimes`` check did.

    The message is :meth:`RunReport.explain` and the ``chaos.run(...)`` call
    that replays the run. In a ``@given(plan=chaos.fault_plans(...))`` test,
    Hypothesis then shrinks the plan and prints the minimal one; the pytest
    plugin adds the seed and the replay to the failure report.
    """
    __tracebackhide__ = True  # pytest: the failure points at the test's call
    if not isinstance(report, RunReport):
        raise InvalidPlanError(
            f"assert_ok(report={report!r}): expected the chaos.RunReport that chaos.run() returned"
        )
    if not report.ok or (coverage and not report.coverage_ok):
        raise ChecksFailedError(report)
