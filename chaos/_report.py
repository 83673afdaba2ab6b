"""The report of one chaos run: the concrete plan, what each fault did, every
check's verdict, the metrics on virtual time, and the trace digest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._checks import CheckResult
from ._plan import FaultPlan, fault_to_dict

__all__ = ["FaultRecord", "RunReport"]


@attrs.frozen
class FaultRecord:
    """One thing a fault did (or could not do) in a run.

    Attributes:
        time: virtual seconds since the run started.
        fault: the fault's index in the plan.
        kind: the fault's kind.
        path: the tree path (or ``source -> target`` link) it acted on.
        effect: what happened: ``"killed"``, ``"dropped signal 'x.y'"``,
            ``"missed: 'root/a' is not running"``, ``"healed"``, ...
        hit: whether it hit a live target (``False`` for a miss).
    """

    time: float
    fault: int
    kind: str
    path: str
    effect: str
    hit: bool = True

    def line(self) -> str:
        return f"{self.time:g} #{self.fault} {self.kind} {self.path}: {self.effect}"


def _fmt(value: float) -> str:
    return f"{value:g}" if value == value else "nan"


@attrs.frozen
class RunReport:
    """What one chaos run did and showed; see :meth:`explain`.

    Attributes:
        seed: the root seed.
        plan: the concrete plan that ran (generators expanded, swarm applied).
        duration: the fault window, in virtual seconds.
        quiet_period: the quiet period after it.
        faults: what each fault did, in order.
        checks: every check's verdict.
        metrics: measurements on virtual time (restarts, recovery times,
            latencies, mailbox depths, dead letters, ...).
        digest: sha256 of the ordered trace: two runs with the same digest
            behaved alike, event for event.
        events: how many events the trace holds.
        trace: its last lines (``keep_trace`` of them).
        swarm: in swarm mode, the fault kinds and targets this seed kept.
    """

    seed: int
    plan: FaultPlan
    duration: float
    quiet_period: float
    faults: tuple[FaultRecord, ...]
    checks: tuple[CheckResult, ...]
    metrics: Mapping[str, float]
    digest: str
    events: int
    trace: tuple[str, ...] = ()
    swarm: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No ``always``, ``eventually`` or ``bound`` check failed. (``sometimes``
        checks are coverage, judged over many seeds: see
        :attr:`coverage_ok`.)"""
        return not any(c.failed for c in self.checks if c.kind != "sometimes")

    @property
    def coverage_ok(self) -> bool:
        """Every ``sometimes`` check held in this run."""
        return not any(c.failed for c in self.checks if c.kind == "sometimes")

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The failed ``always``, ``eventually`` and ``bound`` checks."""
        return tuple(c for c in self.checks if c.failed and c.kind != "sometimes")

    def check(self, name: str) -> CheckResult:
        """The result of the check called ``name``."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(f"no check {name!r}; checks: {', '.join(c.name for c in self.checks)}")

    def explain(self, *, events: int = 12, effects: int = 12) -> str:
        """A one-screen account of the run, for a failing assertion: the
        verdict, the failed checks with their first violation (``sometimes``
        checks that never held show as ``MISS``: coverage, not failure), the
        plan, the first ``effects`` fault effects, the main metrics and the
        last ``events`` events of the trace."""
        failed = [c for c in self.checks if c.failed]
        head = "passed" if self.ok else f"FAILED ({len(self.failures)} check(s))"
        lines = [
            f"chaos run seed={self.seed}: {head}; {len(self.plan)} fault(s), "
            f"{_fmt(self.duration)}s of faults + {_fmt(self.quiet_period)}s quiet, "
            + (f"{self.events} events" if self.digest else "not traced")
        ]
        for result in failed:
            mark = "MISS" if result.kind == "sometimes" else "FAIL"
            lines.append(f"  {mark} {result.kind} {result.name}: {result.detail}")
        passed = [c for c in self.checks if not c.failed]
        if passed:
            lines.append(
                "  ok: "
                + ", ".join(f"{c.name}" + ("?" if c.verdict == "unknown" else "") for c in passed)
            )
        if self.plan.faults:
            lines.append("  plan:")
            for i, fault in enumerate(self.plan.faults):
                data = fault_to_dict(fault)
                kind = data.pop("kind")
                fields = " ".join(f"{k}={v}" for k, v in data.items())
                hits = sum(1 for r in self.faults if r.fault == i and r.hit)
                lines.append(f"    #{i} {kind} {fields} -> {hits} hit(s)")
        shown = list(self.faults[:effects])
        if shown:
            lines.append("  fault effects:")
            lines.extend(f"    {r.line()}" for r in shown)
            if len(self.faults) > len(shown):
                lines.append(f"    ... {len(self.faults) - len(shown)} more")
        keys = [
            "restarts",
            "escalations",
            "recovery_time.max",
            "latency.p99",
            "mailbox.max_depth",
            "dead_letters",
        ]
        metrics = " ".join(f"{k}={_fmt(self.metrics[k])}" for k in keys if k in self.metrics)
        if metrics:
            lines.append(f"  metrics: {metrics}")
        if self.trace and events:
            lines.append(f"  last {min(events, len(self.trace))} events:")
            lines.extend(f"    {line}" for line in self.trace[-events:])
        lines.append(f"  digest: {self.digest}" if self.digest else "  digest: none (trace=False)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "seed": self.seed,
            "plan": self.plan.to_dict(),
            "duration": self.duration,
            "quiet_period": self.quiet_period,
            "ok": self.ok,
            "coverage_ok": self.coverage_ok,
            "faults": [attrs.asdict(r) for r in self.faults],
            "checks": [attrs.asdict(c) for c in self.checks],
            "metrics": dict(self.metrics),
            "digest": self.digest,
            "events": self.events,
            "trace": list(self.trace),
            "swarm": None if self.swarm is None else dict(self.swarm),
        }
