"""Malformed scenario files, generated: whatever is wrong with a file, loading
it raises ScenarioError (never another exception), and the message names the
file and fits on one screen, with no traceback.

Documents start from the bundled demand-tracker scenario and get one to three
mutations: a value of the wrong type, an unknown key, a missing key, a bad
duration, an unknown fault kind, an unresolvable ``module:attr``; or the file
is replaced by a non-mapping root, binary garbage, random text, or nothing.
"""

from __future__ import annotations

import copy
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from docs_examples import EXAMPLES_DIR
from hypothesis import given
from hypothesis import strategies as st

import chaos
from chaos import Scenario, ScenarioError

BASE: dict[str, Any] = yaml.safe_load(
    (EXAMPLES_DIR / "chaos_demand_tracker.yaml").read_text(encoding="utf-8")
)
# the files are written to a temporary directory: its modules come from here
BASE["pythonpath"] = [str(EXAMPLES_DIR)]

MUTATIONS = [
    "wrong_type",
    "unknown_key",
    "missing_key",
    "bad_duration",
    "fault_kind",
    "module_attr",
]
#: Mutations after which the document cannot be valid.
ALWAYS_INVALID = {"unknown_key", "bad_duration", "fault_kind", "module_attr"}

DURATIONS = [
    ("duration",),
    ("quiet_period",),
    ("system", "max_seconds"),
    ("workload", 0, "every"),
    ("workload", 1, "at"),
    ("faults", 0, "at"),
    ("faults", 3, "until"),
    ("faults", 4, "random", "at"),
]
REFS = [
    ("system", "children", 0, "agent"),
    ("checks", "always", 0, "invariant"),
    ("checks", "eventually", 0, "predicate"),
    ("checks", "bounds", 2, "predicate"),
]

names = st.text(string.ascii_letters + "_", min_size=1, max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)


def locations(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from locations(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from locations(value, (*path, i))


def mappings(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every mapping in a document (the root included)."""
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from mappings(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from mappings(value, (*path, i))


def get(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutated(draw: st.DrawFn) -> tuple[set[str], Any]:
    """A document with one to three mutations, and their kinds."""
    document = copy.deepcopy(BASE)
    drawn = draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3))
    # a mutation that makes the document invalid comes after those that might
    # undo it (a missing key could be the unknown key added before)
    for kind in sorted(drawn, key=lambda k: k in ALWAYS_INVALID):
        if kind == "wrong_type":
            *parent, last = draw(st.sampled_from(sorted(locations(document), key=repr)))
            get(document, tuple(parent))[last] = draw(values)
        elif kind == "unknown_key":
            free = [p for p in mappings(document) if "data" not in p and "params" not in p]
            where = get(document, draw(st.sampled_from(sorted(free, key=repr))))
            key = draw(names)
            while key in where:
                key += "_"
            where[key] = draw(values)
        elif kind == "missing_key":
            path = draw(st.sampled_from(sorted(mappings(document), key=repr)))
            where = get(document, path)
            if where:
                del where[draw(st.sampled_from(sorted(where)))]
        elif kind == "bad_duration":
            *parent, last = draw(st.sampled_from(DURATIONS))
            bad = st.one_of(
                st.sampled_from(["5 sec", "-1s", "1d", "", "ms", "1.5.2s", "∞", "10 minutes"]),
                st.integers(max_value=-1),
                st.floats(max_value=-0.001),
            )
            _set_if_there(document, tuple(parent), last, draw(bad))
        elif kind == "fault_kind":
            index = draw(st.integers(0, 3))
            bad_kind = draw(names.filter(lambda k: k not in chaos.FAULT_KINDS and k != "random"))
            _set_if_there(document, ("faults", index), "kind", bad_kind)
        else:
            *parent, last = draw(st.sampled_from(REFS))
            module = draw(st.from_regex(r"nomod_[a-z]{1,8}", fullmatch=True))
            attr = draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
            _set_if_there(document, tuple(parent), last, f"{module}:{attr}")
    return set(drawn), document


def _set_if_there(document: Any, parent: tuple[Any, ...], key: Any, value: Any) -> None:
    """Set ``key`` under ``parent`` if an earlier mutation left that mapping in place."""
    try:
        where = get(document, parent)
    except (KeyError, IndexError, TypeError):
        where = None
    if isinstance(where, dict):
        where[key] = value
    else:  # the place is gone: break the root instead, so the document stays invalid
        document["unknown_key_after_mutation"] = value


roots = st.one_of(
    st.lists(values, max_size=3),
    scalars.filter(lambda v: v is not None),
)


def load_file(content: bytes) -> tuple[Path, Scenario | ScenarioError]:
    """Write ``content`` to a scenario file and load it: the scenario, or the error."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "generated.yaml"
        path.write_bytes(content)
        try:
            return path, chaos.load_scenario(path)
        except ScenarioError as error:
            return path, error


def assert_one_screen(path: Path, error: ScenarioError) -> None:
    message = str(error)
    assert message.startswith(f"{path}: "), message
    assert len(message.splitlines()) <= 25, message
    assert "Traceback" not in message
    assert error.file == str(path)
    assert error.errors
    for line in error.errors:
        assert "\n" not in line


@given(mutated())
def test_malformed_documents_raise_scenario_error_only(case: tuple[set[str], Any]) -> None:
    """A mutated document loads or raises ScenarioError with a one-screen message;
    a mutation that cannot leave it valid always raises."""
    kinds, document = case
    content = yaml.safe_dump(document, allow_unicode=True).encode("utf-8")
    path, result = load_file(content)
    if isinstance(result, ScenarioError):
        assert_one_screen(path, result)
    else:
        assert not kinds & ALWAYS_INVALID, (kinds, document)


@given(roots)
def test_non_mapping_roots(root: Any) -> None:
    """A document whose root is not a mapping is refused."""
    path, result = load_file(yaml.safe_dump(root, allow_unicode=True).encode("utf-8"))
    assert isinstance(result, ScenarioError)
    assert_one_screen(path, result)


@given(
    st.one_of(
        st.binary(min_size=1, max_size=200),
        st.sampled_from([b"", b"\n", b"   \n", b"# only a comment\n", b"---\n", b"...\n"]),
        st.text(max_size=200).map(lambda t: t.encode("utf-8")),
        st.text(max_size=50).map(lambda t: t.encode("utf-16")),
    )
)
def test_garbage_files(content: bytes) -> None:
    """Binary garbage, random text, other encodings and empty files are refused
    with a one-screen message."""
    path, result = load_file(content)
    assert isinstance(result, ScenarioError)
    assert_one_screen(path, result)
