"""Hypothesis throws malformed scenario files at ``python -m chaos validate``
and ``run``: wrong types, unknown keys, missing keys, bad durations, unknown
fault kinds, unresolvable ``module:attr``, roots that are not mappings, binary
garbage and empty files. Every one exits 2 with a one-screen message on
stderr, nothing on stdout, and never a traceback.

The CLI runs in-process (``chaos._cli.main``) for speed; one document goes
through a real ``python -m chaos run`` in ``test_cli_subprocess.py``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chaos import FAULT_KINDS
from chaos._cli import main

#: A valid scenario, mutated below into invalid ones.
VALID: dict[str, Any] = {
    "version": 1,
    "name": "mini",
    "duration": "2s",
    "quiet_period": "1s",
    "system": {
        "strategy": "one_for_one",
        "max_seconds": "5s",
        "children": [{"task": "trio:sleep_forever", "id": "idle", "shutdown": 0}],
    },
    "workload": [],
    "faults": [{"kind": "kill", "target": "root/idle", "at": "1s"}],
    "checks": {"bounds": [{"metric": "restarts", "max": 5}]},
}

#: Where each mutation may act: a path into VALID, as keys and indexes.
PLACES: dict[str, tuple[Any, ...]] = {
    "top": (),
    "system": ("system",),
    "child": ("system", "children", 0),
    "fault": ("faults", 0),
    "bound": ("checks", "bounds", 0),
}

#: Values of the wrong type for each key (none of them valid there).
WRONG_TYPES: dict[tuple[Any, ...], list[Any]] = {
    ("version",): [2, "1", 1.5, True, None, [], {}],
    ("name",): [1, [], {}, True, None, "", "has space"],
    ("seed",): [-1, "x", 1.5, [], {}, True],
    ("duration",): [[], {}, True, None, 0],
    ("clock",): ["wall", 1, [], True],
    ("swarm",): ["maybe", 2, [], {}],
    ("system",): ["root", 1, [], True],
    ("workload",): ["x", 1, {"call": "idle"}, True],
    ("faults",): ["kill", 1, {"kind": "kill"}, True],
    ("checks",): ["all", 1, [1], True],
    ("system", "strategy"): ["one_for_everyone", 1, [], None],
    ("system", "max_restarts"): [-1, "three", 1.5, []],
    ("system", "children"): ["idle", 1, {"task": "x"}],
    ("system", "children", 0, "id"): [1, [], "a/b", ""],
    ("system", "children", 0, "restart"): ["forever", 1, True],
    ("faults", 0, "target"): [1, [], {}, None],
    ("faults", 0, "pick"): ["some", -1, [], "150%"],
    ("checks", "bounds", 0, "max"): ["lots", [], {}],
    ("checks", "bounds", 0, "metric"): [1, [], "no_such_metric"],
}

#: Keys each place requires.
REQUIRED: dict[str, list[str]] = {
    "top": ["version", "name", "system"],
    "child": ["id", "task"],
    "fault": ["kind", "target"],
    "bound": ["metric"],
}

#: Keys a duration is written in.
DURATIONS = [("duration",), ("quiet_period",), ("system", "max_seconds"), ("faults", 0, "at")]

_known = {"version", "name", "description", "seed", "duration", "quiet_period", "clock"}
_known |= {"swarm", "pythonpath", "system", "workload", "faults", "checks", "random", "kind"}
_known |= {"strategy", "max_restarts", "max_seconds", "auto_shutdown", "max_children"}
_known |= {"backoff", "children", "task", "id", "args", "restart", "shutdown", "significant"}
_known |= {"target", "at", "pick", "metric", "max", "min", "agent", "supervisor", "until"}
_known |= {"count", "interval", "nth", "probability", "source", "state", "store"}

words = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _dump(document: object) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()


@st.composite
def wrong_type(draw: st.DrawFn) -> bytes:
    path = draw(st.sampled_from(sorted(WRONG_TYPES, key=str)))
    return _dump(_set(VALID, path, draw(st.sampled_from(WRONG_TYPES[path]))))


@st.composite
def unknown_key(draw: st.DrawFn) -> bytes:
    place = PLACES[draw(st.sampled_from(sorted(PLACES)))]
    key = draw(words.filter(lambda word: word not in _known))
    return _dump(_set(VALID, (*place, key), draw(st.sampled_from([1, "x", None, [], {}]))))


@st.composite
def missing_key(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(REQUIRED)))
    key = draw(st.sampled_from(REQUIRED[name]))
    document = copy.deepcopy(VALID)
    node: Any = document
    for step in PLACES[name]:
        node = node[step]
    del node[key]
    return _dump(document)


bad_duration_text = st.sampled_from(
    ["soon", "-1s", "1.2.3s", "5 parsecs", "s", "10ms later", "1e3s", "∞", "5 m s", "0x10s"]
)


@st.composite
def bad_duration(draw: st.DrawFn) -> bytes:
    path = draw(st.sampled_from(DURATIONS))
    value = draw(
        st.one_of(
            bad_duration_text,
            st.integers(max_value=-1),
            st.floats(max_value=-0.001, allow_infinity=False),
            st.just(float("nan")),
        )
    )
    return _dump(_set(VALID, path, value))


@st.composite
def unknown_fault_kind(draw: st.DrawFn) -> bytes:
    kind = draw(words.filter(lambda word: word not in FAULT_KINDS and word != "random"))
    return _dump(_set(VALID, ("faults", 0, "kind"), kind))


@st.composite
def unresolvable_reference(draw: st.DrawFn) -> bytes:
    name = draw(words)
    reference = draw(
        st.sampled_from(
            [f"no_such_module_{name}:start", f"trio:no_such_{name}", f"trio.no_such_{name}:x"]
        )
    )
    return _dump(_set(VALID, ("system", "children", 0, "task"), reference))


non_mapping_root = st.one_of(
    st.lists(st.integers(), max_size=3), st.integers(), words, st.just(None), st.booleans()
).map(_dump)

garbage = st.binary(min_size=1, max_size=200)

empty = st.sampled_from(
    [b"", b"\n", b"   \n\t\n", b"# only a comment\n", b"---\n", b"\xef\xbb\xbf"]
)

malformed = st.one_of(
    wrong_type(),
    unknown_key(),
    missing_key(),
    bad_duration(),
    unknown_fault_kind(),
    unresolvable_reference(),
    non_mapping_root,
    garbage,
    empty,
)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file each example is written to (one per module: examples run one at a time)."""
    return tmp_path_factory.mktemp("malformed") / "scenario.yaml"


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_valid_document_runs(scenario_file: Path) -> None:
    """The document the strategies mutate is valid and passes (so each mutation is the fault)."""
    scenario_file.write_bytes(_dump(VALID))
    assert _cli("run", str(scenario_file), "-q")[0] == 0


@given(malformed)
def test_malformed_scenarios_exit_2_with_one_screen(scenario_file: Path, content: bytes) -> None:
    """validate and run refuse every malformed file: exit 2, the problem on stderr
    in at most 22 lines naming the file, nothing on stdout, no traceback."""
    scenario_file.write_bytes(content)
    for command in ("validate", "run"):
        code, out, err = _cli(command, str(scenario_file))
        assert code == 2, (command, content, out, err)
        assert out == ""
        assert err.startswith(f"{scenario_file}: ")
        assert 2 <= len(err.splitlines()) <= 22
        assert "Traceback" not in err
