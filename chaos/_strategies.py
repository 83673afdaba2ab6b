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
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from ._errors import ChaosError, InvalidPlanError
from ._glob import check_glob
from ._plan import (
    FAULT_CLASSES,
    FAULT_KINDS,
    RANDOM_DEFAULTS,
    Fault,
    FaultPlan,
    Seconds,
)
from ._report import RunReport

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
) -> st.SearchStrategy[FaultPlan]:
    """A Hypothesis strategy for fault plans against a system.

    A failing plan shrinks: to fewer faults, to the first of ``kinds`` and of
    ``targets``, to earlier times, and to each field's default.

    - ``targets`` — the tree-path globs faults may aim at (``"root/tracker"``,
      ``"root/workers/*"``); put the most interesting first, as shrinking
      moves toward the first.
    - ``horizon`` — the fault window, in seconds (usually the run's
      ``duration``): times are whole milliseconds in ``[0, horizon)``, and a
      window (``until``) ends by ``horizon`` (rounded up to a millisecond).
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
    return st.lists(_draw_fault(space), min_size=low, max_size=high).map(FaultPlan)


def faults(
    targets: Sequence[str],
    *,
    horizon: float,
    kinds: Iterable[str] = FAULT_KINDS,
    links: Iterable[tuple[str, str]] | None = None,
) -> st.SearchStrategy[Fault]:
    """A Hypothesis strategy for one fault; the arguments are those of
    :func:`fault_plans`."""
    return _draw_fault(_space(targets, kinds, horizon, links))


def _seconds(ticks: int) -> Seconds:
    return Seconds(ticks / _TICKS_PER_SECOND)


def _ticks(low: int, high: int) -> st.SearchStrategy[Seconds]:
    """Whole milliseconds in ``[low, high]``, as seconds."""
    return st.integers(low, high).map(_seconds)


def _or(default: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``default``, or a value of ``other``; shrinks to ``default``."""
    return st.just(default) | other


def _places(kind: str, space: _Space) -> tuple[tuple[str | None, str], ...]:
    """Where a fault of ``kind`` may act, as ``(source, target)``, simplest
    first: each target (at its mailbox; a partition cuts it off from every
    agent), then each link."""
    if kind not in _LINK_KINDS:
        return tuple((None, target) for target in space.targets)
    alone = "**" if kind == "partition" else None
    return tuple((alone, target) for target in space.targets) + space.links


@st.composite
def _draw_fault(draw: st.DrawFn, space: _Space) -> Fault:
    # A fault at its simplest is four choices (kind, place, time, "all
    # defaults"), so that the shrinker's deletion of a few choices at a time
    # can delete a whole fault from a plan.
    kind = draw(st.sampled_from(space.kinds))
    cls = FAULT_CLASSES[kind]
    source, target = draw(st.sampled_from(_places(kind, space)))
    at = draw(st.integers(0, space.ticks - 1))
    fields: dict[str, Any] = {"target": target, "at": _seconds(at)}
    if source is not None:
        fields["source"] = source
    # a required duration is what a RandomFaults generator gives it, unless drawn
    defaults = RANDOM_DEFAULTS[kind]
    if kind == "pause":
        fields["duration"] = Seconds(defaults["duration"])
    elif kind in ("delay", "store_slow"):
        fields["seconds"] = Seconds(defaults["seconds"])
    if draw(st.booleans()):  # not all defaults: each field is its default or drawn
        fields.update(_draw_details(draw, kind, at, space))
    fault: Fault = cls(**fields)
    return fault


def _draw_details(draw: st.DrawFn, kind: str, at: int, space: _Space) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if kind != "partition":  # a partition cuts every link between its sides
        fields["pick"] = draw(st.sampled_from(("all", "one")))
    later = _ticks(at + 1, space.ticks)  # a window [at, until) ends by the horizon
    if FAULT_CLASSES[kind].event:
        fields["until"] = draw(_or(None, later))
        fields["nth"] = draw(_or(None, st.integers(1, _MAX_COUNT)))
        if fields["nth"] is None:  # the nth event, or each with a probability
            fields["probability"] = draw(_or(1.0, st.integers(1, 99).map(lambda p: p / 100)))
        fields["count"] = draw(_or(None, st.integers(1, _MAX_COUNT)))
    defaults = RANDOM_DEFAULTS[kind]
    if kind == "restart_storm":
        fields["count"] = draw(_or(defaults["count"], st.integers(1, _MAX_COUNT)))
        fields["interval"] = draw(_or(Seconds(defaults["interval"]), _ticks(1, 1000)))
    elif kind in ("pause", "delay", "store_slow"):
        name = "duration" if kind == "pause" else "seconds"
        fields[name] = draw(_or(Seconds(defaults[name]), _ticks(1, space.ticks)))
        if kind == "delay":
            fields["jitter"] = draw(_ticks(0, space.ticks))
    elif kind == "partition":
        fields["until"] = draw(_or(None, later))
        fields["one_way"] = draw(st.booleans())
    elif kind == "reorder":
        fields["window"] = draw(_or(Seconds(defaults["window"]), _ticks(1, space.ticks)))
    elif kind == "crash":
        fields["point"] = draw(st.sampled_from(("receive", "after_cmd")))
    elif kind == "stale_load":
        fields["versions"] = draw(st.integers(1, 3))
    elif kind == "corrupt_load":
        fields["what"] = draw(st.sampled_from(("state", "version")))
    return fields


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
