"""Running a system under a fault plan: :func:`run` (its own ``trio.run``),
:func:`run_async` (inside a Trio test) and :func:`check_determinism`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs
import trio
import trio.testing

import jido_trio
from jido_trio import ChildSpec, RestartIntensityError

from ._checks import BUILTIN_CHECKS, Bound, Eventually, Invariant, Sometimes, UserCheck
from ._determinism import check_trio_internals, seed_scheduler, seeded_scheduler
from ._engine import _EVENTS, _Engine
from ._errors import ChaosError, InvalidPlanError, NondeterminismError
from ._expand import expand_plan
from ._plan import FaultPlan, PlanItem, RandomFaults, is_finite
from ._points import _engine as _current_engine
from ._report import RunReport
from ._seeds import derive, stream
from ._shrink import Shrunk, shrink_plan
from ._workload import Client, Send, Workload

__all__ = ["System", "check_determinism", "run", "run_async", "shrink"]


def _children(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidPlanError(
            f"System.children={value!r} is not valid; expected a function that returns the "
            "child specs (called once per run, so every run gets fresh agents)"
        )


@attrs.frozen
class System:
    """A system under test: a root supervisor and its children.

    - ``children`` — a function returning the root's child specs
      (``agent_spec(...)``, ``supervisor_spec(...)``, ``ChildSpec(...)``). It is
      called once per run: an agent spec carries its agent, so every run must
      build its own.
    - ``name`` — the root supervisor's name (the first segment of every path).
      Defaults to ``"root"``.
    - ``options`` — the root's :func:`jido_trio.open_supervisor` options
      (``strategy``, ``max_restarts``, ``max_seconds``, ``backoff``, ...).
      Defaults to none.
    """

    children: Callable[[], Sequence[ChildSpec]] = attrs.field(validator=_children)
    name: str = attrs.field(default="root", kw_only=True)
    options: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True)


def _system(value: System | Callable[[], Sequence[ChildSpec]]) -> System:
    if isinstance(value, System):
        return value
    if callable(value):
        return System(value)
    raise InvalidPlanError(
        f"system={value!r} is not valid; expected a chaos.System or a function that returns "
        "the root's child specs"
    )


#: The longest run, fault window and quiet period together, in virtual seconds
#: (about 31 years): past it a float time no longer holds microseconds, and a
#: deadline such as "60s after the heal" rounds away.
MAX_RUN_SECONDS: Final = 1e9
#: The most faults a ``RandomFaults`` generator may be expected to make in a
#: run (``rate`` times its window): more is a typo (``rate: 1e9``), and would
#: hold the run up expanding the plan.
MAX_GENERATED_FAULTS: Final = 100_000


def _plan(value: FaultPlan | Iterable[PlanItem] | None) -> FaultPlan:
    if value is None:
        return FaultPlan()
    if isinstance(value, FaultPlan):
        return value
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidPlanError(
            f"plan={value!r:.60} is not valid; expected a chaos.FaultPlan or a list of faults "
            "(chaos.FaultPlan.from_dict reads a plan written as data)"
        )
    return FaultPlan(tuple(value))


def _seconds(name: str, value: object, *, positive: bool = False) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not is_finite(value)
        or not (value > 0 if positive else value >= 0)
    ):
        raise InvalidPlanError(
            f"{name}={value!r:.60} is not valid; expected a finite number of seconds "
            f"{'> 0' if positive else '>= 0'}"
        )
    return float(value)


def generated_faults(item: RandomFaults, duration: float) -> float:
    """How many faults ``item`` is expected to make in a fault window of ``duration``."""
    end = duration if item.until is None else min(item.until, duration)
    return max(0.0, end - item.at) * item.rate


def plan_problems(plan: FaultPlan, duration: float) -> list[tuple[int, str, str]]:
    """What is wrong with ``plan`` in a fault window of ``duration`` seconds:
    ``(index, field, message)`` for each fault that starts after the window,
    and each generator that would make too many faults."""
    problems = []
    for i, fault in enumerate(plan.faults):
        kind = type(fault).kind
        if fault.at >= duration:
            problems.append(
                (
                    i,
                    "at",
                    f"fault #{i} ({kind}) starts at {fault.at:g}s, after the fault window "
                    f"[0, {duration:g}s): it would never act; move it earlier or make the "
                    "run's duration longer",
                )
            )
        elif isinstance(fault, RandomFaults):
            expected = generated_faults(fault, duration)
            if expected > MAX_GENERATED_FAULTS:
                problems.append(
                    (
                        i,
                        "rate",
                        f"rate={fault.rate:g} faults per second over its "
                        f"{expected / fault.rate:g}s makes about {expected:.3g} faults a run, "
                        "more than "
                        f"{MAX_GENERATED_FAULTS}; lower the rate or narrow at/until",
                    )
                )
    return problems


def _split_checks(
    checks: Iterable[UserCheck],
) -> tuple[list[Invariant], list[Eventually], list[Sometimes], list[Bound]]:
    invariants, eventually, sometimes, bounds = [], [], [], []
    seen: set[str] = set()
    for check in checks:
        if not isinstance(check, Invariant | Eventually | Sometimes | Bound):
            raise InvalidPlanError(
                f"checks: {check!r} is not a check; expected chaos.Invariant, "
                "chaos.Eventually, chaos.Sometimes or chaos.Bound"
            )
        name = check.label if isinstance(check, Bound) else check.name
        if name in seen:
            raise InvalidPlanError(f"two checks are named {name!r}; names must be unique")
        seen.add(name)
        if isinstance(check, Invariant):
            invariants.append(check)
        elif isinstance(check, Eventually):
            eventually.append(check)
        elif isinstance(check, Sometimes):
            sometimes.append(check)
        else:
            bounds.append(check)
    return invariants, eventually, sometimes, bounds


def _disabled(disable: Iterable[str]) -> frozenset[str]:
    if isinstance(disable, str):
        raise InvalidPlanError(f"disable={disable!r}: expected a list of check names")
    names = frozenset(disable)
    unknown = sorted(names - set(BUILTIN_CHECKS))
    if unknown:
        raise InvalidPlanError(
            f"disable: unknown built-in check(s) {unknown}; the built-in checks are "
            f"{', '.join(BUILTIN_CHECKS)}"
        )
    return names


@attrs.frozen
class _Options:
    system: System
    plan: FaultPlan
    seed: int
    duration: float
    quiet_period: float
    workload: Workload | None
    checks: tuple[UserCheck, ...]
    disable: frozenset[str]
    swarm: bool
    fault_points: bool
    keep_trace: int | None
    trace: bool
    stop_timeout: float


def _options(
    system: System | Callable[[], Sequence[ChildSpec]],
    plan: FaultPlan | Iterable[PlanItem] | None,
    *,
    seed: int,
    duration: float,
    quiet_period: float,
    workload: Workload | None,
    checks: Iterable[UserCheck],
    disable: Iterable[str],
    swarm: bool,
    fault_points: bool,
    keep_trace: int | None,
    trace: bool,
    stop_timeout: float,
) -> _Options:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidPlanError(f"seed={seed!r} is not valid; expected an int >= 0")
    if workload is not None and not callable(workload):
        if isinstance(workload, str | bytes) or not all(isinstance(s, Send) for s in workload):
            raise InvalidPlanError(
                f"workload={workload!r} is not valid; expected a list of chaos.Send or an "
                "async function of a chaos.Client"
            )
        workload = tuple(workload)
    if keep_trace is not None and (
        not isinstance(keep_trace, int) or isinstance(keep_trace, bool) or keep_trace < 0
    ):
        raise InvalidPlanError(f"keep_trace={keep_trace!r}: expected an int >= 0 or None (all)")
    for name, flag in (("swarm", swarm), ("fault_points", fault_points), ("trace", trace)):
        if not isinstance(flag, bool):
            raise InvalidPlanError(f"{name}={flag!r}: expected True or False")
    if isinstance(checks, str | bytes | Mapping) or not isinstance(checks, Iterable):
        raise InvalidPlanError(
            f"checks={checks!r:.60} is not valid; expected a list of chaos.Invariant, "
            "chaos.Eventually, chaos.Sometimes or chaos.Bound"
        )
    checks = tuple(checks)
    _split_checks(checks)
    window = _seconds("duration", duration, positive=True)
    quiet = _seconds("quiet_period", quiet_period)
    if window + quiet > MAX_RUN_SECONDS:
        raise InvalidPlanError(
            f"duration={window:g} and quiet_period={quiet:g} make a run of {window + quiet:g}s, "
            f"longer than {MAX_RUN_SECONDS:g}s (about 31 years) of virtual time, where float "
            "times lose their microseconds; make the run shorter"
        )
    the_plan = _plan(plan)
    for _, _, message in plan_problems(the_plan, window):
        raise InvalidPlanError(message)
    return _Options(
        system=_system(system),
        plan=the_plan,
        seed=seed,
        duration=window,
        quiet_period=quiet,
        workload=workload,
        checks=checks,
        disable=_disabled(disable),
        swarm=swarm,
        fault_points=fault_points,
        keep_trace=keep_trace,
        trace=trace,
        stop_timeout=_seconds("stop_timeout", stop_timeout, positive=True),
    )


def run(
    system: System | Callable[[], Sequence[ChildSpec]],
    plan: FaultPlan | Iterable[PlanItem] | None = None,
    *,
    seed: int = 0,
    duration: float = 30.0,
    quiet_period: float = 10.0,
    workload: Workload | None = None,
    checks: Iterable[UserCheck] = (),
    disable: Iterable[str] = (),
    swarm: bool = False,
    fault_points: bool = True,
    keep_trace: int | None = 200,
    trace: bool = True,
    stop_timeout: float = 60.0,
    clock: Literal["virtual", "real"] = "virtual",
) -> RunReport:
    """Run ``system`` under ``plan`` on virtual time, deterministically from ``seed``.

    Makes its own ``trio.run`` with ``trio.testing.MockClock(autojump_threshold=0)``
    and Trio's scheduler seeded, so the same arguments give the same run, event
    for event (the same :attr:`RunReport.digest`), in any process. For use
    inside a running Trio test, see :func:`run_async`.

    The run: the system starts; during the fault window (``duration`` virtual
    seconds) the faults act and the workload runs; at its end the faults heal
    (hung and paused agents are released, partitions end); the workload goes on
    for the ``quiet_period``; then it stops, the system settles, the
    ``eventually`` checks are judged, and the system is shut down (within
    ``stop_timeout`` virtual seconds, else cancelled).

    Options (keyword-only):

    - ``seed`` — the root seed: every random choice of the run derives from it.
      Defaults to ``0``.
    - ``duration`` — the fault window, in virtual seconds. Defaults to ``30.0``.
    - ``quiet_period`` — virtual seconds after the heal before liveness is
      judged. Defaults to ``10.0``.
    - ``workload`` — a list of :class:`Send`, or ``async def workload(client)``
      (a :class:`Client`). Defaults to none.
    - ``checks`` — :class:`Invariant`, :class:`Eventually`, :class:`Sometimes`
      and :class:`Bound` checks, on top of the built-in ones. Defaults to none.
    - ``disable`` — names of built-in checks to turn off. Defaults to none.
    - ``swarm`` — swarm mode: this seed keeps a random subset of the plan's fault
      kinds and targets. Defaults to ``False``.
    - ``fault_points`` — whether :func:`fault_point` may fire. Defaults to ``True``.
    - ``keep_trace`` — trace lines kept in the report (``None``: all). The
      digest always covers every line. Defaults to ``200``.
    - ``trace`` — whether to record the trace at all; without it the report's
      ``digest`` and ``trace`` are empty (fault records, checks and metrics
      are kept), for the fastest sweeps. Defaults to ``True``.
    - ``stop_timeout`` — virtual seconds the final shutdown may take.
      Defaults to ``60.0``.
    - ``clock`` — ``"virtual"`` (a ``MockClock`` that jumps when idle) or
      ``"real"``: the run takes real time, for systems that do real I/O;
      the scheduler is still seeded, but the run is no longer reproducible
      event for event. Defaults to ``"virtual"``.

    Raises :class:`InvalidPlanError` for a bad argument, and :class:`ChaosError`
    if the system cannot start. A failing check is not an exception: it is in
    the report (``report.ok``, ``report.explain()``).
    """
    options = _options(
        system,
        plan,
        seed=seed,
        duration=duration,
        quiet_period=quiet_period,
        workload=workload,
        checks=checks,
        disable=disable,
        swarm=swarm,
        fault_points=fault_points,
        keep_trace=keep_trace,
        trace=trace,
        stop_timeout=stop_timeout,
    )
    if clock not in ("virtual", "real"):
        raise InvalidPlanError(f"clock={clock!r} is not valid; expected 'virtual' or 'real'")
    check_trio_internals()
    with seeded_scheduler(derive(options.seed, "scheduler")):
        return trio.run(
            functools.partial(_run, options),
            clock=trio.testing.MockClock(autojump_threshold=0) if clock == "virtual" else None,
        )


async def run_async(
    system: System | Callable[[], Sequence[ChildSpec]],
    plan: FaultPlan | Iterable[PlanItem] | None = None,
    *,
    seed: int = 0,
    duration: float = 30.0,
    quiet_period: float = 10.0,
    workload: Workload | None = None,
    checks: Iterable[UserCheck] = (),
    disable: Iterable[str] = (),
    swarm: bool = False,
    fault_points: bool = True,
    keep_trace: int | None = 200,
    trace: bool = True,
    stop_timeout: float = 60.0,
) -> RunReport:
    """:func:`run`, inside a running Trio program (a pytest-trio test).

    The test must run on a virtual clock that jumps when idle (pytest-trio's
    ``autojump_clock`` fixture, or ``trio.testing.MockClock(autojump_threshold=0)``).
    Trio's scheduler is seeded from here on, so the run is deterministic given
    what the test did before it; times in the report are relative to the call.
    Afterwards the run's random source is the one it had before, and its
    signal id factory is the default again (``uuid4``); the scheduler stays
    seeded (the pytest plugin puts it back after the test).
    """
    options = _options(
        system,
        plan,
        seed=seed,
        duration=duration,
        quiet_period=quiet_period,
        workload=workload,
        checks=checks,
        disable=disable,
        swarm=swarm,
        fault_points=fault_points,
        keep_trace=keep_trace,
        trace=trace,
        stop_timeout=stop_timeout,
    )
    clock = trio.lowlevel.current_clock()
    if not isinstance(clock, trio.testing.MockClock) or clock.autojump_threshold != 0:
        raise ChaosError(
            "chaos.run_async() needs a virtual clock that jumps when idle: use pytest-trio's "
            "autojump_clock fixture, or trio.run(..., clock=trio.testing.MockClock("
            "autojump_threshold=0)); or call chaos.run() outside Trio"
        )
    check_trio_internals()
    seed_scheduler(derive(options.seed, "scheduler"))
    previous = jido_trio.run_random()
    try:
        return await _run(options)
    finally:
        jido_trio.set_run_random(previous)
        jido_trio.set_id_factory(None)


async def _run(options: _Options) -> RunReport:
    seed = options.seed
    jido_trio.set_run_random(stream(seed, "jitter"))
    ids = stream(seed, "ids")
    jido_trio.set_id_factory(lambda: f"{ids.getrandbits(64):016x}")
    plan, swarm_info = expand_plan(
        options.plan, seed=seed, duration=options.duration, swarm=options.swarm
    )
    invariants, eventually, sometimes, bounds = _split_checks(options.checks)
    engine = _Engine(
        seed=seed,
        plan=plan,
        duration=options.duration,
        quiet_period=options.quiet_period,
        invariants=invariants,
        eventually=eventually,
        sometimes=sometimes,
        bounds=bounds,
        disabled=options.disable,
        keep_trace=options.keep_trace,
        trace=options.trace,
        fault_points=options.fault_points,
    )
    engine.t0 = trio.current_time()
    engine._time = trio.lowlevel.current_clock().current_time  # one call, not three
    before = jido_trio.dead_letters()
    engine.letters_before = before[-1] if before else None
    token = _current_engine.set(engine)
    try:
        with (
            jido_trio.attach_telemetry(engine.on_telemetry, events=list(_EVENTS)),
            jido_trio.intercept(*engine.interceptors()),
        ):
            results = await _drive(engine, options)
    finally:
        _current_engine.reset(token)
    metrics = engine.metrics()
    results.extend(engine.judge_bounds(metrics))
    order = {"always": 0, "eventually": 1, "sometimes": 2, "bound": 3}
    results.sort(key=lambda r: order[r.kind])
    return RunReport(
        seed=seed,
        plan=plan,
        duration=options.duration,
        quiet_period=options.quiet_period,
        faults=tuple(engine.records),
        checks=tuple(results),
        metrics=metrics,
        digest=engine.trace.digest() if options.trace else "",
        events=engine.trace.count,
        trace=tuple(engine.trace.lines),
        swarm=swarm_info,
    )


async def _drive(engine: _Engine, options: _Options) -> list[Any]:
    """The phases of a run; returns the checks judged along the way."""
    system = options.system
    results: list[Any] = []
    async with trio.open_nursery() as nursery:

        async def run_system(*, task_status: trio.TaskStatus[None]) -> None:
            started = False
            try:
                async with jido_trio.open_supervisor(
                    system.children(), name=system.name, **system.options
                ) as sup:
                    engine.sup = sup
                    started = True
                    task_status.started()
                    await sup.wait()
            except RestartIntensityError as exc:
                if not started:
                    raise
                engine.system_error = exc
                engine.event("system", system.name, f"escalated: {exc}")
            except Exception as exc:
                if not started:
                    raise
                engine.system_error = exc
                engine.violate(
                    "no_unexpected_crash",
                    system.name,
                    f"the root supervisor raised {type(exc).__name__}: {exc}",
                )

        start_error: Exception | None = None
        try:
            await nursery.start(run_system)
        except Exception as exc:  # noqa: BLE001 - raised below, outside the nursery (no group)
            start_error = exc
        else:
            engine.phase = "faults"
            engine.event("phase", "-", "faults")
            engine.start_timeline(nursery)
            workload_scope = trio.CancelScope()
            client = Client(engine, stream(options.seed, "workload"))
            engine.client = client
            if options.workload is not None:
                nursery.start_soon(_workload, options.workload, client, workload_scope, options)
            await trio.sleep_until(engine.t0 + options.duration)
            engine.heal_all()
            await trio.sleep_until(engine.t0 + options.duration + options.quiet_period)
            workload_scope.cancel()
            await trio.testing.wait_all_tasks_blocked()
            engine.phase = "settle"
            engine.event("phase", "-", "settle")
            results.extend(engine.judge_running())
            for check in engine.user_eventually:
                results.append(await _judge_eventually(engine, check, options))
            engine.phase = "stop"
            engine.client = None
            engine.event("phase", "-", "stop")
            sup = engine.sup
            if sup is not None and not sup.closed:
                with trio.move_on_after(options.stop_timeout) as stop:
                    await sup.shutdown()
                if stop.cancelled_caught:
                    engine.violate(
                        "no_unexpected_crash",
                        system.name,
                        f"the system did not shut down within {options.stop_timeout:g}s",
                    )
            nursery.cancel_scope.cancel()
    if start_error is not None:
        raise ChaosError(
            f"the system did not start: {type(start_error).__name__}: {start_error}"
        ) from start_error
    results.extend(engine.judge_stopped())
    results[:0] = engine.always_results()
    results.extend(engine.judge_sometimes())
    return results


async def _judge_eventually(engine: _Engine, check: Eventually, options: _Options) -> Any:
    from ._checks import CheckResult

    try:
        verdict = check.predicate(engine.view)
        if hasattr(verdict, "__await__"):
            with trio.move_on_after(max(options.quiet_period, 5.0)) as scope:
                verdict = await verdict
            if scope.cancelled_caught:
                return CheckResult(check.name, "eventually", "fail", "the predicate did not finish")
    except Exception as exc:  # noqa: BLE001 - a predicate that raises is a failed check
        return CheckResult(
            check.name, "eventually", "fail", f"the predicate raised {type(exc).__name__}: {exc}"
        )
    if verdict is True:
        return CheckResult(check.name, "eventually", "pass")
    detail = verdict if isinstance(verdict, str) else f"returned {verdict!r}"
    return CheckResult(check.name, "eventually", "fail", detail)


async def _workload(
    workload: Workload,
    client: Client,
    scope: trio.CancelScope,
    options: _Options,
) -> None:
    with scope:
        if callable(workload):
            try:
                await workload(client)
            except Exception as exc:  # noqa: BLE001 - reported as a failed check, not a crash
                client._engine.violate(
                    "no_unexpected_crash",
                    "chaos/workload",
                    f"the workload raised {type(exc).__name__}: {exc} (use client.request() "
                    "to get failures as values)",
                )
            return
        end = options.duration + options.quiet_period
        sends: list[tuple[float, int, Send]] = []
        for i, send in enumerate(workload):
            for t in send.times(end, stream(options.seed, f"workload:{i}")):
                sends.append((t, i, send))
        sends.sort(key=lambda s: (s[0], s[1]))
        async with trio.open_nursery() as nursery:
            for t, _, send in sends:
                await trio.sleep_until(client._engine.t0 + t)
                nursery.start_soon(_send, client, send)


async def _send(client: Client, send: Send) -> None:
    message = client.signal(send.signal, send.data)
    if send.call:
        await client.request(send.to, message, timeout=send.timeout)
        return
    try:
        await client.cast(send.to, message)
    except ChaosError:  # no agent has that name now (stopped for good): the trace shows it
        client._engine.event("cast", send.to, f"{message.type}: no_agent")


def check_determinism(
    system: System | Callable[[], Sequence[ChildSpec]],
    plan: FaultPlan | Iterable[PlanItem] | None = None,
    **options: Any,
) -> RunReport:
    """Run twice with the same arguments (as :func:`run`) and compare the
    traces event by event. Returns the report if they match; raises
    :class:`NondeterminismError` naming the first event that differs. The
    trace is always recorded and kept whole here (``trace`` and
    ``keep_trace`` are not options of a determinism check)."""
    for name in ("trace", "keep_trace"):
        if name in options:
            raise InvalidPlanError(
                f"check_determinism() takes no {name}=: it compares whole traces"
            )
    options["keep_trace"] = None
    first = run(system, plan, **options)
    second = run(system, plan, **options)
    if first.digest == second.digest:
        return first
    for index in range(max(len(first.trace), len(second.trace))):
        a = first.trace[index] if index < len(first.trace) else None
        b = second.trace[index] if index < len(second.trace) else None
        if a != b:
            raise NondeterminismError(index, a, b, (first.digest, second.digest))
    raise NondeterminismError(-1, None, None, (first.digest, second.digest))


def shrink(
    system: System | Callable[[], Sequence[ChildSpec]],
    plan: FaultPlan | Iterable[PlanItem] | None,
    *,
    seed: int = 0,
    fails: Callable[[RunReport], bool] | None = None,
    max_runs: int = 300,
    **options: Any,
) -> Shrunk:
    """Reduce a failing plan to a minimal one that still fails the same way.

    Runs ``plan`` with ``seed`` (as :func:`run`, with the same ``options``);
    its concrete plan (generators expanded, swarm applied) is then shrunk:
    faults are removed (delta debugging), then each remaining fault is
    simplified (default parameters, earlier times), keeping every step after
    which a run still fails. ``fails(report)`` decides what "fails the same
    way" means; by default, one of the checks the first run failed fails.
    Returns a :class:`Shrunk` (``.plan``, ``.report``, ``.runs``). Raises
    :class:`ChaosError` if the first run does not fail.
    """
    if not isinstance(max_runs, int) or isinstance(max_runs, bool) or max_runs < 1:
        raise InvalidPlanError(f"max_runs={max_runs!r} is not valid; expected an int >= 1")
    first = run(system, plan, seed=seed, **options)
    # its concrete plan replays it (the same seed, swarm off): the first run is
    # the original shrinking starts from, counted in its runs and its max_runs
    options = {**options, "swarm": False}

    def run_plan(candidate: FaultPlan) -> RunReport:
        return run(system, candidate, seed=seed, **options)

    if fails is None:
        names = {c.name for c in first.failures}
        if not names:
            raise ChaosError(
                f"the plan does not fail with seed {seed}: every check held, nothing to shrink"
            )

        def fails(report: RunReport) -> bool:
            return any(c.name in names for c in report.failures)

    return shrink_plan(
        run_plan,
        first.plan,
        fails=fails,
        max_runs=max_runs,
        original=first,
    )
