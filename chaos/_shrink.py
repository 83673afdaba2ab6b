"""Shrinking: reduce a failing fault plan to a minimal one that still fails.

Runs are deterministic (the same seed and plan give the same run) and each
fault draws from a random stream named after its own content, so removing a
fault leaves the others' behaviour unchanged: a plan can be shrunk like a
test case. First delta debugging (Zeller's ddmin) over the faults, then each
remaining fault is simplified: aimed at the one path it hit, its own
parameters back to their defaults, moved earlier to a rounder time (only
when that takes in no more events); every step that still fails is kept.
Shrinking never widens a fault: its pick, count, nth, window and probability
stay as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs

from ._errors import ChaosError
from ._plan import FaultPlan, PlanItem, RandomFaults
from ._report import RunReport

__all__ = ["Shrunk", "shrink_plan"]


@attrs.frozen
class Shrunk:
    """The result of shrinking.

    Attributes:
        plan: the minimal failing plan.
        report: the report of its (failing) run.
        original: the report of the plan shrinking started from.
        runs: how many runs shrinking took.
        exhausted: whether it stopped at ``max_runs`` before it was done.
    """

    plan: FaultPlan
    report: RunReport
    original: RunReport
    runs: int
    exhausted: bool = False


class _Budget(Exception):
    """max_runs reached."""


#: Fields that restrict when and where a fault acts: their defaults are the
#: widest fault (every target, every event, the whole window, both directions
#: of a partition), so shrinking never resets them: a minimal plan should not
#: hit more than the original.
_RESTRICTIONS: Final = frozenset({"pick", "count", "nth", "until", "probability", "at", "one_way"})
#: Own parameters whose default may be larger than the value a fault has (a
#: reorder's window): reset only when the default is no larger.
_SPANS: Final = frozenset({"window"})


def _simpler(fault: PlanItem, paths: Sequence[str] = ()) -> list[PlanItem]:
    """Candidate simplifications of one fault, simplest first: aim it at the
    one path it hit (``paths``: where the failing run's records say it acted),
    put its own parameters (delays, counts of a storm, ...) back to their
    defaults, and move it earlier, to a rounder time."""
    if isinstance(fault, RandomFaults):
        return []
    out: list[PlanItem] = []
    hit = sorted(set(paths))
    if len(hit) == 1 and "->" not in hit[0] and hit[0] != fault.target:
        concrete: dict[str, Any] = {"target": hit[0]}
        if getattr(fault, "pick", "all") != "all":
            concrete["pick"] = "all"
        with contextlib.suppress(ValueError, TypeError):
            out.append(attrs.evolve(fault, **concrete))
    elif "*" not in fault.target and getattr(fault, "pick", "all") != "all":
        # one path: picking among its matches picks it; "all" says so plainly
        with contextlib.suppress(ValueError, TypeError):
            out.append(attrs.evolve(fault, pick="all"))
    cls = type(fault)
    defaults = {
        f.name: f.default
        for f in attrs.fields(cls)
        if f.default is not attrs.NOTHING and not isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]
    }
    for name, default in defaults.items():
        if name in _RESTRICTIONS or name in ("target", "source"):
            continue
        value = getattr(fault, name)
        if name in _SPANS and default > value:
            continue
        if value != default:
            with contextlib.suppress(ValueError, TypeError):
                out.append(attrs.evolve(fault, **{name: default}))
    if _movable(fault):
        at = float(fault.at)
        for earlier in (float(int(at)), round(at, 1)):
            if earlier < at:
                with contextlib.suppress(ValueError, TypeError):
                    out.append(attrs.evolve(fault, at=earlier))
    return out


def _movable(fault: PlanItem) -> bool:
    """Whether moving ``fault`` earlier keeps it no wider: it acts at an
    instant (a kill, a storm, a pause), or its hits are bounded (``count``,
    ``nth``). An open window (a partition, a drop of every message from
    ``at``) would take in more events."""
    if not hasattr(fault, "until"):
        return True
    return getattr(fault, "count", None) is not None or getattr(fault, "nth", None) is not None


def shrink_plan(
    run_plan: Callable[[FaultPlan], RunReport],
    plan: FaultPlan,
    *,
    fails: Callable[[RunReport], bool] | None = None,
    max_runs: int = 300,
    original: RunReport | None = None,
) -> Shrunk:
    """Shrink ``plan`` (concrete) with ``run_plan`` (one deterministic run of a
    plan). ``fails(report)`` says whether a run still fails *the same way*;
    by default: one of the checks the original run failed fails again.
    ``original`` is the report of ``run_plan(plan)`` if the caller has it."""
    if not plan.concrete:
        raise ChaosError("shrink a concrete plan: expand its RandomFaults first (report.plan)")
    if original is None:
        original = run_plan(plan)
    if fails is None:
        names = {c.name for c in original.failures}
        if not names:
            raise ChaosError(
                "this plan does not fail with this seed: there is nothing to shrink "
                f"(every check held; digest {original.digest[:12]})"
            )

        def fails(report: RunReport) -> bool:
            return any(c.name in names for c in report.failures)

    elif not fails(original):
        raise ChaosError("this plan does not fail (by the given predicate): nothing to shrink")
    runs = 1
    kept = tuple(plan.faults)  # the last plan that failed: shrinking only ever moves to it
    cache: dict[tuple[PlanItem, ...], bool] = {tuple(plan.faults): True}
    reports: dict[tuple[PlanItem, ...], RunReport] = {tuple(plan.faults): original}

    def test(faults: Sequence[PlanItem]) -> bool:
        nonlocal runs, kept
        key = tuple(faults)
        if key in cache:
            return cache[key]
        if runs >= max_runs:
            raise _Budget
        runs += 1
        report = run_plan(FaultPlan(key))
        failed = fails(report)
        cache[key] = failed
        if failed:
            reports[key] = report
            kept = key
        return failed

    current = list(plan.faults)
    exhausted = False
    try:
        current = _ddmin(current, test)
        changed = True
        while changed:
            changed = False
            report = reports.get(tuple(current))
            for i in range(len(current)):
                paths = [r.path for r in report.faults if r.fault == i and r.hit] if report else []
                for candidate in _simpler(current[i], paths):
                    trial = [*current[:i], candidate, *current[i + 1 :]]
                    if test(trial):
                        current = trial
                        changed = True
                        break
    except _Budget:
        # out of runs (inside ddmin too): keep what the last failing run reached
        exhausted = True
        current = list(kept)
    final = tuple(current)
    # every plan shrinking kept failed in a run it made: its report is at hand,
    # and no run past max_runs is needed to return it
    return Shrunk(FaultPlan(final), reports[final], original, runs, exhausted)


def _ddmin(items: list[Any], test: Callable[[Sequence[Any]], bool]) -> list[Any]:
    """Zeller's ddmin: a 1-minimal sublist of ``items`` for which ``test`` holds."""
    if not items:
        return items
    if test([]):
        return []
    n = 2
    while len(items) >= 2:
        size = len(items) // n
        chunks = [items[i : i + size] for i in range(0, len(items), size)] if size else [items]
        reduced = False
        for chunk in chunks:
            if test(chunk):
                items, n, reduced = chunk, 2, True
                break
        if not reduced:
            for i in range(len(chunks)):
                rest = [x for j, c in enumerate(chunks) if j != i for x in c]
                if test(rest):
                    items, n, reduced = rest, max(n - 1, 2), True
                    break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items
