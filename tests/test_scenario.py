"""Scenario files: loading, running, rewriting (the regression file a shrunk
plan becomes), ``module:attr`` resolution, the bundled scenarios of
docs/examples/, the starter scenario and the JSON Schema.

The error messages of bad documents are pinned in ``test_scenario_errors.py``;
Hypothesis throws malformed documents at the loader in
``test_scenario_properties.py``.
"""

from __future__ import annotations

import os
import pickle
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from docs_examples import EXAMPLES_DIR

import chaos
import jido_trio
from chaos import FaultPlan, Scenario, ScenarioError

DEMAND = EXAMPLES_DIR / "chaos_demand_tracker.yaml"
STORM = EXAMPLES_DIR / "chaos_pipeline_storm.yaml"
PARTITION = EXAMPLES_DIR / "chaos_partition.yaml"
PLANTED = EXAMPLES_DIR / "planted_bug.yaml"
BUNDLED = [DEMAND, STORM, PARTITION, PLANTED]


@pytest.fixture
def fresh_modules(tmp_path: Path) -> Iterator[None]:
    """Forget the modules a test imported from its own tmp directory (and only those)."""
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def unique(prefix: str) -> str:
    """A module name no other test uses (sys.modules is per process)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def minimal(children: str = "", **top: str) -> str:
    """A small valid scenario (an idle task), with extra top-level lines."""
    body = children or "    - task: trio:sleep_forever\n      id: idle\n"
    lines = "".join(f"{key}: {value}\n" for key, value in top.items())
    return f"version: 1\nname: mini\n{lines}system:\n  children:\n{body}"


# -- the bundled scenarios ---------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenario_loads(path: Path) -> None:
    """Every bundled scenario loads, with a description and a plan."""
    scenario = chaos.load_scenario(path)
    assert scenario.path == path
    assert scenario.description.strip()
    assert len(scenario.plan) >= 1
    assert scenario.document["version"] == 1


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_demand_tracker_survives(seed: int | None) -> None:
    """The demand tracker keeps every check through kills, crashes and corruption,
    for the file's seed and a few more."""
    scenario = chaos.load_scenario(DEMAND)
    report = scenario.run(seed)
    assert report.ok, report.explain()
    assert report.coverage_ok, report.explain()
    assert report.seed == (42 if seed is None else seed)
    kinds = {record.kind for record in report.faults if record.hit}
    assert {"kill", "crash", "corrupt_message"} <= kinds
    assert report.check("demand in range").verdict == "pass"
    assert report.check("tracker answers").verdict == "pass"
    assert report.check("few dead letters").kind == "bound"


def test_bounds_accept_every_metric_a_run_reports() -> None:
    """Every metric a run reports can be named by a bound (the loader's list of
    metric names follows the engine's)."""
    report = chaos.load_scenario(DEMAND).run()
    bounds = "".join(f"    - {{metric: '{name}', max: 1000000000}}\n" for name in report.metrics)
    text = minimal(checks="\n  bounds:\n" + bounds)
    scenario = chaos.loads_scenario(text)
    assert len(scenario.checks) == len(report.metrics) > 20


def test_demand_tracker_is_deterministic() -> None:
    """Two runs of the bundled demand-tracker scenario give the same trace, event for event."""
    scenario = chaos.load_scenario(DEMAND)
    report = scenario.check_determinism()
    assert report.ok
    assert report.digest == scenario.run().digest


@pytest.mark.parametrize("seed", [None, 0, 1])
def test_pipeline_storm_escalates(seed: int | None) -> None:
    """The restart storm makes the rest_for_one pipeline escalate exactly once,
    and everything runs and flows after it."""
    report = chaos.load_scenario(STORM).run(seed)
    assert report.ok, report.explain()
    assert report.metrics["escalations"] == 1
    assert report.metrics["restarts:root/pipeline"] == 1
    assert report.check("escalations >= 1 and <= 1").verdict == "pass"
    assert report.check("records flow again").verdict == "pass"
    assert report.check("all_running").verdict == "pass"


def test_pipeline_storm_bound_fails_without_the_storm() -> None:
    """The escalation bound is what makes the scenario fail when nothing escalates."""
    report = chaos.load_scenario(STORM).with_plan(FaultPlan()).run()
    assert [c.name for c in report.failures] == [
        "escalations >= 1 and <= 1",
        "restarts:root/pipeline >= 1 and <= 1",
    ]
    assert report.check("escalations >= 1 and <= 1").detail == "escalations = 0"


@pytest.mark.parametrize("seed", [None, 0, 1])
def test_partition_heals(seed: int | None) -> None:
    """Work lost to the partition is redelivered once it heals: nothing is pending."""
    report = chaos.load_scenario(PARTITION).run(seed)
    assert report.ok, report.explain()
    assert report.check("nothing pending").verdict == "pass"
    dropped = [r for r in report.faults if r.kind == "partition" and "dropped" in r.effect]
    assert len(dropped) >= 2


def test_planted_bug_fails_with_the_expected_check() -> None:
    """The planted bug makes the scenario fail, deterministically, on its invariant
    (and the books then do not balance)."""
    scenario = chaos.load_scenario(PLANTED)
    report = scenario.check_determinism()
    assert not report.ok
    assert [(c.kind, c.name) for c in report.failures] == [
        ("always", "each order booked once"),
        ("eventually", "books balance"),
    ]
    assert report.check("each order booked once").detail.startswith(
        "t=9 root/ledger: booked order-19 2 times"
    )
    assert report.check("books balance").detail == "ledger balance 510 != orders total 500"


def test_planted_bug_needs_only_the_duplicate() -> None:
    """The plan shrinks to the one duplicate fault: it alone fails the same check,
    and the plan without it passes."""
    scenario = chaos.load_scenario(PLANTED)
    duplicate = [f for f in scenario.plan.faults if isinstance(f, chaos.Duplicate)]
    others = [f for f in scenario.plan.faults if not isinstance(f, chaos.Duplicate)]
    alone = scenario.run(plan=FaultPlan(tuple(duplicate)))
    assert [c.name for c in alone.failures] == ["each order booked once", "books balance"]
    assert scenario.run(plan=FaultPlan(tuple(others))).ok


# -- running --------------------------------------------------------------------


def test_loaded_fields() -> None:
    """The loader reads durations with units, and fills every default."""
    scenario = chaos.loads_scenario(minimal(duration="250ms", quiet_period="1m"))
    assert (scenario.name, scenario.description, scenario.seed) == ("mini", "", 0)
    assert (scenario.duration, scenario.quiet_period) == (0.25, 60.0)
    assert (scenario.clock, scenario.swarm) == ("virtual", False)
    assert scenario.path is None
    assert scenario.system.name == "root"
    assert scenario.system.options == {}
    assert (scenario.workload, scenario.checks, scenario.disable) == ((), (), frozenset())
    assert scenario.plan == FaultPlan()


def test_defaults_when_nothing_is_given() -> None:
    """duration defaults to 30s and quiet_period to 10s, as chaos.run's."""
    scenario = chaos.loads_scenario(minimal())
    assert (scenario.duration, scenario.quiet_period) == (30.0, 10.0)


def test_run_passes_everything_to_chaos_run() -> None:
    """Scenario.run() runs the tree, workload, faults and checks of the file, with
    the file's durations; seed= overrides the file's seed."""
    text = minimal(
        seed="4",
        duration="10s",
        quiet_period="2s",
        faults="[{kind: kill, target: root/idle, at: 3s}]",
        workload="[{call: idle, signal: ping, at: 1s, timeout: 250ms}]",
        checks="{disable: [faults_hit], bounds: [{metric: restarts, min: 1, max: 1}]}",
    )
    scenario = chaos.loads_scenario(text)
    report = scenario.run()
    assert (report.seed, report.duration, report.quiet_period) == (4, 10.0, 2.0)
    # 10s + 2s, then the idle task ignores the stop: its 5s shutdown grace runs out
    assert report.metrics["time"] == 17.0
    assert [(r.time, r.path, r.effect) for r in report.faults] == [(3.0, "root/idle", "killed")]
    assert report.check("restarts >= 1 and <= 1").verdict == "pass"
    assert "faults_hit" not in [c.name for c in report.checks]
    assert scenario.workload == (
        chaos.Send(to="idle", signal="ping", call=True, at=1.0, timeout=0.25),
    )
    assert report.metrics["calls.no_agent"] == 1  # the idle task is not an agent
    assert scenario.run(9).seed == 9


def test_every_run_gets_fresh_agents_and_stores() -> None:
    """The system is rebuilt for every run (agents, memory stores): two runs of
    one scenario are identical, not the second continuing the first."""
    text = textwrap.dedent(
        """\
        version: 1
        name: fresh
        duration: 5s
        quiet_period: 1s
        system:
          children:
            - agent: demand_tracker:DEMAND_TRACKER
              id: tracker
              state: {listing_id: l-1, demand: 10}
              store: memory
        workload:
          - call: tracker
            signal: listing.demand.boost
            data: {amount: 1}
            every: 1s
        faults:
          - {kind: kill, target: root/tracker, at: 2500ms}
        """
    )
    scenario = chaos.loads_scenario(text, path=EXAMPLES_DIR / "fresh.yaml")
    specs = [scenario.system.children(), scenario.system.children()]
    assert specs[0][0] is not specs[1][0]
    first, second = scenario.run(), scenario.run()
    assert first.digest == second.digest
    assert first.metrics["calls.ok"] == second.metrics["calls.ok"] == 6


def test_plan_override_replays_the_recorded_run() -> None:
    """run(plan=report.plan) with the report's seed replays a run event for event,
    generators and swarm mode included (the plan given is the one to run)."""
    text = DEMAND.read_text(encoding="utf-8").replace("seed: 42", "seed: 42\nswarm: true")
    scenario = chaos.loads_scenario(text, path=DEMAND)
    assert scenario.swarm
    first = scenario.run(5)
    assert first.swarm is not None
    assert first.plan.concrete
    again = scenario.run(5, plan=first.plan)
    assert again.digest == first.digest
    assert again.swarm is None


def test_metric_predicate_bounds(tmp_path: Path, fresh_modules: None) -> None:
    """A bound given as predicate: is judged on the report's metrics: passing,
    failing with its string, failing when it raises."""
    module = unique("bounds")
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            """\
            def calm(metrics):
                return metrics["restarts"] == 0

            def strict(metrics):
                return f"{metrics['restarts']:g} restarts"

            def broken(metrics):
                return metrics["no such metric"]
            """
        ),
        encoding="utf-8",
    )
    checks = (
        f"{{bounds: [{{predicate: '{module}:calm'}}, {{predicate: '{module}:strict', "
        f"name: strict}}, {{predicate: '{module}:broken', name: broken}}]}}"
    )
    scenario = chaos.loads_scenario(
        minimal(duration="1s", quiet_period="0s", checks=checks), path=tmp_path / "s.yaml"
    )
    report = scenario.run()
    bounds = [(c.name, c.kind, c.verdict, c.detail) for c in report.checks if c.kind == "bound"]
    assert bounds == [
        (f"{module}:calm", "bound", "pass", ""),
        ("strict", "bound", "fail", "0 restarts"),
        ("broken", "bound", "fail", "the predicate raised KeyError: 'no such metric'"),
    ]
    assert [c.name for c in report.failures] == ["strict", "broken"]


# -- rewriting: with_plan and to_yaml ----------------------------------------------


def test_with_plan_to_yaml_round_trips() -> None:
    """A scenario rewritten with a concrete plan and seed loads back to the same
    scenario, and fails the same way (the regression file of a shrink)."""
    scenario = chaos.load_scenario(PLANTED)
    duplicate = FaultPlan(tuple(f for f in scenario.plan.faults if f.kind == "duplicate"))
    shrunk = scenario.with_plan(duplicate, seed=8)
    text = shrunk.to_yaml(comment="shrunk from seed 3\nby chaos shrink")
    assert text.startswith("# shrunk from seed 3\n# by chaos shrink\nversion: 1\nname: ")
    loaded = chaos.loads_scenario(text, path=PLANTED)
    assert (loaded.plan, loaded.seed, loaded.name) == (duplicate, 8, scenario.name)
    assert loaded.document["faults"] == [
        {
            "kind": "duplicate",
            "target": "root/ledger",
            "at": 8.0,
            "nth": 3,
            "source": "root/orders",
        }
    ]
    report = loaded.run()
    assert [c.name for c in report.failures] == ["each order booked once", "books balance"]


def test_with_plan_of_a_concrete_plan_turns_swarm_off() -> None:
    """Rewriting a swarm scenario with the concrete plan a seed chose writes
    swarm: false (a concrete plan is not narrowed again)."""
    text = DEMAND.read_text(encoding="utf-8").replace("seed: 42", "seed: 42\nswarm: true")
    scenario = chaos.loads_scenario(text, path=DEMAND)
    report = scenario.run()
    rewritten = scenario.with_plan(report.plan)
    assert (rewritten.swarm, rewritten.document["swarm"]) == (False, False)
    assert scenario.with_plan(scenario.plan).swarm is True
    again = chaos.loads_scenario(rewritten.to_yaml(), path=DEMAND).run()
    assert again.digest == report.digest


def test_to_yaml_for_another_directory(tmp_path: Path) -> None:
    """Written for another directory, a scenario gets a pythonpath back to its
    own, so its modules still resolve; it loads and runs from there."""
    scenario = chaos.load_scenario(STORM)
    target = tmp_path / "regressions"
    target.mkdir()
    (target / "storm.yaml").write_text(scenario.to_yaml(directory=target), encoding="utf-8")
    moved = chaos.load_scenario(target / "storm.yaml")
    assert moved.document["pythonpath"] == [os.path.relpath(EXAMPLES_DIR, target)]
    assert moved.run().digest == scenario.run().digest


def test_sqlite_store_starts_empty_every_run(tmp_path: Path) -> None:
    """store: {sqlite: file} is relative to the scenario, and every run starts
    with no database (a run's checkpoints are its own)."""
    text = minimal(
        "    - agent: demand_tracker:DEMAND_TRACKER\n"
        "      id: tracker\n"
        "      store: {sqlite: ckpt.db}\n",
        pythonpath=f"[{EXAMPLES_DIR}]",
    )
    scenario = chaos.loads_scenario(text, path=tmp_path / "s.yaml")
    (tmp_path / "ckpt.db").write_bytes(b"an old run")
    (spec,) = scenario.system.children()
    assert spec.id == "tracker"
    assert not (tmp_path / "ckpt.db").exists()


# -- module:attr resolution ----------------------------------------------------------


def write_agent_module(directory: Path, name: str, *, agent: str = "COUNTER") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.py").write_text(
        textwrap.dedent(
            f"""\
            from __future__ import annotations

            import attrs

            from jido_trio import AgentDef, NoParams, action


            @attrs.frozen
            class Count:
                n: int = 0


            @action("bump")
            def bump(state: Count, params: NoParams) -> Count:
                return Count(state.n + 1)


            {agent} = AgentDef("counter", Count, [bump], routes={{"count.bump": "bump"}})
            """
        ),
        encoding="utf-8",
    )


def agent_scenario(module: str, agent: str = "COUNTER", **top: str) -> str:
    return minimal(
        f"    - agent: {module}:{agent}\n      id: counter\n      state: {{n: 1}}\n", **top
    )


def test_module_next_to_the_scenario(tmp_path: Path, fresh_modules: None) -> None:
    """module:attr resolves in the scenario's directory, and the module is
    importable afterwards by its own name (cattrs finds its classes there)."""
    module = unique("agents")
    write_agent_module(tmp_path, module)
    saved = list(sys.path)
    scenario = chaos.loads_scenario(agent_scenario(module), path=tmp_path / "s.yaml")
    assert sys.path == saved
    assert sys.modules[module].__file__ == str(tmp_path / f"{module}.py")
    report = scenario.run()
    assert report.ok, report.explain()


def test_module_on_the_pythonpath(tmp_path: Path, fresh_modules: None) -> None:
    """pythonpath: directories, relative to the scenario, are searched after its own."""
    module = unique("agents")
    write_agent_module(tmp_path / "lib", module)
    text = agent_scenario(module, pythonpath="[lib]")
    scenario = chaos.loads_scenario(text, path=tmp_path / "s.yaml")
    assert sys.modules[module].__file__ == str(tmp_path / "lib" / f"{module}.py")
    assert scenario.system.children()[0].id == "counter"


def test_two_directories_with_one_module_name_clash(tmp_path: Path, fresh_modules: None) -> None:
    """Two scenario directories holding different modules of one name cannot be
    loaded in one process: the second is refused with both files named."""
    module = unique("agents")
    write_agent_module(tmp_path / "a", module)
    write_agent_module(tmp_path / "b", module)
    chaos.loads_scenario(agent_scenario(module), path=tmp_path / "a" / "s.yaml")
    with pytest.raises(ScenarioError) as info:
        chaos.loads_scenario(agent_scenario(module), path=tmp_path / "b" / "s.yaml")
    a, b = tmp_path / "a" / f"{module}.py", tmp_path / "b" / f"{module}.py"
    assert info.value.errors == (
        f"line 5: the module {module!r} next to this scenario ({b}) clashes with the module "
        f"{module!r} this process already imported ({a}): a process imports a module name "
        "once, so rename one of them @ $.system.children[0].agent",
    )
    again = chaos.loads_scenario(agent_scenario(module), path=tmp_path / "a" / "t.yaml")
    assert again.system.children()[0].id == "counter"


def test_module_from_sys_path() -> None:
    """A module that is not next to the scenario comes from sys.path (trio here)."""
    scenario = chaos.loads_scenario(minimal(), path=EXAMPLES_DIR / "s.yaml")
    (spec,) = scenario.system.children()
    assert spec.start.__qualname__ == "sleep_forever"


# -- the starter ---------------------------------------------------------------------


def test_new_scenario_placeholder_validates_and_runs() -> None:
    """The starter with no system loads and runs as written: its kill hits the
    placeholder task, which is restarted."""
    text = chaos.new_scenario()
    assert text.startswith("# A chaos scenario: run it with `python -m chaos run")
    scenario = chaos.loads_scenario(text)
    assert scenario.name == "starter"
    report = scenario.run()
    assert report.ok, report.explain()
    assert report.metrics["restarts:root/idle"] == 1


@pytest.mark.parametrize(
    "system",
    [
        "demand_tracker:DEMAND_TRACKER",
        "orchestrator",
        "orchestrator:WRITER",
        "pipeline",
        "dispatch",
        "ledger",
    ],
)
def test_new_scenario_for_a_system_validates_and_runs(system: str) -> None:
    """The starter for an AgentDef (or a module of them) names every agent, lists
    its actions and routes, calls one of each routed signal, and runs."""
    text = chaos.new_scenario(system, directory=EXAMPLES_DIR)
    scenario = chaos.loads_scenario(text, path=EXAMPLES_DIR / "starter.yaml")
    report = scenario.run()
    assert not any(c.name == "no_unexpected_crash" for c in report.failures), report.explain()
    assert scenario.document["workload"]
    for send in scenario.workload:
        assert send.call
        assert send.every == 1.0
    assert report.faults[0].effect == "killed"


def test_new_scenario_lists_actions_and_routes() -> None:
    """The starter comments say what each action takes and which signals route to it."""
    text = chaos.new_scenario("demand_tracker:DEMAND_TRACKER", directory=EXAMPLES_DIR)
    assert "    #   action boost (amount: int = 10) <- listing.demand.boost\n" in text
    assert "    #   action decay (no params) <- heartbeat.tick\n" in text
    assert "    - agent: demand_tracker:DEMAND_TRACKER\n      id: demand_tracker\n" in text
    assert "  - call: demand_tracker\n    signal: cleanup.run\n    every: 1s\n" in text


def test_new_scenario_fills_required_params() -> None:
    """Required params get sample values, so the sends are not invalid on arrival."""
    text = chaos.new_scenario("orchestrator:WRITER", directory=EXAMPLES_DIR)
    assert "    data: {job: example, topic: example, words: 1, reply_to: example}\n" in text


@pytest.mark.parametrize(
    ("system", "error"),
    [
        ("no_such_module_xyz", "no module named 'no_such_module_xyz' on sys.path"),
        (
            "demand_checks",
            "the module 'demand_checks' defines no jido_trio.AgentDef at module level",
        ),
        (
            "demand_tracker:boost",
            "'demand_tracker:boost' is an Action (Action(name='boost', params=BoostParams, "
            "run=<function bo...); expected a jido_trio.AgentDef or a module of them",
        ),
        ("not a module", "expected 'module' or 'module:attr', got 'not a module'"),
    ],
)
def test_new_scenario_refuses_what_is_not_a_system(system: str, error: str) -> None:
    """new_scenario() names what it could not use."""
    directory = None if system.startswith("no_such") else EXAMPLES_DIR
    with pytest.raises(ScenarioError) as info:
        chaos.new_scenario(system, directory=directory)
    assert info.value.errors == (error,)
    assert str(info.value).startswith("--system: cannot start a scenario:\n")


# -- the error type ------------------------------------------------------------------


def test_scenario_error_pickles() -> None:
    """A ScenarioError crosses process boundaries (the CLI's workers) intact."""
    error = ScenarioError("s.yaml", ["line 1: bad @ $"])
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.file, again.errors, str(again)) == (
        ScenarioError,
        "s.yaml",
        ("line 1: bad @ $",),
        "s.yaml: invalid scenario:\n  line 1: bad @ $",
    )
    assert isinstance(again, chaos.ChaosError)
    assert isinstance(again, ValueError)


def test_scenario_names_are_public() -> None:
    """The scenario API is re-exported by chaos, under its public names."""
    for name in (
        "Scenario",
        "ScenarioError",
        "load_scenario",
        "loads_scenario",
        "new_scenario",
        "scenario_schema",
    ):
        assert getattr(chaos, name).__module__ == "chaos"
    assert attrs.has(Scenario)


# -- every key -------------------------------------------------------------------------


def test_every_key_of_the_tree_reaches_jido_trio(tmp_path: Path, fresh_modules: None) -> None:
    """Root, nested supervisor, agent and task options all arrive in the specs
    and supervisor options the run opens (durations in seconds)."""
    module = unique("tasks")
    (tmp_path / f"{module}.py").write_text(
        "async def worker(n, label, *, task_status):\n    task_status.started((n, label))\n",
        encoding="utf-8",
    )
    text = textwrap.dedent(
        f"""\
        version: 1
        name: every-key
        pythonpath: [{EXAMPLES_DIR}]
        system:
          name: app
          strategy: one_for_all
          max_restarts: 2
          max_seconds: 1500ms
          auto_shutdown: any_significant
          max_children: 5
          backoff: {{initial: 10ms, factor: 3, maximum: 1s, jitter: 0}}
          children:
            - agent: orchestrator:ORCHESTRATOR
              id: boss
              name: false
              restart: transient
              significant: true
              shutdown: null
              mailbox_size: 7
              restart_from: initial
              dead_letter_limit: 9
              children: {{strategy: one_for_one, max_restarts: 1, max_seconds: 2s}}
              state: {{name: boss}}
            - task: {module}:worker
              id: job
              args: [1, x]
              restart: temporary
              shutdown: 0
            - supervisor: inner
              strategy: rest_for_one
              restart: transient
              shutdown: 1m
              children: []
        """
    )
    scenario = chaos.loads_scenario(text, path=tmp_path / "s.yaml")
    system = scenario.system
    assert system.name == "app"
    assert dict(system.options) == {
        "strategy": "one_for_all",
        "max_restarts": 2,
        "max_seconds": 1.5,
        "auto_shutdown": "any_significant",
        "max_children": 5,
        "backoff": jido_trio.Backoff(initial=0.01, factor=3.0, maximum=1.0, jitter=0.0),
    }
    boss, job, inner = system.children()
    assert (boss.id, boss.restart, boss.significant, boss.shutdown) == (
        "boss",
        "transient",
        True,
        None,
    )
    assert jido_trio.spec_ref(boss).name is None
    assert (job.id, job.args, job.restart, job.shutdown) == ("job", (1, "x"), "temporary", 0.0)
    assert (inner.id, inner.kind, inner.restart, inner.shutdown) == (
        "inner",
        "supervisor",
        "transient",
        60.0,
    )


def test_the_root_may_be_renamed() -> None:
    """system.name renames the root: every tree path starts with it."""
    text = minimal(faults="[{kind: kill, target: app/idle, at: 1s}]").replace(
        "system:\n", "system:\n  name: app\n"
    )
    scenario = chaos.loads_scenario(text)
    report = scenario.run()
    assert [(r.path, r.effect) for r in report.faults] == [("app/idle", "killed")]


def test_sqlite_in_memory_store(tmp_path: Path) -> None:
    """store: {sqlite: ':memory:'} needs no file."""
    text = minimal(
        "    - agent: demand_tracker:DEMAND_TRACKER\n"
        "      id: t\n"
        "      store: {sqlite: ':memory:'}\n",
        pythonpath=f"[{EXAMPLES_DIR}]",
    )
    (spec,) = chaos.loads_scenario(text, path=tmp_path / "s.yaml").system.children()
    assert spec.id == "t"
    assert list(tmp_path.iterdir()) == []


def test_random_generator_params_and_mutators(tmp_path: Path, fresh_modules: None) -> None:
    """random: params reach the generated faults; mutators (module:function) are
    resolved next to the scenario, in faults and in generator params."""
    module = unique("mutators")
    (tmp_path / f"{module}.py").write_text(
        "def zero(state, rng):\n    return type(state)(listing_id=state.listing_id, demand=0)\n",
        encoding="utf-8",
    )
    text = minimal(
        "    - agent: demand_tracker:DEMAND_TRACKER\n      id: t\n",
        pythonpath=f"[{EXAMPLES_DIR}]",
        duration="5s",
        workload="[{call: t, signal: listing.demand.boost, every: 1s}]",
        faults=(
            f"[{{kind: corrupt_state, target: root/t, nth: 1, mutator: '{module}:zero'}}, "
            f"{{random: {{rate: 2, kinds: [corrupt_state], targets: [root/t], "
            f"params: {{corrupt_state: {{mutator: '{module}:zero'}}}}}}}}]"
        ),
    )
    scenario = chaos.loads_scenario(text, path=tmp_path / "s.yaml")
    report = scenario.run()
    generated = [f for f in report.plan.faults[1:] if isinstance(f, chaos.CorruptState)]
    assert generated
    assert {f.mutator for f in generated} == {f"{module}:zero"}
    assert report.faults[0].effect == "corrupted the state"


def test_new_scenario_samples_every_param_type(tmp_path: Path, fresh_modules: None) -> None:
    """Sample data covers the param types a cattrs structure takes, and an action
    with no route is listed as such; the starter then runs."""
    module = unique("typed")
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            """\
            from __future__ import annotations

            from typing import Literal

            import attrs

            from jido_trio import AgentDef, NoParams, action


            @attrs.frozen
            class Where:
                city: str
                floor: int = 0


            @attrs.frozen
            class Order:
                urgent: bool
                weight: float
                mode: Literal["air", "sea"]
                note: str | None
                tags: list[str]
                extra: dict[str, int]
                where: Where
                copies: int = 1


            @attrs.frozen
            class State:
                orders: int = 0


            @action("order", params=Order)
            def order(state: State, params: Order) -> State:
                return State(state.orders + 1)


            @action("reset")
            def reset(state: State, params: NoParams) -> State:
                return State()


            SHOP = AgentDef("shop", State, [order, reset], routes={"shop.*.order": "order"})
            """
        ),
        encoding="utf-8",
    )
    text = chaos.new_scenario(f"{module}:SHOP", directory=tmp_path)
    assert (
        "    data: {urgent: false, weight: 1.0, mode: air, note: null, tags: [], extra: {}, "
        "where: {city: example}}\n"
    ) in text
    assert "    signal: shop.example.order\n" in text
    assert "    #   action reset (no params) <- no route: call it as an Instruction\n" in text
    report = chaos.loads_scenario(text, path=tmp_path / "s.yaml").run()
    assert report.ok, report.explain()
    assert report.metrics["calls.ok"] > 0
