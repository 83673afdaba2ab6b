"""jido_trio's own reliability suite, written with its own tools.

The tests in this directory use the ``chaos`` engine the way a user would on
their own system: Hypothesis draws fault plans (``chaos.fault_plans``), tree
shapes, workloads and seeds; ``chaos.run`` runs the project's own
supervisors and agent servers under them on virtual time; built-in and
hand-written checks judge each run; ``chaos.assert_ok`` fails the test with
the run's story and the ``chaos.run(...)`` call that replays it, and
Hypothesis shrinks a failing plan to a minimal one. Each test module pins
one promise, named in its docstring; each property comes with a fixed-plan
test showing that its faults do act and its checks do see.

A run takes milliseconds, so the whole directory runs in seconds in the
``ci`` profile (``CI=1``: derandomized, the same examples every time). For a
longer search, raise the number of examples every property draws, and let
Hypothesis pick fresh ones (the ``dev`` profile is the default off CI)::

    RELIABILITY_EXAMPLES=2000 pytest tests/reliability -p no:cacheprovider
    pytest tests/reliability --hypothesis-seed=7            # other examples
    pytest tests/reliability/test_storms.py --chaos-seed=7  # other storms

This module holds what the tests share (it is not a test module):

- :data:`TALLY`, the agent every system is made of: it adds amounts, says
  what its total is, passes an amount on to another agent (an ``Emit``, so
  link faults have links to act on), refuses on request (an action error)
  and stops itself on request; :data:`LEAD` hires and fires tallies of its
  own (``SpawnAgent`` / ``StopChild``).
- :class:`Census`, plain task children that count their live incarnations
  (and their helper tasks) by tree path.
- The systems: :class:`Shape` (a three-level supervision tree, drawn by
  Hypothesis), :func:`team_system` and :func:`tallies_system`, with their
  fault targets and workloads.
- :func:`run_to_the_end`: a run inside a Trio run of its own, then a look at
  what is left once ``chaos`` has stopped the system.
- The checks, plain ``chaos.Invariant`` / ``chaos.Eventually`` checks:
  :func:`registry_consistent`, :func:`registry_settled`,
  :func:`accounting_identity`, :func:`answers_probes`,
  :func:`adds_match_processed`, :func:`census_matches_tree`,
  :func:`up_unless_escalated` and :func:`team_settled`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Literal

import attrs
import trio
import trio.testing
from hypothesis import Phase, settings
from hypothesis import strategies as st

import chaos
import jido_trio
from jido_trio import (
    ActionResult,
    AgentDef,
    AgentRef,
    Backoff,
    ChildInfo,
    ChildSpec,
    Emit,
    NoParams,
    SpawnAgent,
    Stop,
    StopChild,
    action,
    agent_spec,
    current_child,
    supervisor_spec,
)

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
RestartType = Literal["permanent", "transient", "temporary"]
STRATEGIES: Final[tuple[Strategy, ...]] = ("one_for_one", "one_for_all", "rest_for_one")
RESTART_TYPES: Final[tuple[RestartType, ...]] = ("permanent", "transient", "temporary")

#: Set to run a longer search: every property then draws this many examples.
EXAMPLES_VAR: Final = "RELIABILITY_EXAMPLES"


def search(max_examples: int) -> settings:
    """The Hypothesis settings of a property: ``max_examples`` examples (or
    ``$RELIABILITY_EXAMPLES``), no deadline (a run's real duration is not what
    is tested), and no explain phase (it traces every line a run executes,
    which makes chaos runs several times slower). The rest comes from the
    profile (``ci``: derandomized, no database)."""
    override = os.environ.get(EXAMPLES_VAR, "").strip()
    return settings(
        max_examples=int(override) if override else max_examples,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        deadline=None,
    )


#: Root seeds for the runs: Hypothesis shrinks a failing one toward 0.
seeds: Final = st.integers(0, 2**32 - 1)


# -- the agents -------------------------------------------------------------------


@attrs.frozen
class Tally:
    total: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))
    adds: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))


@attrs.frozen
class Amount:
    amount: int


@attrs.frozen
class PassOn:
    to: str
    amount: int


@action("add", params=Amount)
def add(state: Tally, params: Amount) -> ActionResult[Tally]:
    new = Tally(state.total + params.amount, state.adds + 1)
    return ActionResult(new, result=new.total)


@action("get")
def get(state: Tally, params: NoParams) -> ActionResult[Tally]:
    return ActionResult(state, result=state.total)


@action("pass", params=PassOn)
def pass_on(state: Tally, params: PassOn) -> ActionResult[Tally]:
    emit = Emit("tally.add", {"amount": params.amount}, to=params.to)
    return ActionResult(state, result=state.total, directives=[emit])


@action("refuse")
def refuse(state: Tally, params: NoParams) -> Tally:
    raise ValueError("refused on request")


@action("quit")
def quit_(state: Tally, params: NoParams) -> ActionResult[Tally]:
    return ActionResult(state, directives=[Stop()])


TALLY: Final = AgentDef(
    "tally",
    Tally,
    [add, get, pass_on, refuse, quit_],
    routes={
        "tally.add": "add",
        "tally.get": "get",
        "tally.pass": "pass",
        "tally.refuse": "refuse",
        "tally.quit": "quit",
    },
)


@attrs.frozen
class Team:
    hired: int = 0
    fired: int = 0


@attrs.frozen
class Member:
    id: str


@action("hire", params=Member)
def hire(state: Team, params: Member) -> ActionResult[Team]:
    spawn = SpawnAgent(TALLY, params.id, restart="transient")
    return ActionResult(attrs.evolve(state, hired=state.hired + 1), directives=[spawn])


@action("fire", params=Member)
def fire(state: Team, params: Member) -> ActionResult[Team]:
    stop = StopChild(params.id)
    return ActionResult(attrs.evolve(state, fired=state.fired + 1), directives=[stop])


LEAD: Final = AgentDef(
    "lead", Team, [hire, fire], routes={"team.hire": "hire", "team.fire": "fire"}
)


# -- task children that count themselves ------------------------------------------


class Census:
    """Plain task children (not agents) that count their live incarnations by
    tree path, and those of the helper task each incarnation starts
    (``<path>+helper``). On a cooperative stop an incarnation lingers
    ``linger`` seconds (its cleanup) before it returns: past its ``shutdown``
    grace, it is cancelled."""

    def __init__(self) -> None:
        self.live: Counter[str] = Counter()
        self.starts = 0
        self.overlaps: list[str] = []  # an incarnation started while another ran

    def spec(
        self,
        id: str,
        *,
        restart: RestartType = "permanent",
        linger: float = 0.0,
        shutdown: float = 1.0,
    ) -> ChildSpec:
        return ChildSpec(id, self._run, args=(linger,), restart=restart, shutdown=shutdown)

    def left(self) -> dict[str, int]:
        """What still runs, by path (empty when nothing does)."""
        return {path: n for path, n in sorted(self.live.items()) if n}

    @contextmanager
    def _alive(self, key: str) -> Iterator[None]:
        if self.live[key]:
            self.overlaps.append(f"t={trio.current_time():g} {key} started while running")
        self.live[key] += 1
        try:
            yield
        finally:
            self.live[key] -= 1

    async def _run(
        self, linger: float, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        me = current_child()
        self.starts += 1
        with self._alive(me.path):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._helper, f"{me.path}+helper")
                task_status.started()
                await me.stop_requested.wait()
                await trio.sleep(linger)
                nursery.cancel_scope.cancel()

    async def _helper(self, key: str) -> None:
        with self._alive(key):
            await trio.sleep_forever()


# -- a supervision tree drawn by Hypothesis ---------------------------------------


@attrs.frozen
class Shape:
    """A supervision tree, three supervisors deep:

    .. code-block:: text

        root                 root_strategy, root_restarts in max_seconds
        ├── pump             a counted task child
        ├── pool             a nested supervisor: pool_strategy, pool_restarts
        │   ├── a            a tally
        │   └── cell         a nested supervisor: one_for_all, pool_restarts
        │       ├── drain    a counted task child, transient, lingering on stop
        │       └── b        a tally
        └── c                a tally, c_restart
    """

    root_strategy: Strategy = "one_for_one"
    root_restarts: int = 3
    pool_strategy: Strategy = "one_for_one"
    pool_restarts: int = 3
    max_seconds: float = 5.0
    c_restart: RestartType = "permanent"
    linger: float = 0.5
    backoff: bool = False

    def system(self, census: Census) -> chaos.System:
        backoff: dict[str, Any] = (
            {"backoff": Backoff(initial=0.1, maximum=1.0)} if self.backoff else {}
        )

        def children() -> list[ChildSpec]:
            cell = supervisor_spec(
                "cell",
                [
                    census.spec("drain", restart="transient", linger=self.linger, shutdown=1.0),
                    agent_spec("b", TALLY),
                ],
                strategy="one_for_all",
                max_restarts=self.pool_restarts,
                max_seconds=self.max_seconds,
                **backoff,
            )
            pool = supervisor_spec(
                "pool",
                [agent_spec("a", TALLY), cell],
                strategy=self.pool_strategy,
                max_restarts=self.pool_restarts,
                max_seconds=self.max_seconds,
                **backoff,
            )
            return [
                census.spec("pump", linger=self.linger),
                pool,
                agent_spec("c", TALLY, restart=self.c_restart),
            ]

        return chaos.System(
            children,
            options={
                "strategy": self.root_strategy,
                "max_restarts": self.root_restarts,
                "max_seconds": self.max_seconds,
                **backoff,
            },
        )


#: The nodes of a :class:`Shape` faults aim at, the most interesting first.
SHAPE_TARGETS: Final = (
    "root/pool",
    "root/pool/cell",
    "root/pool/a",
    "root/pump",
    "root/c",
    "root/pool/cell/drain",
    "root/pool/cell/b",
    "root/*",
    "root/pool/**",
)
#: The tallies of a :class:`Shape`, by registry name.
SHAPE_NAMES: Final = ("a", "b", "c")
#: Who passes amounts on to whom in :data:`SHAPE_WORKLOAD`, by name and by path.
SHAPE_LINKS: Final = (("a", "b"), ("b", "c"), ("c", "a"))
SHAPE_LINK_PATHS: Final = (
    ("root/pool/a", "root/pool/cell/b"),
    ("root/pool/cell/b", "root/c"),
    ("root/c", "root/pool/a"),
)


def shapes(*, max_restarts: int = 3) -> st.SearchStrategy[Shape]:
    """Supervision trees with intensities up to ``max_restarts``."""
    return st.builds(
        Shape,
        root_strategy=st.sampled_from(STRATEGIES),
        root_restarts=st.integers(0, max_restarts),
        pool_strategy=st.sampled_from(STRATEGIES),
        pool_restarts=st.integers(0, max_restarts),
        max_seconds=st.sampled_from([5.0, 1.0, 0.5]),
        c_restart=st.sampled_from(RESTART_TYPES),
        linger=st.sampled_from([0.5, 0.0, 2.0]),  # 2.0: past the 1 s grace
        backoff=st.booleans(),
    )


#: A workload for :class:`Shape` systems: each tally is called with an add
#: every half second and passes an amount on to the next one every second
#: (a -> b -> c -> a); ``b`` is asked to refuse every two seconds.
SHAPE_WORKLOAD: Final = [
    *(
        chaos.Send(to=name, signal="tally.add", data={"amount": 1}, call=True, every=0.5)
        for name in SHAPE_NAMES
    ),
    *(
        chaos.Send(to=name, signal="tally.pass", data={"to": to, "amount": 1}, every=1.0, at=0.25)
        for name, to in SHAPE_LINKS
    ),
    chaos.Send(to="b", signal="tally.refuse", call=True, every=2.0, at=0.75),
]


# -- running to the end ------------------------------------------------------------


@attrs.frozen
class Aftermath:
    """A run's report, and what was left of the system once it was over."""

    report: chaos.RunReport
    tree: list[ChildInfo]  # jido_trio.tree() after the run
    names: list[str]  # the registry's names after the run
    tasks: list[str]  # tasks started during the run and still there
    agents: list[AgentRef]  # every agent started during the run, replaced ones too

    def unaccounted(self) -> list[str]:
        """The agents whose messages do not add up now that they are stopped:
        ``sent == processed + dead_lettered``, nothing queued or in flight."""
        out = []
        for ref in self.agents:
            s = ref.stats()
            if s.sent != s.processed + s.dead_lettered or s.queued or s.in_flight:
                out.append(f"{ref!r}: {s}")
        return out


def _tasks() -> list[trio.lowlevel.Task]:
    out: list[trio.lowlevel.Task] = []
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        if task is None:
            continue
        out.append(task)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return out


def run_to_the_end(system: chaos.System, plan: chaos.FaultPlan, **options: Any) -> Aftermath:
    """``chaos.run_async(system, plan, **options)`` in a Trio run of its own (on
    a fresh virtual clock), then a look at what is left in that run once the
    system is stopped: the tree, the registry, any task, and every agent that
    ever started (a telemetry handler collects them)."""
    agents: dict[int, AgentRef] = {}

    def started(event: jido_trio.TelemetryEvent) -> None:
        value = event.data.get("value")
        if isinstance(value, AgentRef):
            agents.setdefault(id(value), value)

    async def main() -> Aftermath:
        before = set(_tasks())
        with jido_trio.attach_telemetry(started, events=["child.started"]):
            report = await chaos.run_async(system, plan, **options)
        await trio.testing.wait_all_tasks_blocked()
        after = [
            task.name
            for task in _tasks()
            if task not in before and task.name != "jido_trio.deadlines"
        ]
        return Aftermath(
            report=report,
            tree=jido_trio.tree(),
            names=jido_trio.current_registry().names(),
            tasks=sorted(after),
            agents=list(agents.values()),
        )

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


# -- checks -------------------------------------------------------------------------


def registry_problems(agents: dict[str, AgentRef] | None = None) -> list[str]:
    """What is wrong with the run's registry now: a name that does not map to
    a live agent registered under that name whose node is in the tree and not
    stopped; given the run's ``agents``, a live named agent that its name does
    not map to."""
    registry = jido_trio.current_registry()
    nodes = {info.path: info for info in jido_trio.tree()}
    problems = []
    for name in registry.names():
        value = registry.whereis(name)
        if not isinstance(value, AgentRef):
            problems.append(f"{name!r} maps to {value!r}, not an agent")
        elif value.name != name:
            problems.append(f"{name!r} maps to {value!r}, registered as {value.name!r}")
        elif not value.alive:
            problems.append(f"{name!r} maps to {value!r}, stopped for good")
        elif value.path not in nodes:
            problems.append(f"{name!r} maps to {value!r}, which is not in the tree")
        elif nodes[value.path].status == "stopped":
            problems.append(f"{name!r} maps to {value!r}, whose node is stopped")
    for path, ref in sorted((agents or {}).items()):
        if ref.alive and ref.name is not None and registry.whereis(ref.name) is not ref:
            holder = registry.whereis(ref.name)
            problems.append(f"{path} is alive but its name {ref.name!r} maps to {holder!r}")
    return problems


def registry_consistent() -> chaos.Invariant:
    """After every committed state: every registered name maps to a live agent
    of that name, in the tree."""

    def check(path: str, state: Any) -> bool | str:
        problems = registry_problems()
        return "; ".join(problems) if problems else True

    return chaos.Invariant("registry_consistent", check)


def registry_settled() -> chaos.Eventually:
    """At the end of the quiet period: names map to live agents whose nodes
    are not stopped, and every live agent the run saw holds its name."""

    def check(view: chaos.SystemView) -> bool | str:
        problems = registry_problems(view.agents())
        return "; ".join(problems) if problems else True

    return chaos.Eventually("registry_settled", check)


def accounting_identity() -> chaos.Eventually:
    """At the end of the quiet period, for every agent the run saw:
    ``sent == processed + dead_lettered + queued + in_flight``, and each of
    its dead letters is one of the run's."""

    def check(view: chaos.SystemView) -> bool | str:
        letters = {id(letter) for letter in view.dead_letters()}
        problems = []
        for path, ref in sorted(view.agents().items()):
            s = ref.stats()
            if s.sent != s.processed + s.dead_lettered + s.queued + s.in_flight:
                problems.append(
                    f"{path}: sent={s.sent} processed={s.processed} "
                    f"dead_lettered={s.dead_lettered} queued={s.queued} in_flight={s.in_flight}"
                )
            own = ref.dead_letters
            if len(own) != s.dead_lettered or any(id(letter) not in letters for letter in own):
                problems.append(
                    f"{path}: dead_lettered={s.dead_lettered}, it holds {len(own)} dead "
                    f"letter(s), {sum(id(d) not in letters for d in own)} not in the run's"
                )
        return "; ".join(problems) if problems else True

    return chaos.Eventually("accounting_identity", check)


def answers_probes(names: Sequence[str], *, timeout: float = 1.0) -> chaos.Eventually:
    """At the end of the quiet period, each tally of ``names`` that is running
    answers a ``get`` within ``timeout`` with the total of its state."""

    async def check(view: chaos.SystemView) -> bool | str:
        problems = []
        for name in names:
            ref = jido_trio.whereis(name)
            if not isinstance(ref, AgentRef):
                continue  # stopped for good (a temporary agent): nothing to ask
            total = await view.call(name, get(), timeout=timeout)
            if total != ref.state.total:
                problems.append(f"{name} answered {total}, its state holds {ref.state}")
        return "; ".join(problems) if problems else True

    return chaos.Eventually("answers_probes", check)


def census_matches_tree(census: Census) -> chaos.Eventually:
    """At the end of the quiet period, each counted task child the tree says
    is running runs exactly one incarnation and one helper task, and any
    other runs none."""

    def check(view: chaos.SystemView) -> bool | str:
        status = {info.path: info.status for info in view.tree()}
        problems = []
        for key, n in sorted(census.live.items()):
            path = key.removesuffix("+helper")
            expected = 1 if status.get(path) == "running" else 0
            if n != expected:
                problems.append(f"{key}: {n} running, its node is {status.get(path, 'gone')}")
        return "; ".join(problems) if problems else True

    return chaos.Eventually("census_matches_tree", check)


def up_unless_escalated() -> chaos.Eventually:
    """``all_running``, except when the root supervisor gave up: then every
    node is gone, and some supervisor escalated."""

    def check(view: chaos.SystemView) -> bool | str:
        nodes = view.tree()
        if not nodes:
            if view.metrics["escalations"] >= 1:
                return True
            return "the root is down, but no supervisor escalated"
        down = [
            f"{info.path} is {info.status}"
            for info in nodes
            if info.status != "running"
            and not (info.status == "stopped" and info.restart != "permanent")
        ]
        return "; ".join(down) if down else True

    return chaos.Eventually("up_unless_escalated", check)


# -- an agent that spawns agents --------------------------------------------------

#: The members a lead hires, by id (= registry name).
MEMBERS: Final = ("m0", "m1", "m2")
#: The nodes of :func:`team_system` faults aim at, the most interesting first.
TEAM_TARGETS: Final = ("root/lead", "root/lead/m0", "root/lead/*", "root/c", "root/**")


def team_system(*, member_restarts: int = 3) -> chaos.System:
    """``root/lead``, a :data:`LEAD` whose own supervisor (``member_restarts``
    in 5 s) runs the tallies it hires (``root/lead/m0``, ...), and ``root/c``,
    a tally the members pass amounts on to."""

    def children() -> list[ChildSpec]:
        return [
            agent_spec("lead", LEAD, children={"max_restarts": member_restarts}),
            agent_spec("c", TALLY),
        ]

    return chaos.System(children, options={"max_restarts": 100})


#: Hires, fires and work for :func:`team_system`: member ``m<i>`` is hired at
#: ``i`` and fired at ``i + 2``, every 3 s (calls the lead answers), and
#: while it is hired it is sent adds and passes amounts on to ``c`` (casts:
#: between its fire and its hire there is no such agent).
TEAM_WORKLOAD: Final = [
    *(
        send
        for i, member in enumerate(MEMBERS)
        for send in (
            chaos.Send(
                to="lead", signal="team.hire", data={"id": member}, call=True, at=i, every=3.0
            ),
            chaos.Send(
                to="lead",
                signal="team.fire",
                data={"id": member},
                call=True,
                at=i + 2.0,
                every=3.0,
            ),
            chaos.Send(to=member, signal="tally.add", data={"amount": 1}, every=0.5),
            chaos.Send(
                to=member, signal="tally.pass", data={"to": "c", "amount": 1}, at=0.25, every=1.0
            ),
        )
    ),
]


def team_settled(end: float) -> chaos.Eventually:
    """At ``end`` (the end of the quiet period, at least 3 s long), the lead
    runs exactly the members :data:`TEAM_WORKLOAD` last hired and did not fire
    since, each one registered under its id."""

    def last(first: float) -> float:  # the last send of a train every 3 s before end
        return first + 3.0 * math.floor((end - first - 1e-9) / 3.0) if first < end else -1.0

    expected = [m for i, m in enumerate(MEMBERS) if last(float(i)) > last(i + 2.0)]

    def check(view: chaos.SystemView) -> bool | str:
        lead = jido_trio.whereis("lead")
        if not view.tree() and lead is None:
            return True  # the root gave up (up_unless_escalated judges that)
        if not isinstance(lead, AgentRef):
            return f"'lead' maps to {lead!r}"
        children = lead.children()
        if sorted(children) != expected:
            return f"the lead runs {sorted(children)}, expected {expected}"
        wrong = [m for m, ref in children.items() if jido_trio.whereis(m) is not ref]
        return f"not registered to themselves: {wrong}" if wrong else True

    return chaos.Eventually("team_settled", check)


# -- tallies side by side ---------------------------------------------------------

#: The tallies of :func:`tallies_system`, by registry name: ``narrow`` has a
#: mailbox of two messages, so callers wait for room.
TALLIES: Final = ("t0", "t1", "narrow")
TALLY_TARGETS: Final = ("root/t0", "root/narrow", "root/t1", "root/*")


def tallies_system() -> chaos.System:
    """Three tallies under a root that does not give up (1000 restarts in 5 s)."""

    def children() -> list[ChildSpec]:
        return [
            agent_spec("t0", TALLY),
            agent_spec("t1", TALLY),
            agent_spec("narrow", TALLY, mailbox_size=2),
        ]

    return chaos.System(children, options={"max_restarts": 1000})


#: Timeouts a drawn call may have, shortest first (Hypothesis shrinks toward it).
TIMEOUTS: Final = (0.01, 0.1, 0.25, 0.5, 1.0, 3.0)


def calls(*, horizon: float, timeouts: Sequence[float] = TIMEOUTS) -> st.SearchStrategy[chaos.Send]:
    """A ``tally.add`` call (or a train of them, until ``horizon``) to one of
    :data:`TALLIES`, from a quarter second in ``[0, horizon)``, with a timeout
    from ``timeouts``."""
    return st.builds(
        chaos.Send,
        to=st.sampled_from(TALLIES),
        signal=st.just("tally.add"),
        data=st.just({"amount": 1}),
        call=st.just(True),
        timeout=st.sampled_from(timeouts),
        at=st.integers(0, int(horizon * 4) - 1).map(lambda q: q / 4),
        every=st.sampled_from([None, 0.25, 1.0]),
        until=st.just(horizon),
    )


def adds_match_processed(names: Sequence[str]) -> chaos.Eventually:
    """At the end of the quiet period, each tally of ``names`` (sent nothing
    but adds) has applied exactly the adds it counts as processed. Put it
    before any check that probes them."""

    def check(view: chaos.SystemView) -> bool | str:
        problems = []
        for name in names:
            ref = view.agent(name)
            processed = ref.stats().processed
            if ref.state.adds != processed:
                problems.append(f"{name}: processed={processed} but its state is {ref.state}")
        return "; ".join(problems) if problems else True

    return chaos.Eventually("adds_match_processed", check)
