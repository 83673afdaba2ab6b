"""Fault plans as data: round trips through dicts, JSON and YAML, durations
written with units, path-qualified validation errors, and the expansion of
``RandomFaults`` generators and swarm mode before a run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chaos_fixtures import Agents
from hypothesis import given
from hypothesis import strategies as st

import chaos
from chaos import FAULT_KINDS, FaultPlan, InvalidPlanError, RandomFaults
from chaos._expand import expand_plan
from chaos._plan import FAULT_CLASSES, PlanItem

# ------------------------------------------------------------------ strategies

GLOBS = st.sampled_from(["root/a", "root/*", "**/tracker", "root/**", "root/w-*", "**"])
TIMES = st.one_of(
    st.integers(0, 100).map(float),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
)
POSITIVE = st.floats(1e-3, 1e4, allow_nan=False, allow_infinity=False)
PICKS = st.sampled_from(["all", "one", "1", "3", "50%", "100%", "12.5%"])
COUNTS = st.one_of(st.none(), st.integers(1, 50))
MUTATORS = st.one_of(st.none(), st.sampled_from(["mod:fn", "pkg.mod:obj.fn"]))
SOURCES = st.one_of(st.none(), GLOBS)

#: the fields of each kind beyond target, pick and at
EXTRA: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "kill": {},
    "restart_storm": {"count": st.integers(1, 20), "interval": POSITIVE},
    "pause": {"duration": POSITIVE},
    "partition": {"source": GLOBS, "one_way": st.booleans()},
    "crash": {"point": st.sampled_from(["receive", "after_cmd"])},
    "hang": {},
    "delay": {"seconds": TIMES, "jitter": TIMES, "source": SOURCES},
    "drop": {"source": SOURCES},
    "duplicate": {"source": SOURCES},
    "reorder": {"source": GLOBS, "window": POSITIVE},
    "corrupt_message": {"source": SOURCES, "mutator": MUTATORS},
    "corrupt_state": {"mutator": MUTATORS},
    "fail_start": {},
    "store_write_fail": {},
    "store_slow": {"seconds": POSITIVE},
    "stale_load": {"versions": st.integers(1, 5)},
    "corrupt_load": {"what": st.sampled_from(["state", "version"]), "mutator": MUTATORS},
}
EVENT: dict[str, st.SearchStrategy[Any]] = {
    "probability": st.floats(0, 1),
    "nth": COUNTS,
    "count": COUNTS,
}


@st.composite
def faults(draw: st.DrawFn, kind: str | None = None) -> PlanItem:
    """Any fault of ``kind`` (any kind if ``None``), or a RandomFaults generator."""
    if kind is None:
        kind = draw(st.sampled_from([*FAULT_KINDS, "random"]))
    at = draw(TIMES)
    until = draw(st.one_of(st.none(), POSITIVE.map(lambda span: at + span)))
    if kind == "random":
        return RandomFaults(
            kinds=draw(st.lists(st.sampled_from(FAULT_KINDS), min_size=1, max_size=4)),
            rate=draw(POSITIVE),
            targets=draw(st.lists(GLOBS, min_size=1, max_size=3)),
            at=at,
            until=None if until is None or until == at else until,
            params=draw(st.sampled_from([{}, {"delay": {"seconds": 2.0}}, {"hang": {"span": 1}}])),
        )
    cls = FAULT_CLASSES[kind]
    fields = {name: draw(strategy) for name, strategy in EXTRA[kind].items()}
    if cls.event:
        fields.update({name: draw(strategy) for name, strategy in EVENT.items()})
        if fields["nth"] is not None:
            fields["probability"] = 1.0  # the nth event, or each with a probability
    if cls.event or kind == "partition":
        fields["until"] = None if until is None or until == at else until
    pick = "all" if kind == "partition" else draw(PICKS)  # a partition cuts every link
    return cls(target=draw(GLOBS), pick=pick, at=at, **fields)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ round trips


@given(st.lists(faults(), max_size=4).map(tuple).map(FaultPlan))
def test_a_plan_round_trips_through_dicts_json_and_yaml(plan: FaultPlan) -> None:
    """from_dict(to_dict), from_json(to_json) and from_yaml(to_yaml) give back an equal plan."""
    assert FaultPlan.from_dict(plan.to_dict()) == plan
    assert FaultPlan.from_json(plan.to_json()) == plan
    assert FaultPlan.from_yaml(plan.to_yaml()) == plan


@pytest.mark.parametrize("kind", [*FAULT_KINDS, "random"])
@given(data=st.data())
def test_every_kind_round_trips_through_data(kind: str, data: st.DataObject) -> None:
    """Each fault kind, with any valid fields, survives to_dict -> JSON -> from_dict."""
    plan = FaultPlan((data.draw(faults(kind)),))
    text = json.dumps(plan.to_dict())
    assert FaultPlan.from_dict(json.loads(text)) == plan


def test_to_dict_names_the_kind_first_and_omits_defaults() -> None:
    """A fault's data is its kind, then only the fields that differ from their defaults."""
    plan = FaultPlan(
        (
            chaos.Kill(target="root/a", at=5),
            chaos.Delay(target="root/b", seconds=2, source="root/a", nth=3),
            RandomFaults(kinds=["kill", "hang"], rate=0.5),
        )
    )
    assert plan.to_dict() == {
        "faults": [
            {"kind": "kill", "target": "root/a", "at": 5.0},
            {"kind": "delay", "target": "root/b", "nth": 3, "seconds": 2.0, "source": "root/a"},
            {"kind": "random", "kinds": ["kill", "hang"], "rate": 0.5},
        ]
    }


def test_a_plan_is_read_from_yaml_written_by_hand() -> None:
    """A hand-written YAML plan with durations in units gives the same faults as the Python API."""
    plan = FaultPlan.from_yaml(
        """
faults:
  - kind: kill
    target: root/a
    at: 250ms
  - kind: pause
    target: "root/*"
    at: 1m
    duration: 30s
  - kind: drop
    target: root/b
    source: root/a
    probability: 0.5
    until: 1h
"""
    )
    assert plan == FaultPlan(
        (
            chaos.Kill(target="root/a", at=0.25),
            chaos.Pause(target="root/*", at=60.0, duration=30.0),
            chaos.Drop(target="root/b", source="root/a", probability=0.5, until=3600.0),
        )
    )


def test_a_list_of_faults_is_a_plan() -> None:
    """from_dict also takes the bare list of faults; its paths then start at '$[i]'."""
    assert FaultPlan.from_dict([{"kind": "kill", "target": "root/a"}]) == FaultPlan(
        (chaos.Kill(target="root/a"),)
    )


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        (".5s", 0.5),
        (" 2 s ", 2.0),
        (7, 7.0),
        (0.125, 0.125),
    ],
)
def test_a_time_is_seconds_or_a_string_with_a_unit(text: object, seconds: float) -> None:
    """A time in data is a number of seconds or a string with ms, s, m or h."""
    plan = FaultPlan.from_dict({"faults": [{"kind": "kill", "target": "root/a", "at": text}]})
    fault = plan.faults[0]
    assert isinstance(fault, chaos.Kill)
    assert fault.at == seconds
    assert type(fault.at) is float


@pytest.mark.parametrize("text", ["5", "5 min", "-1s", "1d", "", "s", True, None, [1]])
def test_a_time_without_a_known_unit_is_refused(text: object) -> None:
    """A string without a known unit, a negative time or a non-number is refused."""
    with pytest.raises(InvalidPlanError) as info:
        FaultPlan.from_dict({"faults": [{"kind": "kill", "target": "root/a", "at": text}]})
    assert info.value.errors == (
        "expected seconds >= 0 (a number, or a string such as '250ms', '30s', '5m', '1h'), "
        f"got {text!r} @ $.faults[0].at",
    )


# ------------------------------------------------------------------ validation


def errors(data: object) -> tuple[str, ...]:
    with pytest.raises(InvalidPlanError) as info:
        FaultPlan.from_dict(data)
    assert str(info.value) == "invalid fault plan:\n" + "\n".join(
        f"  {line}" for line in info.value.errors
    )
    return info.value.errors


def one(fault: dict[str, Any]) -> dict[str, Any]:
    return {"faults": [fault]}


ALL_KINDS = ", ".join(FAULT_KINDS)


def test_an_unknown_kind_is_named_with_a_suggestion() -> None:
    """A misspelt kind is reported at its path, with the closest kind and the list of kinds."""
    assert errors(one({"kind": "kil", "target": "root/a"})) == (
        f"unknown fault kind 'kil' (did you mean 'kill'?); expected one of {ALL_KINDS}, "
        "or 'random' @ $.faults[0].kind",
    )


def test_an_unknown_kind_far_from_any_has_no_suggestion() -> None:
    """A kind like no other gets the list of kinds and no guess."""
    assert errors(one({"kind": "zzz", "target": "root/a"})) == (
        f"unknown fault kind 'zzz'; expected one of {ALL_KINDS}, or 'random' @ $.faults[0].kind",
    )


def test_a_missing_kind_is_reported_at_its_path() -> None:
    """An item without a kind is reported at '.kind', with the kinds to choose from."""
    assert errors(one({"target": "root/a"})) == (
        f"required key missing; expected one of {ALL_KINDS} @ $.faults[0].kind",
    )


def test_an_unknown_key_is_named_with_a_suggestion_and_the_fields() -> None:
    """A misspelt field names the closest field and every field the kind takes."""
    assert errors(one({"kind": "kill", "target": "root/a", "att": 5})) == (
        "unknown key 'att' (did you mean 'at'?); Kill takes: target, pick, at @ $.faults[0].att",
    )


def test_a_missing_required_key_is_reported_at_its_path() -> None:
    """A required field left out is reported at that field's path."""
    assert errors(one({"kind": "pause", "target": "root/a"})) == (
        "required key missing @ $.faults[0].duration",
    )


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        ("target", 5, "expected a string, got int 5 @ $.faults[0].target"),
        ("nth", "2", "expected an int, got str '2' @ $.faults[0].nth"),
        ("probability", "high", "expected a number, got str 'high' @ $.faults[0].probability"),
        ("point", "later", "expected 'receive' or 'after_cmd', got 'later' @ $.faults[0].point"),
    ],
)
def test_a_value_of_the_wrong_type_is_reported_at_its_path(
    field: str, value: object, line: str
) -> None:
    """A value of the wrong type names the expected type, the value and the field's path."""
    assert errors(one({"kind": "crash", "target": "root/a", field: value})) == (line,)


def test_a_bool_is_not_a_number() -> None:
    """true is refused where a number or an int is expected (it is not silently 1)."""
    assert errors(one({"kind": "crash", "target": "root/a", "nth": True})) == (
        "expected an int, got bool True @ $.faults[0].nth",
    )


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        (
            "probability",
            1.5,
            "Crash.probability=1.5 is not valid; expected a number in [0, 1] "
            "@ $.faults[0].probability",
        ),
        (
            "pick",
            "some",
            "Crash.pick='some' is not valid; expected 'all', 'one', a count such as '2', or a "
            "percent such as '50%' @ $.faults[0].pick",
        ),
        (
            "pick",
            "0",
            "Crash.pick='0' is not valid; expected 'all', 'one', a count such as '2', or a "
            "percent such as '50%' @ $.faults[0].pick",
        ),
        (
            "pick",
            "101%",
            "Crash.pick='101%' is not valid; expected 'all', 'one', a count such as '2', or a "
            "percent such as '50%' @ $.faults[0].pick",
        ),
        (
            "target",
            "root//a",
            "Crash.target='root//a' is not valid: an empty segment; expected segments separated by "
            "single '/', each a child id, '*', '**' or an id with '*' in it (e.g. "
            "'root/workers/*' or '**/tracker') @ $.faults[0].target",
        ),
        ("count", 0, "Crash.count=0 is not valid; expected an int >= 1 @ $.faults[0].count"),
        (
            "mutator",
            "no_colon",
            "Crash.mutator='no_colon' is not valid; expected 'module:function' (e.g. "
            "'my_agents:corrupt'), or none for the generic corruption @ $.faults[0].mutator",
        ),
    ],
)
def test_a_bad_value_is_reported_at_its_field(field: str, value: object, line: str) -> None:
    """A value a validator refuses is reported with the fix, at the field's path."""
    kind = "corrupt_state" if field == "mutator" else "crash"
    found = errors(one({"kind": kind, "target": "root/a", field: value}))
    assert found == (line.replace("Crash.", "CorruptState.") if kind != "crash" else line,)


def test_an_empty_window_is_reported_at_the_fault() -> None:
    """until <= at leaves an empty window: reported at the fault, naming both times."""
    assert errors(one({"kind": "drop", "target": "root/a", "at": "5s", "until": 3})) == (
        "Drop: until=3.0 is not after at=5.0; the window [at, until) would be empty @ $.faults[0]",
    )


@pytest.mark.parametrize(
    ("faults", "name"), [({"kind": "kill"}, "dict"), ("kill", "str"), (3, "int")]
)
def test_faults_that_are_not_a_list_are_refused(faults: object, name: str) -> None:
    """'faults' must be a list: a mapping, a string or a number is refused at '$.faults'."""
    assert errors({"faults": faults}) == (f"expected a list of faults, got {name} @ $.faults",)


def test_an_item_that_is_not_a_mapping_is_refused() -> None:
    """Each fault is a mapping with a kind."""
    assert errors({"faults": ["kill", None]}) == (
        "expected a mapping with a 'kind', got str @ $.faults[0]",
        "expected a mapping with a 'kind', got NoneType @ $.faults[1]",
    )


def test_an_unknown_top_level_key_is_refused() -> None:
    """A plan has only 'faults'; another top-level key is reported at its path."""
    assert errors({"faults": [], "fautls": []}) == (
        "unknown key 'fautls'; a plan has only 'faults' @ $.fautls",
    )


def test_every_problem_of_a_plan_is_reported_at_once() -> None:
    """A plan with several bad faults reports one line per problem, in order."""
    assert errors(
        {
            "faults": [
                {"kind": "kill", "target": "root/a", "at": 1},
                {"kind": "pause", "target": "root/a", "at": "soon", "duration": 1},
                {"kind": "kil", "target": "root/a"},
                {"kind": "hang", "target": "root/a", "probabilty": 1},
            ]
        }
    ) == (
        "expected seconds >= 0 (a number, or a string such as '250ms', '30s', '5m', '1h'), "
        "got 'soon' @ $.faults[1].at",
        f"unknown fault kind 'kil' (did you mean 'kill'?); expected one of {ALL_KINDS}, "
        "or 'random' @ $.faults[2].kind",
        "unknown key 'probabilty' (did you mean 'probability'?); Hang takes: target, pick, at, "
        "until, probability, nth, count @ $.faults[3].probabilty",
    )


def test_a_plan_that_is_not_json_or_yaml_is_refused() -> None:
    """Text that does not parse is an InvalidPlanError naming the format."""
    with pytest.raises(InvalidPlanError, match=r"^a fault plan must be JSON: Expecting value"):
        FaultPlan.from_json("faults: []")
    with pytest.raises(InvalidPlanError, match=r"^a fault plan must be YAML: "):
        FaultPlan.from_yaml("faults: [")


def test_a_plan_built_in_python_checks_its_items() -> None:
    """FaultPlan(...) takes a list of faults only, naming the bad item's index."""
    with pytest.raises(
        InvalidPlanError,
        match=r"^FaultPlan\.faults\[1\]='kill' is not valid; expected a fault such as "
        r"chaos\.Kill\(target='root/worker', at=5\.0\)$",
    ):
        FaultPlan((chaos.Kill(target="root/a"), "kill"))
    with pytest.raises(InvalidPlanError, match=r"^FaultPlan\.faults='kill' is not valid"):
        FaultPlan("kill")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: chaos.Kill(target="root/a", at=-1),
            r"^Kill\.at=-1\.0 is not valid; expected seconds >= 0$",
        ),
        (
            lambda: chaos.Kill(target="root/a", at=float("inf")),
            r"^Kill\.at=inf is not valid; expected a finite",
        ),
        (
            lambda: chaos.Pause(target="root/a", duration=0),
            r"^Pause\.duration=0\.0 is not valid; expected seconds > 0$",
        ),
        (
            lambda: chaos.RestartStorm(target="root/a", count=0),
            r"^RestartStorm\.count=0 is not valid",
        ),
        (
            lambda: chaos.Crash(target="root/a", point="later"),  # type: ignore[arg-type]
            r"'point' must be in \('receive', 'after_cmd'\)",
        ),
        (
            lambda: chaos.Partition(source="root/a", target="root/b", one_way="yes"),  # type: ignore[arg-type]
            r"'one_way' must be <class 'bool'>",
        ),
        (
            lambda: chaos.Hang(target="root/a", at=4, until=4),
            r"^Hang: until=4\.0 is not after at=4\.0",
        ),
    ],
)
def test_a_fault_built_in_python_checks_its_fields(build: Any, message: str) -> None:
    """Faults validate when built, so a bad plan fails before any run."""
    with pytest.raises((InvalidPlanError, ValueError, TypeError), match=message):
        build()


# ------------------------------------------------------------------ generators


def test_random_faults_params_are_checked_when_the_generator_is_built() -> None:
    """An unknown or bad per-kind parameter fails at once, not when the first fault is drawn."""
    with pytest.raises(
        InvalidPlanError,
        match=r"^RandomFaults\.params\['kill'\]: unknown key 'count'; a generated Kill "
        r"takes: pick$",
    ):
        RandomFaults(kinds=["kill"], rate=1.0, params={"kill": {"count": 2}})
    with pytest.raises(
        InvalidPlanError,
        match=r"^RandomFaults\.params\['delay'\]: unknown key 'second' "
        r"\(did you mean 'seconds'\?\)",
    ):
        RandomFaults(kinds=["delay"], rate=1.0, params={"delay": {"second": 2}})
    with pytest.raises(
        InvalidPlanError, match=r"^Delay\.seconds=-1\.0 is not valid; expected seconds >= 0$"
    ):
        RandomFaults(kinds=["delay"], rate=1.0, params={"delay": {"seconds": -1}})
    with pytest.raises(
        InvalidPlanError, match=r"^RandomFaults\.params\['hang'\]\.span=0 is not valid"
    ):
        RandomFaults(kinds=["hang"], rate=1.0, params={"hang": {"span": 0}})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"kinds": [], "rate": 1.0},
            r"^RandomFaults\.kinds is empty; name at least one fault kind$",
        ),
        (
            {"kinds": ["kil"], "rate": 1.0},
            r"^RandomFaults\.kinds: unknown fault kind 'kil' \(did you mean 'kill'\?\)",
        ),
        (
            {"kinds": ["kill"], "rate": 0},
            r"^RandomFaults\.rate=0 is not valid; expected faults per second > 0$",
        ),
        (
            {"kinds": ["kill"], "rate": 1.0, "targets": []},
            r"^RandomFaults\.targets is empty; give at least one glob$",
        ),
        (
            {"kinds": ["kill"], "rate": 1.0, "targets": ["a//b"]},
            r"^RandomFaults\.targets='a//b' is not valid",
        ),
        (
            {"kinds": ["kill"], "rate": 1.0, "params": {"kil": {}}},
            r"^RandomFaults\.params: unknown fault kind 'kil'",
        ),
        (
            {"kinds": ["kill"], "rate": 1.0, "params": {"kill": 1}},
            r"^RandomFaults\.params\['kill'\]=1 is not valid; expected a mapping",
        ),
    ],
)
def test_a_bad_generator_is_refused(fields: dict[str, Any], message: str) -> None:
    """RandomFaults checks its kinds, rate, targets and params when built."""
    with pytest.raises(InvalidPlanError, match=message):
        RandomFaults(**fields)


WINDOWS = st.tuples(st.integers(0, 20), st.integers(1, 20), st.integers(1, 40))


@given(seed=st.integers(0, 2**32), window=WINDOWS, rate=st.sampled_from([0.5, 1.0, 4.0]))
def test_a_generator_expands_the_same_way_for_a_seed_inside_its_window(
    seed: int, window: tuple[int, int, int], rate: float
) -> None:
    """Expansion is a function of the seed; every fault lands in [at, min(until, duration))."""
    at, span, duration = window
    generator = RandomFaults(
        kinds=["kill", "hang", "partition"],
        rate=rate,
        targets=["root/a", "root/b"],
        at=at,
        until=at + span,
    )
    plan = FaultPlan((generator,))
    expanded, swarm = expand_plan(plan, seed=seed, duration=duration, swarm=False)
    assert swarm is None
    assert expanded.concrete
    assert expand_plan(plan, seed=seed, duration=duration, swarm=False)[0] == expanded
    times = [fault.at for fault in expanded.faults]
    assert times == sorted(times)
    for fault in expanded.faults:
        assert not isinstance(fault, RandomFaults)
        assert at <= fault.at < min(at + span, duration)
        assert type(fault).kind in generator.kinds
        assert fault.target in generator.targets
        if isinstance(fault, chaos.Partition):  # the other target, for a partition
            assert {fault.source, fault.target} == {"root/a", "root/b"}
            assert fault.until == round(fault.at + 5.0, 6)
        elif isinstance(fault, chaos.Hang):  # an event fault gets its span and one target
            assert (fault.pick, fault.count, fault.until) == ("one", 1, round(fault.at + 5.0, 6))
        else:
            assert fault.pick == "one"


def test_a_generator_expands_differently_for_other_seeds() -> None:
    """Different seeds give different concrete plans."""
    plan = FaultPlan((RandomFaults(kinds=["kill", "crash"], rate=1.0, targets=["root/*"]),))
    plans = {expand_plan(plan, seed=seed, duration=10, swarm=False)[0] for seed in range(10)}
    assert len(plans) == 10


def test_a_generator_takes_its_params_over_the_defaults() -> None:
    """params override the defaults of a kind in every fault it makes."""
    plan = FaultPlan(
        (RandomFaults(kinds=["delay"], rate=2.0, params={"delay": {"seconds": 0.5, "count": 3}}),)
    )
    expanded, _ = expand_plan(plan, seed=1, duration=10, swarm=False)
    assert len(expanded) > 0
    delays = [f for f in expanded.faults if isinstance(f, chaos.Delay)]
    assert len(delays) == len(expanded)
    assert {(f.seconds, f.count, f.until, f.pick) for f in delays} == {(0.5, 3, None, "one")}


def test_the_report_holds_the_concrete_plan_that_ran() -> None:
    """A run records the expanded plan, not the generator: the same faults expand_plan gives."""
    plan = FaultPlan((RandomFaults(kinds=["kill"], rate=1.0, targets=["root/a"], at=1, until=8),))
    report = chaos.run(Agents("a"), plan, seed=4, duration=10, quiet_period=1)
    expected, _ = expand_plan(plan, seed=4, duration=10, swarm=False)
    assert report.plan == expected
    assert [f.at for f in report.plan.faults] == [2.427411, 4.325516, 6.454559]
    assert [(r.time, r.kind, r.effect) for r in report.faults] == [
        (f.at, "kill", "killed") for f in expected.faults
    ]


# ------------------------------------------------------------------ swarm mode


def target(fault: PlanItem) -> str:
    assert not isinstance(fault, RandomFaults)
    return fault.target


SWARM_PLAN = FaultPlan(
    (
        chaos.Kill(target="root/a", at=1),
        chaos.Kill(target="root/b", at=2),
        chaos.Drop(target="root/a", at=3),
        chaos.Hang(target="root/c", at=4),
    )
)


def test_swarm_mode_keeps_a_non_empty_subset_and_records_it() -> None:
    """Each seed keeps non-empty subsets of kinds and targets, and the faults that are in both."""
    for seed in range(20):
        report = chaos.run(
            Agents("a", "b", "c"), SWARM_PLAN, seed=seed, duration=5, quiet_period=1, swarm=True
        )
        assert report.swarm is not None
        kinds, targets = report.swarm["kinds"], report.swarm["targets"]
        assert kinds
        assert set(kinds) <= {"kill", "drop", "hang"}
        assert targets
        assert set(targets) <= {"root/a", "root/b", "root/c"}
        assert report.plan.faults == tuple(
            f for f in SWARM_PLAN.faults if type(f).kind in kinds and target(f) in targets
        )


def test_swarm_mode_keeps_other_subsets_for_other_seeds() -> None:
    """Seeds differ in what they keep (swarm testing explores fault combinations)."""
    kept = set()
    for seed in range(20):
        _, swarm = expand_plan(SWARM_PLAN, seed=seed, duration=5, swarm=True)
        assert swarm is not None
        kept.add((tuple(swarm["kinds"]), tuple(swarm["targets"])))
    assert len(kept) > 5


def test_swarm_mode_narrows_a_generator_to_the_kept_kinds_and_targets() -> None:
    """A generator in swarm mode only makes faults of the kinds and targets the seed kept."""
    plan = FaultPlan(
        (RandomFaults(kinds=["kill", "hang", "drop"], rate=4.0, targets=["root/a", "root/b"]),)
    )
    for seed in range(10):
        expanded, swarm = expand_plan(plan, seed=seed, duration=10, swarm=True)
        assert swarm is not None
        assert expanded.faults
        assert {type(f).kind for f in expanded.faults} <= set(swarm["kinds"])
        assert {target(f) for f in expanded.faults} <= set(swarm["targets"])


def test_without_swarm_mode_the_report_has_no_swarm() -> None:
    """report.swarm is None unless swarm=True, and the whole plan runs."""
    report = chaos.run(Agents("a", "b", "c"), SWARM_PLAN, duration=5, quiet_period=1)
    assert report.swarm is None
    assert report.plan == SWARM_PLAN


def test_nth_and_probability_cannot_go_together() -> None:
    """An event fault hits the nth event, or each with a probability: not both."""
    with pytest.raises(
        InvalidPlanError, match=r"^Drop: nth=2 and probability=0.5 cannot go together"
    ):
        chaos.Drop(target="root/a", nth=2, probability=0.5)


def test_a_partition_cuts_every_link_so_it_takes_no_pick() -> None:
    """Partition.pick other than 'all' is refused with the fix (narrow the globs)."""
    with pytest.raises(InvalidPlanError, match=r"^Partition.pick='one' is not valid: .*globs"):
        chaos.Partition(source="root/a", target="root/b", pick="one")


def test_a_swarm_never_narrows_a_plan_to_nothing() -> None:
    """In swarm mode every seed keeps at least one fault of the plan."""
    plan = FaultPlan(
        [
            chaos.Kill(target="root/a", at=1.0),
            chaos.Drop(target="root/b", at=1.0),
            chaos.Delay(target="root/c", seconds=1.0, at=1.0),
            chaos.Pause(target="root/d", duration=1.0, at=1.0),
        ]
    )
    sizes = {len(expand_plan(plan, seed=seed, duration=10.0, swarm=True)[0]) for seed in range(64)}
    assert 0 not in sizes
    assert len(sizes) > 1
