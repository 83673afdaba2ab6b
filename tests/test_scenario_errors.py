"""What a bad scenario file is told: every problem of the document at once,
each line ``line N: <what is wrong> @ $.path`` under a heading naming the file,
one screen at most.

Each error class of the format is pinned here with its exact words: the
document (YAML syntax, tags, empty and binary files, the root), the keys
(unknown, missing, duplicated), the values (types, durations, choices), the
``module:attr`` references (unresolvable, of the wrong kind), the tree (child
ids, registry names, child and supervisor options, states), the workload, the
faults (kinds, fields, targets) and the checks (names, metrics, predicates).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from docs_examples import EXAMPLES_DIR

import chaos
from chaos import ScenarioError

#: Scenarios tested here "live" in docs/examples/, so they resolve its modules.
HERE = EXAMPLES_DIR / "t.yaml"

BASE = """\
version: 1
name: t
system:
  children:
    - agent: demand_tracker:DEMAND_TRACKER
      id: tracker
"""


def errors(text: str, *, path: Path = HERE) -> tuple[str, ...]:
    """The error lines loading ``text`` gives (it must fail)."""
    with pytest.raises(ScenarioError) as info:
        chaos.loads_scenario(text, path=path)
    assert str(info.value).startswith(f"{path}: invalid scenario:\n")
    return info.value.errors


def test_base_document_is_valid() -> None:
    """The document every case below breaks loads as it is."""
    assert chaos.loads_scenario(BASE, path=HERE).name == "t"


def test_message_shape() -> None:
    """str(error): the file and a heading, then every problem indented, in line order."""
    text = BASE.replace("version: 1", "version: 2") + "seeds: 3\n"
    with pytest.raises(ScenarioError) as info:
        chaos.loads_scenario(text, path="scenarios/storm.yaml")
    assert str(info.value) == (
        "scenarios/storm.yaml: invalid scenario:\n"
        "  line 1: expected 1 (the only version of the format), got an int 2 @ $.version\n"
        "  line 7: unknown key 'seeds' (did you mean 'seed'?) @ $"
    )
    assert info.value.file == "scenarios/storm.yaml"


def test_text_without_a_path_is_named_string() -> None:
    """loads_scenario() without path= names the text "<string>"."""
    with pytest.raises(ScenarioError, match=r"^<string>: invalid scenario:\n  line 1: "):
        chaos.loads_scenario("- a list\n")


def test_many_errors_fit_on_one_screen() -> None:
    """Past 20 lines the message says how many more; .errors keeps them all."""
    text = BASE + "".join(f"unknown_{i}: 1\n" for i in range(30))
    with pytest.raises(ScenarioError) as info:
        chaos.loads_scenario(text, path=HERE)
    lines = str(info.value).splitlines()
    assert len(lines) == 22
    assert lines[-1] == "  ... 10 more"
    assert len(info.value.errors) == 30
    assert info.value.errors[29] == (
        "line 36: unknown key 'unknown_29'; expected one of: version, name, description, "
        "seed, duration, quiet_period, clock, swarm, pythonpath, system, workload, faults, "
        "checks @ $"
    )


# -- the document -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "",
            "the file is empty: a scenario is a YAML mapping that starts with 'version: 1' "
            "(python -m chaos new writes a starter)",
            id="empty",
        ),
        pytest.param(
            "# nothing but a comment\n",
            "the file is empty: a scenario is a YAML mapping that starts with 'version: 1' "
            "(python -m chaos new writes a starter)",
            id="only-comments",
        ),
        pytest.param(
            BASE + "faults: [\n",
            "line 8: not valid YAML: expected the node content, but found '<stream end>' "
            "(column 1), while parsing a flow node",
            id="syntax",
        ),
        pytest.param(
            BASE + "  strategy: [one_for_one\n",
            "line 8: not valid YAML: expected ',' or ']', but got '<stream end>' (column 1), "
            "while parsing a flow sequence",
            id="syntax-unclosed",
        ),
        pytest.param(
            BASE + "seed: !!python/object/apply:os.getpid []\n",
            "line 7: the tag '!!python/object/apply:os.getpid' is refused: scenario files are "
            "plain data (yaml.safe_load), never Python objects; write the value as plain YAML",
            id="python-tag",
        ),
        pytest.param(
            BASE + "seed: !seed 3\n",
            "line 7: unknown tag '!seed'; scenario files use plain YAML values",
            id="custom-tag",
        ),
        pytest.param(
            BASE + "---\nversion: 1\n",
            "line 7: a second YAML document starts here; a scenario file holds one document "
            "(remove the extra '---')",
            id="two-documents",
        ),
        pytest.param(
            "version: 1\nname: \x00\n",
            "line 2: the file holds a character YAML does not allow (#x0000); a scenario is a "
            "YAML text file",
            id="nul",
        ),
        pytest.param(
            "version: 1\nname: t\nsystem: &s {children: [*s]}\n",
            "line 3: a recursive alias (a value that contains itself) cannot be a scenario value",
            id="recursive-alias",
        ),
        pytest.param(
            "- version: 1\n- name: t\n",
            "line 1: a scenario is a mapping of keys (version, name, system, ...), got a list @ $",
            id="root-list",
        ),
        pytest.param(
            "just text\n",
            "line 1: a scenario is a mapping of keys (version, name, system, ...), got a "
            "string 'just text' @ $",
            id="root-scalar",
        ),
    ],
)
def test_document_errors(text: str, expected: str) -> None:
    """A file that is not one YAML mapping of plain data is refused with the reason."""
    assert errors(text) == (expected,)


def test_alias_bomb_is_refused() -> None:
    """Aliases that expand past 100000 values are refused (a billion laughs)."""
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    assert errors(text) == (
        "the document has more than 100000 values once its aliases are expanded; a scenario "
        "is a small file",
    )


def test_binary_file(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused with their offset, and no traceback."""
    path = tmp_path / "garbage.yaml"
    path.write_bytes(b"version: 1\n\x89PNG\r\n\x1a\n")
    with pytest.raises(ScenarioError) as info:
        chaos.load_scenario(path)
    assert str(info.value) == (
        f"{path}: invalid scenario:\n"
        "  line 2: byte 0x89 (offset 11) is not UTF-8 text; a scenario is a YAML text file"
    )


def test_missing_file(tmp_path: Path) -> None:
    """A file that cannot be read is a ScenarioError naming it."""
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as info:
        chaos.load_scenario(path)
    assert str(info.value) == f"{path}: cannot read the file:\n  No such file or directory"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte order mark (some editors write one) is not an error."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.replace("demand_tracker:", "x:").encode())
    with pytest.raises(ScenarioError) as info:
        chaos.load_scenario(path)
    assert info.value.errors[0].startswith("line 5: no module named 'x'")


# -- keys and values --------------------------------------------------------------------


CASES = [
    pytest.param(
        BASE.replace("version: 1", "version: 2"),
        ["line 1: expected 1 (the only version of the format), got an int 2 @ $.version"],
        id="version",
    ),
    pytest.param(
        BASE.replace("version: 1", "version: '1'"),
        ["line 1: expected 1 (the only version of the format), got a string '1' @ $.version"],
        id="version-string",
    ),
    pytest.param(
        "version: 1\ndescription: no name, no system\n",
        ["line 1: required key missing @ $.name", "line 1: required key missing @ $.system"],
        id="missing-keys",
    ),
    pytest.param(
        BASE + "seeds: 3\nfautls: []\nthing: 1\n",
        [
            "line 7: unknown key 'seeds' (did you mean 'seed'?) @ $",
            "line 8: unknown key 'fautls' (did you mean 'faults'?) @ $",
            "line 9: unknown key 'thing'; expected one of: version, name, description, seed, "
            "duration, quiet_period, clock, swarm, pythonpath, system, workload, faults, "
            "checks @ $",
        ],
        id="unknown-keys",
    ),
    pytest.param(
        BASE + "seed: 1\nseed: 2\n",
        [
            "line 8: duplicate key 'seed' (first at line 7); YAML keeps only the last one: "
            "remove one of them @ $"
        ],
        id="duplicate-key",
    ),
    pytest.param(
        BASE + "seed: -1\nswarm: 'yes'\nclock: fast\ndescription: [a]\nname: my scenario\n",
        [
            "line 7: expected an int >= 0, got an int -1 @ $.seed",
            "line 8: expected true or false, got a string 'yes' @ $.swarm",
            "line 9: expected one of 'virtual', 'real', got a string 'fast' @ $.clock",
            "line 10: expected a string, got a list @ $.description",
            "line 11: duplicate key 'name' (first at line 2); YAML keeps only the last one: "
            "remove one of them @ $",
            "line 11: expected a name of letters, digits, '_', '.' and '-' (it names journals "
            "and JUnit suites), got a string 'my scenario' @ $.name",
        ],
        id="wrong-types",
    ),
    pytest.param(
        BASE + "duration: 10 sec\nquiet_period: -5\n",
        [
            "line 7: expected a duration: seconds >= 0 as a number, or a string such as "
            "'250ms', '30s', '5m' or '1h'; got a string '10 sec' @ $.duration",
            "line 8: expected a duration: seconds >= 0 as a number, or a string such as "
            "'250ms', '30s', '5m' or '1h'; got an int -5 @ $.quiet_period",
        ],
        id="bad-durations",
    ),
    pytest.param(
        BASE + "duration: 0s\n",
        ["line 7: expected a duration > 0, got a string '0s' @ $.duration"],
        id="zero-duration",
    ),
    pytest.param(
        BASE + "checks:\n  1: x\n",
        ["line 7: keys must be strings, got an int key 1 @ $.checks"],
        id="non-string-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_keys_and_values(text: str, expected: list[str]) -> None:
    """Unknown, missing and duplicated keys, wrong types and bad durations: each
    is reported at its line and path, with what was expected and what was found."""
    assert list(errors(text)) == expected


# -- module:attr ----------------------------------------------------------------------


def test_unresolvable_references() -> None:
    """A module that is nowhere, or an attribute it lacks (with a close match)."""
    text = (
        BASE.replace("demand_tracker:DEMAND_TRACKER", "demand_trackr:DEMAND_TRACKER")
        + "    - agent: demand_tracker:TRACKER\n"
        + "checks:\n  eventually:\n    - predicate: demand_tracker:nope\n"
    )
    assert errors(text) == (
        f"line 5: no module named 'demand_trackr' next to the scenario ({EXAMPLES_DIR}) or on "
        "sys.path (did you mean 'demand_tracker'?) @ $.system.children[0].agent",
        "line 7: 'demand_tracker' has no attribute 'TRACKER' (did you mean 'DEMAND_TRACKER'?) "
        "@ $.system.children[1].agent",
        "line 10: 'demand_tracker' has no attribute 'nope' @ $.checks.eventually[0].predicate",
    )


def test_references_of_the_wrong_kind() -> None:
    """agent: must name an AgentDef, task: an async function, predicates functions."""
    text = (
        BASE.replace("DEMAND_TRACKER", "boost")
        + "    - task: demand_tracker:main\n      id: main\n"
        + "    - task: demand_tracker\n      id: x\n"
        + "checks:\n  sometimes:\n    - predicate: demand_tracker:DEMAND_TRACKER\n"
        + "  always:\n    - invariant: demand_checks:answers\n"
    )
    assert errors(text) == (
        "line 5: 'demand_tracker:boost' is an Action (Action(name='boost', params=BoostParams, "
        "run=<function bo...); expected a jido_trio.AgentDef @ $.system.children[0].agent",
        "line 7: 'demand_tracker:main' is the function 'main'; expected an async function "
        "(async def), called as start(*args) or start(*args, task_status=...) "
        "@ $.system.children[1].task",
        "line 9: expected 'module:attr' (e.g. 'demand_tracker:DEMAND_TRACKER'), got a string "
        "'demand_tracker' @ $.system.children[2].task",
        "line 13: 'demand_tracker:DEMAND_TRACKER' is an AgentDef (AgentDef(name='demand_tracker', "
        "state_type=DemandState, a...); expected a function predicate(view) "
        "@ $.checks.sometimes[0].predicate",
        "line 15: 'demand_checks:answers' cannot be called as predicate(path, state) "
        "@ $.checks.always[0].invariant",
    )


def test_a_module_that_fails_to_import(tmp_path: Path) -> None:
    """A module that raises on import is reported with its error and line, not a traceback."""
    (tmp_path / "broken_agents_q1.py").write_text("X = 1\nraise RuntimeError('no db')\n")
    (tmp_path / "typo_agents_q1.py").write_text("def f(:\n")
    (tmp_path / "needs_q1.py").write_text("import not_installed_q1\n")
    text = (
        BASE.replace("demand_tracker:DEMAND_TRACKER", "broken_agents_q1:X")
        + "    - agent: typo_agents_q1:X\n    - agent: needs_q1:X\n"
    )
    assert errors(text, path=tmp_path / "s.yaml") == (
        "line 5: importing 'broken_agents_q1' raised RuntimeError: no db "
        "(broken_agents_q1.py, line 2) @ $.system.children[0].agent",
        "line 7: importing 'typo_agents_q1' raised SyntaxError: invalid syntax "
        "(typo_agents_q1.py, line 1) @ $.system.children[1].agent",
        "line 8: importing 'needs_q1' failed: it imports 'not_installed_q1', which is not "
        "installed (ModuleNotFoundError) @ $.system.children[2].agent",
    )


# -- the tree ------------------------------------------------------------------------


TREE_CASES = [
    pytest.param(
        BASE + "    - agent: demand_tracker:DEMAND_TRACKER\n      id: tracker\n",
        [
            "line 7: duplicate child id 'tracker' (also at $.system.children[0]); ids are "
            "unique among a supervisor's children @ $.system.children[1]"
        ],
        id="duplicate-ids",
    ),
    pytest.param(
        BASE
        + "    - supervisor: inner\n      children:\n"
        + "        - agent: demand_tracker:DEMAND_TRACKER\n          id: tracker\n",
        [
            "line 10: registry name 'tracker' is already taken by the agent at "
            "$.system.children[0]; names are unique in a run: set name: to another name, or "
            "false @ $.system.children[1].children[0].id"
        ],
        id="registry-names",
    ),
    pytest.param(
        BASE
        + "    - agnt: demand_tracker:DEMAND_TRACKER\n"
        + "    - agent: demand_tracker:DEMAND_TRACKER\n      task: trio:sleep_forever\n"
        + "    - 3\n",
        [
            "line 7: a child is exactly one of agent: module:AgentDef, task: module:func or "
            "supervisor: <id>; this one has none of agent:, task:, supervisor: (did you mean "
            "'agent'?) @ $.system.children[1]",
            "line 8: a child is exactly one of agent: module:AgentDef, task: module:func or "
            "supervisor: <id>; this one has agent and task: keep one @ $.system.children[2]",
            "line 10: expected a child: a mapping with agent: module:AgentDef, task: "
            "module:func or supervisor: <id>, got an int 3 @ $.system.children[3]",
        ],
        id="child-kinds",
    ),
    pytest.param(
        BASE + "      mailbox_size: 0\n      dead_letter_limit: 5\n",
        [
            "line 7: mailbox_size=0 is not valid; expected an int >= 1 "
            "@ $.system.children[0].mailbox_size"
        ],
        id="agent-option",
    ),
    pytest.param(
        BASE + "      significant: true\n",
        [
            "line 7: child 'tracker': significant=True is not valid with restart='permanent'; "
            "use restart='transient' or 'temporary' @ $.system.children[0].significant"
        ],
        id="agent-significant",
    ),
    pytest.param(
        BASE + "      restart: forever\n      shutdown: soon\n",
        [
            "line 7: expected one of 'permanent', 'transient', 'temporary', got a string "
            "'forever' @ $.system.children[0].restart",
            "line 8: expected a duration: seconds >= 0 as a number, or a string such as "
            "'250ms', '30s', '5m' or '1h'; got a string 'soon' @ $.system.children[0].shutdown",
        ],
        id="agent-choices",
    ),
    pytest.param(
        BASE.replace(
            "  children:", "  strategy: one_for_al\n  backoff: {factor: 0.5}\n  children:"
        ),
        [
            "line 4: expected one of 'one_for_one', 'one_for_all', 'rest_for_one', got a "
            "string 'one_for_al' (did you mean 'one_for_all'?) @ $.system.strategy",
        ],
        id="supervisor-choice",
    ),
    pytest.param(
        BASE.replace("  children:", "  backoff: {factor: 0.5}\n  children:"),
        ["line 4: backoff.factor=0.5 is not valid; expected a number >= 1 @ $.system.backoff"],
        id="supervisor-backoff",
    ),
    pytest.param(
        BASE.replace("  children:", "  max_restarts: -1\n  children:"),
        ["line 4: max_restarts=-1 is not valid; expected an int >= 0 @ $.system.max_restarts"],
        id="supervisor-intensity",
    ),
    pytest.param(
        BASE + "    - supervisor: a/b\n",
        [
            "line 7: expected a child id without '/' or spaces, got a string 'a/b' "
            "@ $.system.children[1].id"
        ],
        id="supervisor-id",
    ),
    pytest.param(
        BASE + "      state: {listing_id: 5, demand: '50', ticks: 0, level: 3}\n",
        [
            "line 7: expected str, got an int 5 @ $.system.children[0].state.listing_id",
            "line 7: expected int, got a string '50' @ $.system.children[0].state.demand",
            "line 7: unknown key 'level'; DemandState takes: listing_id, demand, ticks "
            "@ $.system.children[0].state",
        ],
        id="state-structure",
    ),
    pytest.param(
        BASE + "      state:\n        listing_id: l\n        demand: 500\n",
        ["line 9: 'demand' must be <= 100: 500 @ $.system.children[0].state.demand"],
        id="state-validator",
    ),
    pytest.param(
        BASE + "      state: [1]\n",
        [
            "line 7: expected a mapping of the state's fields, got a list "
            "@ $.system.children[0].state"
        ],
        id="state-not-a-mapping",
    ),
    pytest.param(
        BASE + "      store: disk\n",
        [
            "line 7: expected 'memory', {sqlite: <file, relative to the scenario>} or null, "
            "got a string 'disk' @ $.system.children[0].store"
        ],
        id="store",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TREE_CASES)
def test_tree(text: str, expected: list[str]) -> None:
    """Child ids, registry names, child kinds, agent and supervisor options and
    initial states are checked (by jido_trio itself) and reported at their path."""
    assert list(errors(text)) == expected


# -- workload, faults, checks -----------------------------------------------------------


REST_CASES = [
    pytest.param(
        BASE
        + "workload:\n  - call: tracker\n    cast: tracker\n    signal: a\n"
        + "  - cast: tracker\n    signal: b\n    timeout: 1s\n"
        + "  - call: tracker\n    signal: c\n    every: 1s\n    rate: 2\n"
        + "  - call: tracker\n    signal: 5\n",
        [
            "line 8: a send has exactly one of call: <agent> (wait for the reply) or cast: "
            "<agent> (fire and forget); this one has both @ $.workload[0]",
            "line 13: timeout: is for calls; a cast does not wait for a reply "
            "@ $.workload[1].timeout",
            "line 14: give every= or rate=, not both @ $.workload[2]",
            "line 19: expected a string, got an int 5 @ $.workload[3].signal",
        ],
        id="workload",
    ),
    pytest.param(
        BASE + "faults:\n  - kind: kil\n    target: root/tracker\n",
        [
            "line 8: unknown fault kind 'kil' (did you mean 'kill'?); expected one of kill, "
            "restart_storm, pause, partition, crash, hang, delay, drop, duplicate, reorder, "
            "corrupt_message, corrupt_state, fail_start, store_write_fail, store_slow, "
            "stale_load, corrupt_load, or 'random' @ $.faults[0].kind"
        ],
        id="fault-kind",
    ),
    pytest.param(
        BASE + "faults:\n  - kind: kill\n    tagret: root/tracker\n    at: soon\n",
        [
            "line 8: required key missing @ $.faults[0].target",
            "line 9: unknown key 'tagret' (did you mean 'target'?); Kill takes: target, pick, "
            "at @ $.faults[0].tagret",
            "line 10: expected seconds >= 0 (a number, or a string such as '250ms', '30s', "
            "'5m', '1h'), got 'soon' @ $.faults[0].at",
        ],
        id="fault-fields",
    ),
    pytest.param(
        BASE + "faults:\n  - random:\n      rate: 0.5\n      kinds: [kill, crsh]\n",
        [
            "line 10: unknown fault kind 'crsh' (did you mean 'crash'?); expected one of kill, "
            "restart_storm, pause, partition, crash, hang, delay, drop, duplicate, reorder, "
            "corrupt_message, corrupt_state, fail_start, store_write_fail, store_slow, "
            "stale_load, corrupt_load, or 'random' @ $.faults[0].random.kinds"
        ],
        id="random-kinds",
    ),
    pytest.param(
        BASE + "faults:\n  - random: {rate: 1, kinds: kill}\n    at: 1s\n",
        ["line 9: a random: item holds only the generator; move at under random: @ $.faults[0]"],
        id="random-extra-key",
    ),
    pytest.param(
        BASE
        + "faults:\n  - kind: kill\n    target: tracker\n"
        + "  - kind: kill\n    target: root/trackr\n"
        + "  - kind: kill\n    target: app/**\n",
        [
            "line 9: 'tracker' is not a path of this system (did you mean 'root/tracker'?): "
            "paths start at the root ('root'), e.g. 'root/tracker' @ $.faults[0].target",
            "line 11: no node of the system has the path 'root/trackr' (did you mean "
            "'root/tracker'?) @ $.faults[1].target",
            "line 13: 'app/**' is not a path of this system: paths start at the root ('root'), "
            "e.g. 'root/tracker' @ $.faults[2].target",
        ],
        id="fault-targets",
    ),
    pytest.param(
        BASE + "faults:\n  - kind: corrupt_state\n    target: root/tracker\n"
        "    mutator: demand_tracker:nothing\n",
        ["line 10: 'demand_tracker' has no attribute 'nothing' @ $.faults[0].mutator"],
        id="fault-mutator",
    ),
    pytest.param(
        BASE
        + "checks:\n  disable: [fifo]\n  always: [all_running, no_such, fifo_per_link]\n"
        + "  eventually: [mailboxes_drained]\n",
        [
            "line 8: unknown built-in check 'fifo'; the built-in checks are "
            "no_unexpected_crash, restart_intensity, fifo_per_link, call_deadlines, "
            "all_running, mailboxes_drained, requests_answered, messages_accounted, "
            "names_released, faults_hit, recovered @ $.checks.disable[0]",
            "line 9: 'all_running' is a built-in eventually check; list it under eventually "
            "(built-in checks are on anyway) @ $.checks.always[0]",
            "line 9: unknown built-in check 'no_such'; the built-in always checks are "
            "no_unexpected_crash, restart_intensity, fifo_per_link, call_deadlines (a check of "
            "your own is a mapping: invariant: module:func) @ $.checks.always[1]",
        ],
        id="check-names",
    ),
    pytest.param(
        BASE + "checks:\n  disable: [fifo_per_link]\n  always: [fifo_per_link]\n",
        ["line 9: 'fifo_per_link' is listed here and under disable; keep one @ $.checks.always[0]"],
        id="check-disabled-and-listed",
    ),
    pytest.param(
        BASE
        + "checks:\n  always:\n    - invariant: demand_checks:demand_in_range\n      name: x\n"
        + "  eventually:\n    - predicate: demand_checks:answers\n      name: x\n"
        + "    - predicate: demand_checks:answers\n      name: all_running\n",
        [
            "line 12: two checks are named 'x' (also at $.checks.always[0]); check names are "
            "unique: give one another name: @ $.checks.eventually[0]",
            "line 15: name='all_running' is the name of a built-in check; pick another "
            "@ $.checks.eventually[1].name",
        ],
        id="check-duplicate-names",
    ),
    pytest.param(
        BASE
        + "checks:\n  bounds:\n    - metric: escalation\n      max: 0\n"
        + "    - metric: restarts\n    - metric: calls.maybe\n      max: 1\n    - {max: 3}\n",
        [
            "line 9: unknown metric 'escalation' (did you mean 'escalations'?) "
            "@ $.checks.bounds[0].metric",
            "line 11: the bound on 'restarts' needs max:, min: or both @ $.checks.bounds[1]",
            "line 12: unknown metric 'calls.maybe'; calls.<outcome> takes one of ok, error, "
            "timeout, down, no_agent, cancelled, pending @ $.checks.bounds[2].metric",
            "line 14: a bound is metric: <name> with max: and/or min:, or predicate: "
            "module:func @ $.checks.bounds[3]",
        ],
        id="bounds",
    ),
    pytest.param(
        BASE + "checks:\n  always:\n    - invariant: demand_checks:demand_in_range\n"
        "      target: root/trackr\n",
        [
            "line 10: no node of the system has the path 'root/trackr' (did you mean "
            "'root/tracker'?) @ $.checks.always[0].target"
        ],
        id="invariant-target",
    ),
]


@pytest.mark.parametrize(("text", "expected"), REST_CASES)
def test_workload_faults_checks(text: str, expected: list[str]) -> None:
    """Sends, faults (through FaultPlan.from_dict, re-rooted under $.faults) and
    checks are reported at their path, with close matches for misspelt names."""
    assert list(errors(text)) == expected


def test_all_sections_are_reported_together() -> None:
    """One problem in every section: all of them are in one error."""
    text = textwrap.dedent(
        """\
        version: 1
        name: t
        duration: forever
        system:
          children:
            - agent: demand_tracker:NOPE
        workload:
          - call: tracker
        faults:
          - kind: kill
        checks:
          disable: [nope]
        """
    )
    assert [line.split(" @ ")[1] for line in errors(text)] == [
        "$.duration",
        "$.system.children[0].agent",
        "$.workload[0].signal",
        "$.faults[0].target",
        "$.checks.disable[0]",
    ]


MORE_CASES = [
    pytest.param(
        BASE.replace("DEMAND_TRACKER", "DemandState")
        + "    - task: trio:lowlevel\n      id: low\n    - agent: pipeline:flows\n",
        [
            "line 5: 'demand_tracker:DemandState' is the class 'DemandState'; expected a "
            "jido_trio.AgentDef @ $.system.children[0].agent",
            "line 7: 'trio:lowlevel' is the module 'trio.lowlevel'; expected an async function "
            "(async def), called as start(*args) or start(*args, task_status=...) "
            "@ $.system.children[1].task",
            "line 9: 'pipeline:flows' is the async function 'flows'; expected a "
            "jido_trio.AgentDef @ $.system.children[2].agent",
        ],
        id="what-a-reference-is",
    ),
    pytest.param(
        BASE + "faults:\n  - random: {kind: kill, rate: 1, kinds: [kill]}\n",
        [
            "line 8: unknown key 'kind': a random: generator draws its faults from kinds: "
            "@ $.faults[0].random"
        ],
        id="random-with-a-kind",
    ),
    pytest.param(
        BASE + "faults:\n  - random: 3\n",
        [
            "line 8: expected a mapping (rate, kinds, targets, at, until, params), got an int 3 "
            "@ $.faults[0].random"
        ],
        id="random-not-a-mapping",
    ),
    pytest.param(
        BASE
        + "faults:\n  - kind: corrupt_state\n    target: root/tracker\n"
        + "    mutator: demand_tracker:MAX_DEMAND\n"
        + "  - random:\n      rate: 1\n      kinds: [corrupt_state]\n"
        + "      params: {corrupt_state: {mutator: 'nomod_q:f'}}\n",
        [
            "line 10: 'demand_tracker:MAX_DEMAND' is an int (100); expected a function "
            "@ $.faults[0].mutator",
            f"line 14: no module named 'nomod_q' next to the scenario ({EXAMPLES_DIR}) or on "
            "sys.path @ $.faults[1].random.params.corrupt_state.mutator",
        ],
        id="mutators",
    ),
    pytest.param(
        BASE.replace("system:\n", "system:\n  name: my root\n"),
        ["line 4: expected a name without '/' or spaces, got a string 'my root' @ $.system.name"],
        id="root-name",
    ),
    pytest.param(
        BASE + "    - agent: demand_tracker:DEMAND_TRACKER\n      id: other\n      name: tracker\n",
        [
            "line 9: registry name 'tracker' is already taken by the agent at "
            "$.system.children[0]; names are unique in a run: set name: to another name, or "
            "false @ $.system.children[1].name"
        ],
        id="registry-name-given",
    ),
    pytest.param(
        BASE.replace(
            "demand_tracker:DEMAND_TRACKER\n      id: tracker",
            "dispatch:WORKER\n      id: w\n      state: {worker: w, did: [a, 3]}",
        ),
        ["line 7: expected str, got an int 3 @ $.system.children[0].state.did[1]"],
        id="state-list-item",
    ),
    pytest.param(
        BASE + "checks:\n  bounds:\n    - {metric: zzz, max: 1}\n",
        [
            "line 9: unknown metric 'zzz'; the metrics are time, events, restarts, escalations, "
            "faults.hits, faults.missed, mailbox.max_depth, calls, casts, agents, latency.p50, "
            "latency.p90, latency.p99, latency.max, recovery_time.max, recovery_time.mean, "
            "recoveries, unrecovered, dead_letters, restarts:<...>, calls.<...>, "
            "dead_letters:<...>, points:<...> @ $.checks.bounds[0].metric"
        ],
        id="metric-without-close-match",
    ),
    pytest.param(
        BASE + "checks:\n  disable: fifo_per_link\n",
        ["line 8: expected a list of strings, got a string 'fifo_per_link' @ $.checks.disable"],
        id="disable-not-a-list",
    ),
    pytest.param(
        BASE + "checks:\n  disable: [fifo_per_link, 3]\n",
        ["line 8: expected a list of strings; item 1 is an int 3 @ $.checks.disable"],
        id="disable-item",
    ),
    pytest.param(
        "version: 1\nname: t\nsystem:\n  children: {a: 1}\n",
        ["line 4: expected a list, got a mapping @ $.system.children"],
        id="children-not-a-list",
    ),
    pytest.param(
        "version: 1\nname: t\nsystem: [1]\n",
        ["line 3: expected a mapping, got a list @ $.system"],
        id="system-not-a-mapping",
    ),
    pytest.param(
        BASE + "checks: [always]\n",
        ["line 7: expected a mapping, got a list @ $.checks"],
        id="checks-not-a-mapping",
    ),
    pytest.param(
        BASE
        + "    - supervisor: inner\n      strategy: nope\n      children:\n"
        + "        - task: trio:sleep_forever\n          id: a\n          restart: never\n",
        [
            "line 8: expected one of 'one_for_one', 'one_for_all', 'rest_for_one', got a "
            "string 'nope' @ $.system.children[1].strategy",
            "line 12: expected one of 'permanent', 'transient', 'temporary', got a string "
            "'never' @ $.system.children[1].children[0].restart",
        ],
        id="nested-supervisor",
    ),
    pytest.param(
        BASE + "pythonpath: [no_such_dir]\n",
        [
            f"line 7: 'no_such_dir' is not a directory ({EXAMPLES_DIR / 'no_such_dir'}); "
            "pythonpath entries are directories relative to the scenario file @ $.pythonpath[0]"
        ],
        id="pythonpath",
    ),
    pytest.param(
        BASE + "      children: {strategy: x, max_seconds: 0}\n",
        [
            "line 7: expected one of 'one_for_one', 'one_for_all', 'rest_for_one', got a "
            "string 'x' @ $.system.children[0].children.strategy",
            "line 7: expected a duration > 0, got an int 0 "
            "@ $.system.children[0].children.max_seconds",
        ],
        id="agent-children-options",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MORE_CASES)
def test_more_errors(text: str, expected: list[str]) -> None:
    """What a reference turned out to be, sections of the wrong shape, nested
    paths: each reported where it is."""
    assert list(errors(text)) == expected


def test_a_long_line_is_cut() -> None:
    """One problem is one line of at most 400 characters."""
    (line,) = errors(BASE + "k" * 450 + ": 1\n")
    assert len(line) == 400
    assert line.startswith("line 7: unknown key 'kkk")
    assert line.endswith("kkk...")
