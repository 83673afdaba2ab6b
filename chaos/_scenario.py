"""Scenario files: a chaos run written down as YAML (``version: 1``).

A scenario names a system (a supervision tree of agents, tasks and nested
supervisors, by ``module:attr``), a workload, a fault plan and checks. This
module reads one into a :class:`Scenario` that runs it with :func:`chaos.run`,
and writes one back (:meth:`Scenario.to_yaml`, the regression file a shrunk
plan becomes). ``docs/scenarios.md`` is the format's reference.

Loading goes in three steps, and every problem of a document is collected
before one :class:`ScenarioError` reports them all, each with the file, the
line (from the YAML node marks), the ``$.path``, what was expected and what
was found:

1. **YAML**: composed with ``yaml.SafeLoader`` (plain data only: Python tags
   are refused), keeping the line of every key and value by ``$.path``.
2. **Structure**: each mapping of the format is structured with cattrs into a
   private attrs class, unknown keys forbidden (close matches suggested); the
   ``faults`` section goes through :meth:`FaultPlan.from_dict`, its paths
   re-rooted under ``$.faults``.
3. **Meaning**: ``module:attr`` references are imported and checked for their
   kind, every child spec and supervisor option is checked by jido_trio itself
   (its errors re-reported at their ``$.path``), and the names (child ids,
   registry names, check names, fault targets) are checked against each other.

``module:attr`` resolution: the scenario's directory first, then the
``pythonpath`` directories it lists, then ``sys.path``. Those directories are
on ``sys.path`` only while the modules are imported; a module is imported under
its own name (cattrs finds state classes through ``sys.modules``), so two
scenario directories in one process cannot hold different modules of the same
name: that is reported as a clash, not resolved by load order.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import importlib.machinery
import inspect
import math
import os
import pkgutil
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, NewType, cast, get_args, get_origin, get_type_hints

import attrs
import cattrs
import yaml
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

import jido_trio
from jido_trio import (
    AgentDef,
    AutoShutdown,
    ChildSpec,
    InvalidChildSpecError,
    InvalidStateError,
    JidoError,
    RestartFrom,
    RestartType,
    Strategy,
)

from ._checks import BUILTIN_CHECKS, Bound, CheckResult, Eventually, Invariant, Sometimes, UserCheck
from ._errors import ChaosError, InvalidPlanError
from ._plan import (
    _PICK,
    FAULT_CLASSES,
    FAULT_KINDS,
    FaultPlan,
    RandomFaults,
    Seconds,
    parse_duration,
)
from ._report import RunReport
from ._run import MAX_RUN_SECONDS, System, plan_problems
from ._run import check_determinism as _check_determinism
from ._run import run as _run
from ._workload import Send

__all__ = [
    "FORMAT_VERSION",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "loads_scenario",
    "new_scenario",
    "scenario_schema",
]

#: The only version of the format.
FORMAT_VERSION: Final = 1
#: Error lines shown before "... N more": with the heading, one screen.
MAX_ERROR_LINES: Final = 20
#: Longest error line kept (a longer one is cut, ending in "...").
_MAX_LINE: Final = 400
#: Nodes walked, aliases expanded, before a document counts as too large.
_MAX_NODES: Final = 100_000
#: Digits of the longest int literal read (Python refuses to parse 4300 and more).
_MAX_DIGITS: Final = 4000
#: The largest int an option takes (a count, a size): 2**63 - 1.
_MAX_INT: Final = 2**63 - 1

_MODULE_ATTR: Final = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CHILD_ID: Final = re.compile(r"^[^/\s]+$")
_WILDCARD: Final = re.compile(r"[*?\[\]!]")

#: Metric names of :attr:`RunReport.metrics` (``_Engine.metrics``) a bound may
#: name, and the prefixes of the per-path / per-reason families.
METRICS: Final = (
    "time",
    "events",
    "restarts",
    "escalations",
    "faults.hits",
    "faults.missed",
    "mailbox.max_depth",
    "calls",
    "casts",
    "agents",
    "latency.p50",
    "latency.p90",
    "latency.p99",
    "latency.max",
    "recovery_time.max",
    "recovery_time.mean",
    "recoveries",
    "unrecovered",
    "dead_letters",
)
METRIC_PREFIXES: Final = ("restarts:", "calls.", "dead_letters:", "points:")
_CALL_OUTCOMES: Final = ("ok", "error", "timeout", "down", "no_agent", "cancelled", "pending")


# -- errors ------------------------------------------------------------------------


class ScenarioError(ChaosError, ValueError):
    """A scenario file cannot be read, or is not a valid scenario.

    ``str(error)`` fits on one screen: a heading naming the file, then one
    line per problem (at most 20, then ``... N more``), each
    ``line 12: <what is wrong> @ $.path``.

    Attributes:
        file: the file as it was named (``"<string>"`` for text without a path).
        errors: every problem, one line each (not capped).
    """

    def __init__(
        self, file: str, errors: Sequence[str], *, heading: str = "invalid scenario"
    ) -> None:
        self.file = file
        self.errors = tuple(errors)
        self.heading = heading
        shown = [f"  {line}" for line in self.errors[:MAX_ERROR_LINES]]
        if len(self.errors) > MAX_ERROR_LINES:
            shown.append(f"  ... {len(self.errors) - MAX_ERROR_LINES} more")
        super().__init__("\n".join([f"{file}: {heading}:", *shown]))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_scenario_error, (self.file, self.errors, self.heading))


def _rebuild_scenario_error(file: str, errors: Sequence[str], heading: str) -> ScenarioError:
    return ScenarioError(file, errors, heading=heading)


@attrs.frozen
class _Problem:
    """One problem: where (a ``$.path`` and, when known, a line) and what."""

    message: str
    path: str | None = None
    line: int | None = None

    def render(self) -> str:
        text = " ".join(self.message.split())  # one line, whatever the source said
        if self.path is not None:
            text = f"{text} @ {self.path}"
        if self.line is not None:
            text = f"line {self.line}: {text}"
        if len(text) > _MAX_LINE:
            text = text[: _MAX_LINE - 3] + "..."
        return text


class _Fail(Exception):
    """A problem found while structuring or resolving one value (its path is
    added by the caller)."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an int"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _got(value: object) -> str:
    """``got a string 'x'``: the kind of a found value, and the value."""
    if value is None:
        return "got null"
    if isinstance(value, Mapping | list | tuple):
        return f"got {_kind(value)}"
    return f"got {_kind(value)} {_show(value)}"


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- YAML, with the line of every path ------------------------------------------------


@attrs.define
class _Marks:
    """The 1-based line of every value (and of every mapping key) by ``$.path``."""

    values: dict[str, int] = attrs.Factory(dict)
    keys: dict[str, int] = attrs.Factory(dict)

    def line(self, path: str | None, key: str | None = None) -> int | None:
        """The line of ``path`` (of its ``key`` first, if given), else of its
        nearest ancestor that has one."""
        if path is None:
            return None
        if key is not None and f"{path}.{key}" in self.keys:
            return self.keys[f"{path}.{key}"]
        while True:
            if path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            parent = _parent(path)
            if parent is None:
                return None
            path = parent


_PATH_TAIL: Final = re.compile(r"(\.[^.\[]+|\[\d+\])$")


def _parent(path: str) -> str | None:
    match = _PATH_TAIL.search(path)
    if match is None or match.start() == 0:
        return None
    return path[: match.start()]


def _walk(node: yaml.Node, marks: _Marks, problems: list[_Problem]) -> None:
    """Record the line of every node by path; report duplicate keys, and refuse
    recursive aliases and documents too large once aliases are expanded."""
    seen = 0
    stack: list[tuple[yaml.Node, str, frozenset[int]]] = [(node, "$", frozenset())]
    while stack:
        current, path, ancestors = stack.pop()
        seen += 1
        if seen > _MAX_NODES:
            raise _Fail(
                f"the document has more than {_MAX_NODES} values once its aliases are "
                "expanded; a scenario is a small file"
            )
        if id(current) in ancestors:
            raise _Fail(
                f"line {current.start_mark.line + 1}: a recursive alias (a value that "
                "contains itself) cannot be a scenario value"
            )
        marks.values[path] = current.start_mark.line + 1  # a later duplicate key wins
        if (
            isinstance(current, yaml.ScalarNode)
            and current.tag == "tag:yaml.org,2002:int"
            and len(current.value) > _MAX_DIGITS
        ):
            raise _Fail(
                f"line {current.start_mark.line + 1}: a number of {len(current.value)} digits "
                f"@ {path}; no value of a scenario needs more than {_MAX_DIGITS}"
            )
        inner = ancestors | {id(current)}
        if isinstance(current, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            children = []
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    children.append((value_node, f"{path}.?", inner))
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key != "<<":
                    ident = (key_node.tag, key)
                    if ident in first:
                        problems.append(
                            _Problem(
                                f"duplicate key {key!r} (first at line {first[ident]}); YAML "
                                "keeps only the last one: remove one of them",
                                path,
                                line,
                            )
                        )
                    first.setdefault(ident, line)
                marks.keys[f"{path}.{key}"] = line
                children.append((value_node, f"{path}.{key}", inner))
            stack.extend(reversed(children))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(
                (item, f"{path}[{i}]", inner)
                for i, item in reversed(list(enumerate(current.value)))
            )


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return (
            f"line {line}: the file holds a character YAML does not allow (#x{exc.character:04x}); "
            "a scenario is a YAML text file"
        )
    if isinstance(exc, yaml.constructor.ConstructorError) and exc.problem_mark is not None:
        line = exc.problem_mark.line + 1
        if "unhashable key" in (exc.problem or ""):
            return (
                f"line {line}: a key is a list or a mapping (a '? ' key); the keys of a "
                "scenario are plain names"
            )
        match = re.search(r"tag '([^']*)'", exc.problem or "")
        tag = match[1] if match else "?"
        tag = tag.replace("tag:yaml.org,2002:", "!!")
        if "python/" in tag:
            return (
                f"line {line}: the tag {tag!r} is refused: scenario files are plain data "
                "(yaml.safe_load), never Python objects; write the value as plain YAML"
            )
        return f"line {line}: unknown tag {tag!r}; scenario files use plain YAML values"
    if isinstance(exc, yaml.composer.ComposerError) and "another document" in (exc.problem or ""):
        at = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark is not None else ""
        return (
            f"{at}a second YAML document starts here; a scenario file holds one "
            "document (remove the extra '---')"
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        column = f" (column {mark.column + 1})" if mark is not None else ""
        what = exc.problem or "a syntax error"
        context = f", {exc.context}" if exc.context else ""
        return f"{where}not valid YAML: {what}{column}{context}"
    return f"not valid YAML: {' '.join(str(exc).split())}"


def _parse(text: str, file: str) -> tuple[Any, _Marks, list[_Problem]]:
    """The document as plain data, the lines of its paths, and the problems
    found on the way (duplicate keys); raises :class:`ScenarioError` when
    there is no document to go on with."""
    marks = _Marks()
    problems: list[_Problem] = []
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(file, [_yaml_problem(exc, text)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(
                file,
                [
                    "the file is empty: a scenario is a YAML mapping that starts with "
                    "'version: 1' (python -m chaos new writes a starter)"
                ],
            )
        try:
            _walk(node, marks, problems)
        except _Fail as exc:
            raise ScenarioError(file, [str(exc)]) from None
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError(file, [_yaml_problem(exc, text)]) from None
    finally:
        loader.dispose()
    return data, marks, problems


# -- the format, as private attrs classes (structured with cattrs) ----------------------

#: A ``module:attr`` reference.
_Ref = NewType("_Ref", str)
#: A list whose items the builder structures one by one (``null`` is empty).
_Items = NewType("_Items", tuple)  # type: ignore[type-arg]
#: A mapping the builder structures itself.
_Section = NewType("_Section", dict)  # type: ignore[type-arg]
#: ``store:``: ``memory``, ``{sqlite: path}`` or ``null``.
_Store = NewType("_Store", object)
#: ``name:`` of an agent: a string, ``false`` or ``null``.
_RegName = NewType("_RegName", object)

#: ``version:``: the int 1.
_Version = NewType("_Version", int)
#: A scenario's ``name:``.
_ScenarioName = NewType("_ScenarioName", str)
#: A duration > 0.
_Positive = NewType("_Positive", float)
#: An int >= 0 (``seed:``).
_Natural = NewType("_Natural", int)

Clock = Literal["virtual", "real"]


@attrs.frozen(kw_only=True)
class _TopDoc:
    """The top level, its keys in the order a file is written."""

    version: _Version
    name: _ScenarioName
    description: str = ""
    seed: _Natural = _Natural(0)
    duration: _Positive = _Positive(30.0)
    quiet_period: Seconds = attrs.field(default=Seconds(10.0))
    clock: Clock = "virtual"
    swarm: bool = False
    pythonpath: tuple[str, ...] = ()
    system: _Section
    workload: _Items = _Items(())
    faults: _Items = _Items(())
    checks: _Section | None = None


@attrs.frozen(kw_only=True)
class _BackoffDoc:
    initial: Seconds = attrs.field(default=Seconds(0.1))
    factor: float = 2.0
    maximum: Seconds = attrs.field(default=Seconds(30.0))
    jitter: float = 0.1


@attrs.frozen(kw_only=True)
class _OptionsDoc:
    """Supervisor options (an agent's ``children:`` takes these only)."""

    strategy: Strategy = "one_for_one"
    max_restarts: int = 3
    max_seconds: _Positive = _Positive(5.0)
    auto_shutdown: AutoShutdown = "never"
    max_children: int | None = None
    backoff: _BackoffDoc | None = None


@attrs.frozen(kw_only=True)
class _RootDoc(_OptionsDoc):
    name: str = "root"
    children: _Items = _Items(())


@attrs.frozen(kw_only=True)
class _SupervisorDoc(_OptionsDoc):
    supervisor: str
    restart: RestartType = "permanent"
    shutdown: Seconds | None = None
    significant: bool = False
    children: _Items = _Items(())


@attrs.frozen(kw_only=True)
class _AgentDoc:
    agent: _Ref
    id: str | None = None
    restart: RestartType = "permanent"
    shutdown: Seconds | None = attrs.field(default=Seconds(5.0))
    significant: bool = False
    state: Any = None
    mailbox_size: int = 1000
    restart_from: RestartFrom = "checkpoint"
    name: _RegName = _RegName(None)
    dead_letter_limit: int = 1000
    children: _OptionsDoc | None = None
    store: _Store = _Store(None)


@attrs.frozen(kw_only=True)
class _TaskDoc:
    task: _Ref
    id: str
    args: _Items = _Items(())
    restart: RestartType = "permanent"
    shutdown: Seconds | None = attrs.field(default=Seconds(5.0))
    significant: bool = False


@attrs.frozen(kw_only=True)
class _SendDoc:
    signal: str
    call: str | None = None
    cast: str | None = None
    data: Any = None
    at: Seconds = attrs.field(default=Seconds(0.0))
    every: Seconds | None = None
    rate: float | None = None
    count: int | None = None
    until: Seconds | None = None
    timeout: Seconds | None = None


@attrs.frozen(kw_only=True)
class _ChecksDoc:
    disable: tuple[str, ...] = ()
    always: _Items = _Items(())
    eventually: _Items = _Items(())
    sometimes: _Items = _Items(())
    bounds: _Items = _Items(())


@attrs.frozen(kw_only=True)
class _InvariantDoc:
    invariant: _Ref
    name: str | None = None
    target: str = "**"


@attrs.frozen(kw_only=True)
class _PredicateDoc:
    predicate: _Ref
    name: str | None = None


@attrs.frozen(kw_only=True)
class _BoundDoc:
    metric: str
    max: float | None = None
    min: float | None = None
    name: str | None = None


_CHILD_KEYS: Final = {"agent": _AgentDoc, "task": _TaskDoc, "supervisor": _SupervisorDoc}


def _keys(cl: type) -> list[str]:
    return [f.name for f in attrs.fields(cl)]


def _converter() -> cattrs.Converter:
    """A new strict converter for the format's classes (one per load: no
    converter lives at module level)."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)

    def strict(tp: type, name: str) -> Callable[[object, object], Any]:
        def hook(value: object, _: object) -> Any:
            if tp is float and isinstance(value, float) and not math.isfinite(value):
                raise _Fail(f"expected a finite number, {_got(value)}")
            if tp is float and isinstance(value, int) and not isinstance(value, bool):
                if abs(value) > _MAX_INT:
                    raise _Fail(f"expected a number of at most 2**63 - 1, {_got(value)}")
                return float(value)
            if tp is int and isinstance(value, int) and abs(value) > _MAX_INT:
                raise _Fail(f"expected an int of at most 2**63 - 1, {_got(value)}")
            if isinstance(value, tp) and not (tp is not bool and isinstance(value, bool)):
                return value
            raise _Fail(f"expected {name}, {_got(value)}")

        return hook

    def seconds(value: object, _: object) -> float:
        try:
            return parse_duration(value)
        except InvalidPlanError:
            raise _Fail(
                "expected a duration: seconds >= 0 as a number, or a string such as "
                f"'250ms', '30s', '5m' or '1h'; {_got(value)}"
            ) from None

    def positive(value: object, _: object) -> float:
        seconds_ = seconds(value, None)
        if seconds_ <= 0:
            raise _Fail(f"expected a duration > 0, {_got(value)}")
        return seconds_

    def version(value: object, _: object) -> int:
        if value == FORMAT_VERSION and not isinstance(value, bool | float):
            return FORMAT_VERSION
        raise _Fail(f"expected {FORMAT_VERSION} (the only version of the format), {_got(value)}")

    def scenario_name(value: object, _: object) -> str:
        if isinstance(value, str) and _NAME.match(value):
            return value
        raise _Fail(
            "expected a name of letters, digits, '_', '.' and '-' (it names journals and "
            f"JUnit suites), {_got(value)}"
        )

    def natural(value: object, _: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise _Fail(f"expected an int >= 0, {_got(value)}")

    def ref(value: object, _: object) -> str:
        if isinstance(value, str) and _MODULE_ATTR.match(value):
            return value
        raise _Fail(f"expected 'module:attr' (e.g. 'demand_tracker:DEMAND_TRACKER'), {_got(value)}")

    def items(value: object, _: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            return tuple(value)
        raise _Fail(f"expected a list, {_got(value)}")

    def section(value: object, _: object) -> dict[Any, Any]:
        if isinstance(value, Mapping):
            return dict(value)
        raise _Fail(f"expected a mapping, {_got(value)}")

    def strings(value: object, _: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise _Fail(f"expected a list of strings, {_got(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise _Fail(f"expected a list of strings; item {i} is {_kind(item)} {_show(item)}")
        return tuple(value)

    def store(value: object, _: object) -> object:
        if value is None or value == "memory":
            return value
        if (
            isinstance(value, Mapping)
            and list(value) == ["sqlite"]
            and isinstance(value["sqlite"], str)
            and value["sqlite"]
        ):
            return ("sqlite", value["sqlite"])
        raise _Fail(
            "expected 'memory', {sqlite: <file, relative to the scenario>} or null, "
            f"{_got(value)}"
        )

    def reg_name(value: object, _: object) -> object:
        if value is None or value is False or (isinstance(value, str) and value):
            return value
        raise _Fail(
            "expected a registry name (a non-empty string), false (register nothing) or null "
            f"(register under the id), {_got(value)}"
        )

    def literal_factory(tp: Any) -> Callable[[object, object], Any]:
        choices = [str(c) for c in get_args(tp)]

        def hook(value: object, _: object) -> Any:
            if isinstance(value, str) and value in choices:
                return value
            hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
            raise _Fail(f"expected one of {', '.join(map(repr, choices))}, {_got(value)}{hint}")

        return hook

    def class_factory(cl: type) -> Callable[[object, object], Any]:
        base: Callable[[Any, Any], Any] = cattrs.gen.make_dict_structure_fn(
            cl, converter, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
        )

        def hook(value: object, tp: object) -> Any:
            if not isinstance(value, Mapping):
                raise _Fail(f"expected a mapping, {_got(value)}")
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise _Fail(f"keys must be strings, got {_kind(bad[0])} key {_show(bad[0])}")
            return base(value, tp)

        return hook

    converter.register_structure_hook(int, strict(int, "an int"))
    converter.register_structure_hook(float, strict(float, "a number"))
    converter.register_structure_hook(str, strict(str, "a string"))
    converter.register_structure_hook(bool, strict(bool, "true or false"))
    converter.register_structure_hook(Seconds, seconds)
    converter.register_structure_hook(_Positive, positive)
    converter.register_structure_hook(_Version, version)
    converter.register_structure_hook(_ScenarioName, scenario_name)
    converter.register_structure_hook(_Natural, natural)
    converter.register_structure_hook(_Ref, ref)
    converter.register_structure_hook(_Items, items)
    converter.register_structure_hook(_Section, section)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], strings)
    converter.register_structure_hook(_Store, store)
    converter.register_structure_hook(_RegName, reg_name)
    converter.register_structure_hook_factory(_is_literal, literal_factory)
    converter.register_structure_hook_factory(attrs.has, class_factory)
    return converter


_LITERAL: Final[Any] = Literal


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is _LITERAL


def _leaves(exc: BaseException, path: str) -> Iterator[tuple[BaseException, str]]:
    """Every leaf exception of a cattrs validation error, with its ``$.path``."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            if isinstance(note, IterableValidationNote):
                where = f"{path}[{note.index!r}]"
            else:
                where = f"{path}.{note.name}"
            yield from _leaves(inner, where)
        for inner in without:
            yield from _leaves(inner, path)
    else:
        yield exc, path


# -- module:attr -------------------------------------------------------------------


def _describe(obj: object) -> str:
    if inspect.ismodule(obj):
        return f"the module {obj.__name__!r}"
    if inspect.isclass(obj):
        return f"the class {obj.__qualname__!r}"
    if inspect.iscoroutinefunction(obj):
        return f"the async function {obj.__qualname__!r}"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return f"the function {getattr(obj, '__qualname__', '?')!r}"
    name = type(obj).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} ({_show(obj)})"


def _module_origin(module: Any) -> list[str]:
    origin = getattr(module, "__file__", None)
    if origin:
        return [os.path.realpath(origin)]
    return sorted(os.path.realpath(p) for p in getattr(module, "__path__", ()))


def _spec_origin(spec: importlib.machinery.ModuleSpec) -> list[str]:
    if spec.origin and spec.has_location:
        return [os.path.realpath(spec.origin)]
    return sorted(os.path.realpath(p) for p in spec.submodule_search_locations or ())


class _Resolver:
    """Imports ``module:attr`` references: the scenario's directory first, then
    its ``pythonpath`` directories, then ``sys.path`` (see the module docstring)."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs = [str(d) for d in dirs]
        self.cache: dict[str, object] = {}

    def resolve(self, spec: str) -> object:
        if spec in self.cache:
            found = self.cache[spec]
            if isinstance(found, _Fail):
                raise found
            return found
        try:
            found = self._resolve(spec)
        except _Fail as exc:
            self.cache[spec] = exc
            raise
        self.cache[spec] = found
        return found

    def _resolve(self, spec: str) -> object:
        module_name, _, attr = spec.partition(":")
        module = self._import(module_name)
        target: Any = module
        walked = module_name
        for part in attr.split("."):
            if not hasattr(target, part):
                names = [n for n in dir(target) if not n.startswith("_")]
                raise _Fail(f"{walked!r} has no attribute {part!r}{_did_you_mean(part, names)}")
            target = getattr(target, part)
            walked = f"{walked}:{part}" if walked == module_name else f"{walked}.{part}"
        return target

    def _local_names(self) -> list[str]:
        return sorted({m.name for m in pkgutil.iter_modules(self.dirs)})

    def _import(self, module_name: str) -> Any:
        top = module_name.split(".")[0]
        local = importlib.machinery.PathFinder.find_spec(top, self.dirs) if self.dirs else None
        existing = sys.modules.get(top)
        if (
            local is not None
            and existing is not None
            and _module_origin(existing) != _spec_origin(local)
        ):
            mine = ", ".join(_spec_origin(local)) or "?"
            theirs = ", ".join(_module_origin(existing)) or "a built-in module"
            raise _Fail(
                f"the module {top!r} next to this scenario ({mine}) clashes with the "
                f"module {top!r} this process already imported ({theirs}): a process "
                "imports a module name once, so rename one of them"
            )
        saved = list(sys.path)
        sys.path[:0] = self.dirs
        try:
            importlib.invalidate_caches()
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            parts = module_name.split(".")
            prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
            if exc.name not in prefixes:
                raise _Fail(
                    f"importing {module_name!r} failed: it imports {exc.name!r}, which is not "
                    "installed (ModuleNotFoundError)"
                ) from None
            where = (
                f"next to the scenario ({', '.join(self.dirs)}) or on sys.path"
                if self.dirs
                else "on sys.path"
            )
            hint = _did_you_mean(top, self._local_names()) if self.dirs else ""
            raise _Fail(f"no module named {exc.name!r} {where}{hint}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a user's module: reported
            raise _Fail(f"importing {module_name!r} raised {_exception_line(exc)}") from None
        finally:
            sys.path[:] = saved


def _exception_line(exc: BaseException) -> str:
    """``NameError: name 'x' is not defined (agents.py, line 3)``."""
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({os.path.basename(exc.filename)}, line {exc.lineno})"
        text = exc.msg
    else:
        text = str(exc)
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            where = f" ({os.path.basename(last.filename)}, line {last.lineno})"
    return f"{type(exc).__name__}: {text}{where}"


# -- the system, rebuilt for every run ------------------------------------------------


@attrs.frozen
class _AgentNode:
    id: str
    definition: AgentDef[Any]
    state: Any
    store: tuple[str, ...] | str | None
    options: Mapping[str, Any]

    def spec(self, base: Path | None, *, probe: bool = False) -> ChildSpec:
        """A new spec (a new agent, a new store); ``probe``: only to check the
        options, with no store made."""
        store: jido_trio.CheckpointStore | None = None
        if probe:
            pass
        elif self.store == "memory":
            store = jido_trio.MemoryStore()
        elif isinstance(self.store, tuple):
            store = _fresh_sqlite(self.store[1], base)
        return jido_trio.agent_spec(
            self.id,
            self.definition,
            state=copy.deepcopy(self.state),
            store=store,
            **self.options,
        )


@attrs.frozen
class _TaskNode:
    id: str
    start: Callable[..., Any]
    args: tuple[Any, ...]
    options: Mapping[str, Any]

    def spec(self, base: Path | None) -> ChildSpec:
        return ChildSpec(self.id, self.start, args=copy.deepcopy(self.args), **self.options)


@attrs.frozen
class _SupervisorNode:
    id: str
    children: tuple[_Node, ...]
    options: Mapping[str, Any]

    def spec(self, base: Path | None) -> ChildSpec:
        return jido_trio.supervisor_spec(
            self.id, [child.spec(base) for child in self.children], **self.options
        )


_Node = _AgentNode | _TaskNode | _SupervisorNode


def _fresh_sqlite(name: str, base: Path | None) -> jido_trio.SqliteStore:
    """An SQLite store that starts empty: a run's checkpoints are its own."""
    if name == ":memory:":
        return jido_trio.SqliteStore(name)
    path = (base / name) if base is not None else Path(name)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return jido_trio.SqliteStore(path)


@attrs.frozen
class _Children:
    """The root's ``children`` factory: fresh specs (agents, stores) per call."""

    nodes: tuple[_Node, ...]
    base: Path | None

    def __call__(self) -> list[ChildSpec]:
        return [node.spec(self.base) for node in self.nodes]


def _options(doc: _OptionsDoc) -> dict[str, Any]:
    """Supervisor options as ``open_supervisor`` takes them (defaults left out)."""
    out: dict[str, Any] = {}
    for field in attrs.fields(_OptionsDoc):
        value = getattr(doc, field.name)
        if value == field.default:
            continue
        if field.name == "backoff":
            value = jido_trio.Backoff(**attrs.asdict(value))
        out[field.name] = value
    return out


# -- the builder: document -> Scenario -------------------------------------------------

_SPEC_PREFIX = re.compile(r"^(?:agent_spec|supervisor_spec)\([^)]*\)(?:, children=\.\.\.\))?: ")


class _Builder:
    """Turns one parsed document into a :class:`Scenario`, collecting every problem."""

    def __init__(self, path: Path | None, marks: _Marks) -> None:
        self.path = path
        self.base = path.parent if path is not None else None
        self.marks = marks
        self.problems: list[_Problem] = []
        self.converter = _converter()
        self.resolver = _Resolver([])
        #: static tree paths (supervisors included), and the agent/task paths
        #: under which children may appear at run time
        self.paths: list[str] = []
        self.hosts: list[str] = []
        self.reg_names: dict[str, str] = {}
        self.system_ok = False

    # ---------------------------------------------------------------- problems
    def fail(self, message: str, path: str | None, *, key: str | None = None) -> None:
        self.problems.append(_Problem(message, path, self.marks.line(path, key)))

    def structure(self, data: object, cl: type[Any], path: str) -> Any:
        """``data`` structured into ``cl``, or ``None`` after reporting why not."""
        try:
            return self.converter.structure(data, cl)
        except _Fail as exc:
            self.fail(str(exc), path)
        except ClassValidationError as exc:
            for leaf, where in _leaves(exc, path):
                self.leaf(leaf, where)
        return None

    def leaf(self, exc: BaseException, path: str) -> None:
        if isinstance(exc, ForbiddenExtraKeysError):
            allowed = _keys(exc.cl)
            for key in sorted(map(str, exc.extra_fields)):
                hint = _did_you_mean(key, allowed)
                if not hint:
                    hint = f"; expected one of: {', '.join(allowed)}"
                self.fail(f"unknown key {key!r}{hint}", path, key=key)
        elif isinstance(exc, KeyError):
            self.fail("required key missing", path)
        elif isinstance(exc, _Fail):
            self.fail(str(exc), path)
        else:  # a hook of cattrs' own: word what it said
            self.fail(f"{type(exc).__name__}: {exc}", path)

    def resolve(self, ref: str, path: str) -> object | None:
        try:
            return self.resolver.resolve(ref)
        except _Fail as exc:
            self.fail(str(exc), path)
            return None

    # -------------------------------------------------------------------- top
    def build(self, data: object) -> Scenario | None:
        if not isinstance(data, Mapping):
            self.fail(
                f"a scenario is a mapping of keys (version, name, system, ...), {_got(data)}",
                "$",
            )
            return None
        top: _TopDoc | None = self.structure(data, _TopDoc, "$")
        dirs = [self.base] if self.base is not None else []
        pythonpath = top.pythonpath if top is not None else ()
        for i, entry in enumerate(pythonpath):
            directory = (self.base / entry) if self.base is not None else Path(entry)
            if not directory.is_dir():
                self.fail(
                    f"{entry!r} is not a directory ({directory}); pythonpath entries are "
                    "directories relative to the scenario file",
                    f"$.pythonpath[{i}]",
                )
            dirs.append(directory)
        self.resolver = _Resolver(dirs)

        system = self.system(data.get("system"), "$.system")
        self.system_ok = system is not None
        workload = self.workload(data.get("workload"), "$.workload")
        duration = float(top.duration) if top is not None else None
        if top is not None and top.duration + top.quiet_period > MAX_RUN_SECONDS:
            self.fail(
                f"a run of {top.duration + top.quiet_period:g}s (duration and quiet_period) is "
                f"longer than {MAX_RUN_SECONDS:g}s (about 31 years) of virtual time, where "
                "float times lose their microseconds; make it shorter",
                "$.duration",
            )
            duration = None
        plan = self.faults(data.get("faults"), "$.faults", duration)
        checks = self.checks(data.get("checks"), "$.checks")
        if self.problems or top is None or system is None or plan is None or checks is None:
            return None
        user_checks, metric_checks, disable = checks
        return Scenario(
            path=self.path,
            name=top.name,
            description=top.description,
            seed=top.seed,
            duration=float(top.duration),
            quiet_period=float(top.quiet_period),
            clock=top.clock,
            swarm=top.swarm,
            system=system,
            workload=tuple(workload),
            plan=plan,
            checks=tuple(user_checks),
            disable=disable,
            document=copy.deepcopy(dict(data)),
            metric_checks=tuple(metric_checks),
        )

    # ----------------------------------------------------------------- system
    def system(self, data: object, path: str) -> System | None:
        if data is None:
            return None  # reported by the top-level structuring (required key missing)
        root: _RootDoc | None = self.structure(data, _RootDoc, path)
        name = root.name if root is not None else "root"
        if root is not None and not _CHILD_ID.match(name):
            self.fail(f"expected a name without '/' or spaces, {_got(name)}", f"{path}.name")
            root = None
        options: dict[str, Any] = {}
        if root is not None:
            options = self.supervisor_options(root, name, path)
        self.paths.append(name)
        raw = data.get("children") if isinstance(data, Mapping) else None
        nodes = self.children(raw, name, f"{path}.children")
        if root is None or nodes is None:
            return None
        return System(_Children(tuple(nodes), self.base), name=name, options=options)

    def supervisor_options(self, doc: _OptionsDoc, sup_id: str, path: str) -> dict[str, Any]:
        try:
            options = _options(doc)
            jido_trio.supervisor_spec(sup_id if _CHILD_ID.match(sup_id) else "x", [], **options)
        except (InvalidChildSpecError, InvalidStateError) as exc:
            self.jido_error(exc, path, _keys(_OptionsDoc))
            return {}
        return options

    def jido_error(self, exc: JidoError, path: str, keys: Sequence[str]) -> None:
        """A jido_trio validation error, at the path of the option it names."""
        message = _SPEC_PREFIX.sub("", str(exc).split("\n")[0])
        match = re.search(r"\b([a-z_]+)=", message)
        where = path
        if message.startswith("backoff."):  # Backoff(...) names its own fields
            where = f"{path}.backoff"
        elif match and match[1] in keys:
            where = f"{path}.{match[1]}"
        self.fail(message, where)

    def children(self, raw: object, parent: str, path: str) -> list[_Node] | None:
        """The child nodes of a supervisor (``parent`` is its tree path)."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            return None  # reported by the supervisor's structuring
        nodes: list[_Node] = []
        ok = True
        seen: dict[str, str] = {}
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            node = self.child(item, parent, where, seen)
            if node is None:
                ok = False
            else:
                nodes.append(node)
        return nodes if ok else None

    def child(self, item: object, parent: str, path: str, seen: dict[str, str]) -> _Node | None:
        if not isinstance(item, Mapping):
            self.fail(
                "expected a child: a mapping with agent: module:AgentDef, task: module:func or "
                f"supervisor: <id>, {_got(item)}",
                path,
            )
            return None
        kinds = [k for k in _CHILD_KEYS if k in item]
        if len(kinds) != 1:
            if kinds:
                what = f"has {' and '.join(kinds)}: keep one"
            else:
                keys = [str(k) for k in item]
                close = [
                    c for k in keys for c in difflib.get_close_matches(k, list(_CHILD_KEYS), n=1)
                ]
                what = "has none of agent:, task:, supervisor:" + (
                    f" (did you mean {close[0]!r}?)" if close else ""
                )
            self.fail(
                f"a child is exactly one of agent: module:AgentDef, task: module:func or "
                f"supervisor: <id>; this one {what}",
                path,
            )
            return None
        kind = kinds[0]
        doc = self.structure(item, _CHILD_KEYS[kind], path)
        if kind == "supervisor":
            return self.supervisor_child(doc, item, parent, path, seen)
        if doc is None:
            return None
        if kind == "agent":
            return self.agent_child(doc, parent, path, seen)
        return self.task_child(doc, parent, path, seen)

    def claim_id(self, child_id: str, parent: str, path: str, seen: dict[str, str]) -> bool:
        if not _CHILD_ID.match(child_id):
            self.fail(f"expected a child id without '/' or spaces, {_got(child_id)}", f"{path}.id")
            return False
        if child_id in seen:
            self.fail(
                f"duplicate child id {child_id!r} (also at {seen[child_id]}); ids are unique "
                "among a supervisor's children",
                path,
            )
            return False
        seen[child_id] = path
        self.paths.append(f"{parent}/{child_id}")
        return True

    def agent_child(
        self, doc: _AgentDoc, parent: str, path: str, seen: dict[str, str]
    ) -> _Node | None:
        definition = self.resolve(doc.agent, f"{path}.agent")
        if definition is None:
            return None
        if not isinstance(definition, AgentDef):
            self.fail(
                f"{doc.agent!r} is {_describe(definition)}; expected a jido_trio.AgentDef",
                f"{path}.agent",
            )
            return None
        child_id = doc.id if doc.id is not None else definition.name
        where_id = f"{path}.id" if doc.id is not None else f"{path}.agent"
        if not self.claim_id(child_id, parent, path, seen):
            return None
        self.hosts.append(f"{parent}/{child_id}")
        registered = child_id if doc.name is None else doc.name
        if isinstance(registered, str):
            if registered in self.reg_names:
                self.fail(
                    f"registry name {registered!r} is already taken by the agent at "
                    f"{self.reg_names[registered]}; names are unique in a run: set name: to "
                    "another name, or false",
                    f"{path}.name" if doc.name is not None else where_id,
                )
                return None
            self.reg_names[registered] = path
        options: dict[str, Any] = {
            "restart": doc.restart,
            "shutdown": doc.shutdown,
            "significant": doc.significant,
            "mailbox_size": doc.mailbox_size,
            "restart_from": doc.restart_from,
            "name": doc.name,
            "dead_letter_limit": doc.dead_letter_limit,
        }
        if doc.children is not None:
            options["children"] = _options(doc.children)
        ok = True
        if doc.state is not None:
            try:
                definition.new(child_id, doc.state)
            except InvalidStateError as exc:
                self.state_error(exc, f"{path}.state", doc.state, definition.state_type)
                ok = False
            except JidoError:  # not a mapping (nor a state)
                self.fail(
                    f"expected a mapping of the state's fields, {_got(doc.state)}", f"{path}.state"
                )
                ok = False
        store = cast("tuple[str, ...] | str | None", doc.store)
        node = _AgentNode(child_id, definition, doc.state, store, options)
        try:
            attrs.evolve(node, state=None).spec(None, probe=True)
        except InvalidChildSpecError as exc:
            self.jido_error(exc, path, _keys(_AgentDoc))
            return None
        return node if ok else None

    def state_error(
        self, exc: InvalidStateError, path: str, data: object, state_type: type[Any]
    ) -> None:
        """Re-report the state's ``field: problem @ $.field`` lines at the path
        of the field in this document, with the value found there."""
        if not exc.errors:
            self.fail(_SPEC_PREFIX.sub("", str(exc)), path)
            return
        for line in exc.errors:
            message, _, where = line.rpartition(" @ ")
            if not where.startswith("$"):
                self.fail(line, path)
                continue
            relative = where[1:]
            field = relative.lstrip(".")
            if field and message.startswith(f"{field}: "):
                message = message[len(field) + 2 :]
            elif message.startswith("state: "):
                message = message[len("state: ") :]
            if message == "unknown field" and relative:
                parent, key = _parent(path + relative) or path, _PATH_TAIL.search(relative)
                name = key[0].lstrip(".") if key else field
                fields = _keys(state_type) if parent == path else []
                hint = _did_you_mean(name, fields) or (
                    f"; {state_type.__name__} takes: {', '.join(fields)}" if fields else ""
                )
                self.fail(f"unknown key {name!r}{hint}", parent, key=name)
                continue
            found = _lookup(data, relative)
            if found is not _MISSING and message.startswith("expected ") and ", got" not in message:
                message = f"{message}, {_got(found)}"
            self.fail(message, path + relative)

    def task_child(
        self, doc: _TaskDoc, parent: str, path: str, seen: dict[str, str]
    ) -> _Node | None:
        start = self.resolve(doc.task, f"{path}.task")
        if start is None:
            return None
        options = {"restart": doc.restart, "shutdown": doc.shutdown, "significant": doc.significant}
        try:
            ChildSpec("probe", cast("Callable[..., Any]", start))
        except InvalidChildSpecError:
            self.fail(
                f"{doc.task!r} is {_describe(start)}; expected an async function (async def), "
                "called as start(*args) or start(*args, task_status=...)",
                f"{path}.task",
            )
            return None
        if not self.claim_id(doc.id, parent, path, seen):
            return None
        self.hosts.append(f"{parent}/{doc.id}")
        node = _TaskNode(doc.id, cast("Callable[..., Any]", start), tuple(doc.args), options)
        try:
            node.spec(None)
        except InvalidChildSpecError as exc:
            self.jido_error(exc, path, _keys(_TaskDoc))
            return None
        return node

    def supervisor_child(
        self,
        doc: _SupervisorDoc | None,
        item: Mapping[str, Any],
        parent: str,
        path: str,
        seen: dict[str, str],
    ) -> _Node | None:
        sup_id = doc.supervisor if doc is not None else item.get("supervisor")
        ok = doc is not None
        here = f"{parent}/{sup_id}" if isinstance(sup_id, str) else f"{parent}/?"
        if doc is not None:
            ok = self.claim_id(doc.supervisor, parent, path, seen)
        options: dict[str, Any] = {}
        if doc is not None and ok:
            options = self.supervisor_options(doc, doc.supervisor, path)
            options.update(restart=doc.restart, shutdown=doc.shutdown, significant=doc.significant)
            try:
                jido_trio.supervisor_spec(doc.supervisor, [], **options)
            except InvalidChildSpecError as exc:
                self.jido_error(exc, path, _keys(_SupervisorDoc))
                ok = False
        nodes = self.children(item.get("children"), here, f"{path}.children")
        if not ok or nodes is None or doc is None:
            return None
        return _SupervisorNode(doc.supervisor, tuple(nodes), options)

    # --------------------------------------------------------------- workload
    def workload(self, raw: object, path: str) -> list[Send]:
        if not isinstance(raw, list):
            return []  # null, or reported by the top-level structuring
        sends = []
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            doc: _SendDoc | None = self.structure(item, _SendDoc, where)
            if doc is None:
                continue
            if (doc.call is None) == (doc.cast is None):
                self.fail(
                    "a send has exactly one of call: <agent> (wait for the reply) or "
                    "cast: <agent> (fire and forget)"
                    + ("; this one has both" if doc.call is not None else ""),
                    where,
                )
                continue
            if doc.cast is not None and doc.timeout is not None:
                self.fail(
                    "timeout: is for calls; a cast does not wait for a reply", f"{where}.timeout"
                )
                continue
            to = doc.call if doc.call is not None else doc.cast
            assert to is not None
            fields: dict[str, Any] = {
                "to": to,
                "signal": doc.signal,
                "data": doc.data,
                "call": doc.call is not None,
                "at": doc.at,
                "every": doc.every,
                "rate": doc.rate,
                "count": doc.count,
                "until": doc.until,
            }
            if doc.timeout is not None:
                fields["timeout"] = doc.timeout
            try:
                sends.append(Send(**fields))
            except InvalidPlanError as exc:
                message = str(exc).removeprefix("Send: ").replace("Send.", "")
                match = re.match(r"^([a-z]+)=", message)
                self.fail(message, f"{where}.{match[1]}" if match else where)
        return sends

    # ----------------------------------------------------------------- faults
    def faults(self, raw: object, path: str, duration: float | None) -> FaultPlan | None:
        if not isinstance(raw, list):
            return FaultPlan()  # null, or reported by the top-level structuring
        items: list[Any] = []
        sugar: set[int] = set()
        for i, item in enumerate(raw):
            if isinstance(item, Mapping) and "random" in item and "kind" not in item:
                body = item["random"]
                extra = [str(k) for k in item if k != "random"]
                if extra:
                    self.fail(
                        f"a random: item holds only the generator; move {', '.join(extra)} "
                        "under random:",
                        f"{path}[{i}]",
                        key=extra[0],
                    )
                    items.append({"kind": "random", "rate": 1.0, "kinds": ["kill"]})
                    continue
                if not isinstance(body, Mapping):
                    self.fail(
                        "expected a mapping (rate, kinds, targets, at, until, params), "
                        f"{_got(body)}",
                        f"{path}[{i}].random",
                    )
                    items.append({"kind": "random", "rate": 1.0, "kinds": ["kill"]})
                    continue
                if "kind" in body:
                    self.fail(
                        "unknown key 'kind': a random: generator draws its faults from kinds:",
                        f"{path}[{i}].random",
                        key="kind",
                    )
                items.append({**body, "kind": "random"})
                sugar.add(i)
            else:
                items.append(item)
        try:
            plan = FaultPlan.from_dict(items, source=path)
        except InvalidPlanError as exc:
            for line in exc.errors:
                message, _, where = line.rpartition(" @ ")
                if not message:
                    message, where = line, path
                for i in sugar:
                    prefix = f"{path}[{i}]"
                    if where == prefix or where.startswith((prefix + ".", prefix + "[")):
                        where = f"{prefix}.random{where[len(prefix) :]}"
                message, where = _field_of(message, where)
                key = re.match(r"unknown key '([^']+)'", message)
                self.fail(message, where, key=key[1] if key else None)
            return None
        ok = True
        for i, fault in enumerate(plan.faults):
            where = f"{path}[{i}]" + (".random" if i in sugar else "")
            if isinstance(fault, RandomFaults):
                for j, glob in enumerate(fault.targets):
                    ok &= self.target(glob, f"{where}.targets[{j}]")
                for kind, params in fault.params.items():
                    mutator = params.get("mutator")
                    if isinstance(mutator, str):
                        ok &= self.callable(mutator, f"{where}.params.{kind}.mutator")
                continue
            ok &= self.target(fault.target, f"{where}.target")
            source = getattr(fault, "source", None)
            if source is not None:
                ok &= self.target(source, f"{where}.source")
            mutator = getattr(fault, "mutator", None)
            if mutator is not None:
                ok &= self.callable(mutator, f"{where}.mutator")
        for i, field, message in plan_problems(plan, duration) if duration is not None else ():
            where = f"{path}[{i}]" + (".random" if i in sugar else "")
            self.fail(re.sub(r"^fault #\d+ \(\w+\) ", "the fault ", message), f"{where}.{field}")
            ok = False
        return plan if ok else None

    def target(self, glob: str, path: str) -> bool:
        """Whether a tree-path glob can match something in this system: a path
        with no wildcard must be a node (or lie under an agent or a task, whose
        children appear at run time); a glob must start at the root."""
        if not self.system_ok:
            return True  # the system has problems of its own: no guesses from half a tree
        root = self.paths[0]
        first = glob.split("/")[0]
        hint = _did_you_mean(glob, self.paths)
        if _WILDCARD.search(first) is None and first != root:
            self.fail(
                f"{glob!r} is not a path of this system{hint}: paths start at the root "
                f"({root!r}), e.g. {self.paths[-1]!r}",
                path,
            )
            return False
        if _WILDCARD.search(glob) is None:
            if glob in self.paths or any(glob.startswith(h + "/") for h in self.hosts):
                return True
            self.fail(f"no node of the system has the path {glob!r}{hint}", path)
            return False
        return True

    def callable(self, ref: str, path: str) -> bool:
        found = self.resolve(ref, path)
        if found is None:
            return False
        if not callable(found):
            self.fail(f"{ref!r} is {_describe(found)}; expected a function", path)
            return False
        return True

    # ----------------------------------------------------------------- checks
    def checks(
        self, raw: object, path: str
    ) -> tuple[list[UserCheck], list[tuple[str, MetricsPredicate]], frozenset[str]] | None:
        if raw is None or not isinstance(raw, Mapping):
            return [], [], frozenset()  # null, or reported by the top-level structuring
        doc: _ChecksDoc | None = self.structure(raw, _ChecksDoc, path)
        if doc is None:
            return None
        ok = True
        disable = frozenset(doc.disable)
        for i, name in enumerate(doc.disable):
            if name not in BUILTIN_CHECKS:
                self.fail(
                    f"unknown built-in check {name!r}{_did_you_mean(name, list(BUILTIN_CHECKS))}; "
                    f"the built-in checks are {', '.join(BUILTIN_CHECKS)}",
                    f"{path}.disable[{i}]",
                )
                ok = False
        checks: list[UserCheck] = []
        metric_checks: list[tuple[str, MetricsPredicate]] = []
        names: dict[str, str] = {}

        def claim(name: str, where: str) -> bool:
            if name in names:
                self.fail(
                    f"two checks are named {name!r} (also at {names[name]}); check names are "
                    "unique: give one another name:",
                    where,
                )
                return False
            names[name] = where
            return True

        for kind in ("always", "eventually", "sometimes"):
            for i, item in enumerate(getattr(doc, kind)):
                where = f"{path}.{kind}[{i}]"
                if isinstance(item, str):
                    ok &= self.builtin(item, kind, disable, where)
                    continue
                check = self.user_check(kind, item, where)
                if check is None or not claim(check.name, where):
                    ok = False
                    continue
                checks.append(check)
        for i, item in enumerate(doc.bounds):
            where = f"{path}.bounds[{i}]"
            bound = self.bound(item, where)
            if bound is None:
                ok = False
                continue
            label = bound.label if isinstance(bound, Bound) else bound[0]
            if not claim(label, where):
                ok = False
                continue
            if isinstance(bound, Bound):
                checks.append(bound)
            else:
                metric_checks.append(bound)
        return (checks, metric_checks, disable) if ok else None

    def builtin(self, name: str, kind: str, disable: frozenset[str], path: str) -> bool:
        if name not in BUILTIN_CHECKS:
            mine = [n for n, k in BUILTIN_CHECKS.items() if k == kind]
            self.fail(
                f"unknown built-in check {name!r}{_did_you_mean(name, list(BUILTIN_CHECKS))}; "
                f"the built-in {kind} checks are {', '.join(mine)} (a check of your own is a "
                f"mapping: {'invariant' if kind == 'always' else 'predicate'}: module:func)",
                path,
            )
            return False
        if BUILTIN_CHECKS[name] != kind:
            self.fail(
                f"{name!r} is a built-in {BUILTIN_CHECKS[name]} check; list it under "
                f"{BUILTIN_CHECKS[name]} (built-in checks are on anyway)",
                path,
            )
            return False
        if name in disable:
            self.fail(f"{name!r} is listed here and under disable; keep one", path)
            return False
        return True

    def user_check(
        self, kind: str, item: object, path: str
    ) -> Invariant | Eventually | Sometimes | None:
        if kind == "always":
            inv: _InvariantDoc | None = self.structure(item, _InvariantDoc, path)
            if inv is None:
                return None
            predicate = self.predicate(inv.invariant, f"{path}.invariant", 2, "(path, state)")
            if predicate is None:
                return None
            name = inv.name if inv.name is not None else inv.invariant
            if not self.target(inv.target, f"{path}.target"):
                return None
            return self.make(Invariant, path, name, predicate, target=inv.target)
        doc: _PredicateDoc | None = self.structure(item, _PredicateDoc, path)
        if doc is None:
            return None
        predicate = self.predicate(doc.predicate, f"{path}.predicate", 1, "(view)")
        if predicate is None:
            return None
        name = doc.name if doc.name is not None else doc.predicate
        cls = Eventually if kind == "eventually" else Sometimes
        return self.make(cls, path, name, predicate)

    def make(
        self, cls: Any, path: str, name: str, *args: Any, **kwargs: Any
    ) -> Invariant | Eventually | Sometimes | None:
        try:
            check: Invariant | Eventually | Sometimes = cls(name, *args, **kwargs)
        except InvalidPlanError as exc:
            message, where = _field_of(str(exc), path)
            self.fail(message, where)
            return None
        return check

    def predicate(self, ref: str, path: str, arity: int, call: str) -> Callable[..., Any] | None:
        found = self.resolve(ref, path)
        if found is None:
            return None
        if not callable(found):
            self.fail(f"{ref!r} is {_describe(found)}; expected a function predicate{call}", path)
            return None
        try:
            inspect.signature(found).bind(*([None] * arity))
        except TypeError:
            self.fail(f"{ref!r} cannot be called as predicate{call}", path)
            return None
        except ValueError:  # no signature to read (a builtin): trust it
            pass
        return found

    def bound(self, item: object, path: str) -> Bound | tuple[str, MetricsPredicate] | None:
        if isinstance(item, Mapping) and "predicate" in item and "metric" not in item:
            doc: _PredicateDoc | None = self.structure(item, _PredicateDoc, path)
            if doc is None:
                return None
            predicate = self.predicate(doc.predicate, f"{path}.predicate", 1, "(metrics)")
            if predicate is None:
                return None
            return (doc.name if doc.name is not None else doc.predicate, predicate)
        if isinstance(item, Mapping) and "metric" not in item:
            self.fail(
                "a bound is metric: <name> with max: and/or min:, or predicate: module:func",
                path,
            )
            return None
        bound: _BoundDoc | None = self.structure(item, _BoundDoc, path)
        if bound is None:
            return None
        if bound.max is None and bound.min is None:
            self.fail(f"the bound on {bound.metric!r} needs max:, min: or both", path)
            return None
        problem = _metric_problem(bound.metric)
        if problem is not None:
            self.fail(problem, f"{path}.metric")
            return None
        if bound.max is not None and bound.min is not None and bound.min > bound.max:
            self.fail(
                f"min: {bound.min:g} is more than max: {bound.max:g}: no value of "
                f"{bound.metric!r} is in between, so the bound could never hold; swap them",
                f"{path}.min",
            )
            return None
        try:
            return Bound(bound.metric, max=bound.max, min=bound.min, name=bound.name)
        except InvalidPlanError as exc:
            message, where = _field_of(str(exc), path)
            self.fail(message, where)
            return None


_MISSING: Final = object()
_CLASS_FIELD: Final = re.compile(r"^[A-Z]\w*\.([a-z_]+)(?=[:=])(: )?")


def _field_of(message: str, path: str) -> tuple[str, str]:
    """``("Kill.at=-1 is not valid", "$.faults[0]")`` ->
    ``("at=-1 is not valid", "$.faults[0].at")``: an engine message that names a
    field of the class it checks, moved to that field's path."""
    match = _CLASS_FIELD.match(message)
    if match is None:
        return message, path
    field = match[1]
    rest = message[match.end() :] if match[2] else message[match.start(1) :]
    return rest, path if path.endswith(f".{field}") else f"{path}.{field}"


def _lookup(data: object, relative: str) -> object:
    """The value at ``relative`` (``.a[0].b``) inside ``data``, or ``_MISSING``."""
    for match in re.finditer(r"\.([^.\[]+)|\[(\d+)\]", relative):
        if match[1] is not None and isinstance(data, Mapping) and match[1] in data:
            data = data[match[1]]
        elif match[2] is not None and isinstance(data, list) and int(match[2]) < len(data):
            data = data[int(match[2])]
        else:
            return _MISSING
    return data


def _metric_problem(metric: str) -> str | None:
    if metric in METRICS:
        return None
    for prefix in METRIC_PREFIXES:
        if metric.startswith(prefix) and len(metric) > len(prefix):
            if prefix == "calls." and metric[len(prefix) :] not in _CALL_OUTCOMES:
                return (
                    f"unknown metric {metric!r}; calls.<outcome> takes one of "
                    f"{', '.join(_CALL_OUTCOMES)}"
                )
            return None
    hint = _did_you_mean(metric, list(METRICS))
    if hint:
        return f"unknown metric {metric!r}{hint}"
    choices = [*METRICS, *(p + "<...>" for p in METRIC_PREFIXES)]
    return f"unknown metric {metric!r}; the metrics are {', '.join(choices)}"


# -- the scenario ------------------------------------------------------------------

#: A bound given as ``predicate: module:func``: called with the run's metrics.
MetricsPredicate = Callable[[Mapping[str, float]], "bool | str"]


@attrs.frozen
class Scenario:
    """A loaded scenario file: everything :func:`chaos.run` needs, checked.

    Build one with :func:`load_scenario` or :func:`loads_scenario`. Its
    ``system`` builds fresh agents (and checkpoint stores) for every run.

    Attributes:
        path: the file it was loaded from (``None`` for text).
        name, description, seed, duration, quiet_period, clock, swarm: as in
            the file (durations in seconds).
        system: the :class:`System` (root supervisor and children).
        workload: the sends.
        plan: the fault plan as written (it may hold ``random:`` generators).
        checks: the user checks (invariants, eventually, sometimes, bounds on
            metrics).
        disable: the built-in checks turned off.
        document: the parsed YAML, as plain data.
        metric_checks: bounds given as ``predicate: module:func``, as
            ``(name, predicate)``: :meth:`run` judges them on the report's
            metrics.
    """

    path: Path | None
    name: str
    description: str = attrs.field(repr=False)
    seed: int
    duration: float
    quiet_period: float
    clock: Clock
    swarm: bool
    system: System = attrs.field(repr=False)
    workload: tuple[Send, ...] = attrs.field(repr=False)
    plan: FaultPlan = attrs.field(repr=False)
    checks: tuple[UserCheck, ...] = attrs.field(repr=False)
    disable: frozenset[str] = attrs.field(repr=False)
    document: Mapping[str, Any] = attrs.field(repr=False)
    metric_checks: tuple[tuple[str, MetricsPredicate], ...] = attrs.field(default=(), repr=False)

    def _run_options(self, seed: int | None, plan: FaultPlan | None) -> dict[str, Any]:
        return {
            "seed": self.seed if seed is None else seed,
            "duration": self.duration,
            "quiet_period": self.quiet_period,
            "workload": self.workload,
            "checks": self.checks,
            "disable": self.disable,
            # a given plan is the concrete plan to run: swarm picked it already
            "swarm": self.swarm if plan is None else False,
            "clock": self.clock,
        }

    def run(
        self,
        seed: int | None = None,
        *,
        plan: FaultPlan | None = None,
        keep_trace: int | None = 200,
    ) -> RunReport:
        """Run the scenario (:func:`chaos.run`, its own ``trio.run``) and return the report.

        - ``seed`` — the root seed. Defaults to ``None``: the file's ``seed``.
        - ``plan`` — a plan to run instead of the file's, as is: a replay or a
          shrink step passes the concrete plan a report recorded; swarm mode is
          off for it (it already chose). Defaults to ``None``: the file's plan.
        - ``keep_trace`` — trace lines kept in the report (``None``: all).
          Defaults to ``200``.

        Bounds given as ``predicate:`` are judged on the report's metrics and
        appended to its checks. Raises :class:`ChaosError` if the system
        cannot start.
        """
        report = _run(
            self.system,
            self.plan if plan is None else plan,
            keep_trace=keep_trace,
            **self._run_options(seed, plan),
        )
        return self._judge(report)

    def check_determinism(
        self, seed: int | None = None, *, plan: FaultPlan | None = None
    ) -> RunReport:
        """:meth:`run` twice (:func:`chaos.check_determinism`): returns the
        report if both traces match, else raises :class:`NondeterminismError`."""
        report = _check_determinism(
            self.system, self.plan if plan is None else plan, **self._run_options(seed, plan)
        )
        return self._judge(report)

    def _judge(self, report: RunReport) -> RunReport:
        if not self.metric_checks:
            return report
        results = []
        for name, predicate in self.metric_checks:
            try:
                verdict = predicate(report.metrics)
            except Exception as exc:  # noqa: BLE001 - a predicate that raises is a failed check
                verdict = f"the predicate raised {type(exc).__name__}: {exc}"
            if verdict is True:
                results.append(CheckResult(name, "bound", "pass"))
            else:
                detail = verdict if isinstance(verdict, str) else f"returned {verdict!r}"
                results.append(CheckResult(name, "bound", "fail", detail))
        return attrs.evolve(report, checks=(*report.checks, *results))

    def with_plan(self, plan: FaultPlan, *, seed: int | None = None) -> Scenario:
        """This scenario with ``plan`` as its fault plan (and ``seed``, if given).

        Its :attr:`document` follows, so :meth:`to_yaml` writes it. A concrete
        plan (no generator) turns swarm mode off: it is what a swarm run chose.
        """
        if not isinstance(plan, FaultPlan):
            raise InvalidPlanError(
                f"plan={plan!r:.60} is not valid; expected a chaos.FaultPlan "
                "(chaos.FaultPlan.from_dict reads a plan written as data)"
            )
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise InvalidPlanError(f"seed={seed!r:.60} is not valid; expected an int >= 0")
        for _, _, message in plan_problems(plan, self.duration):
            raise InvalidPlanError(message)
        document = copy.deepcopy(dict(self.document))
        new_seed = self.seed if seed is None else seed
        swarm = self.swarm and not plan.concrete
        document["seed"] = new_seed
        if "swarm" in document or swarm != self.swarm:
            document["swarm"] = swarm
        document["faults"] = plan.to_dict()["faults"]
        return attrs.evolve(self, plan=plan, seed=new_seed, swarm=swarm, document=document)

    def to_yaml(self, *, directory: str | os.PathLike[str] | None = None, comment: str = "") -> str:
        """The scenario as a YAML file that loads back to it: :attr:`document`
        (with the plan and seed of :meth:`with_plan`), its keys in the format's
        order. Comments of the original file are not kept.

        - ``directory`` — where the file will be written, if not next to this
          scenario: ``pythonpath`` and SQLite store paths are rewritten relative
          to it, and this scenario's directory is added to ``pythonpath`` so its
          modules still resolve. Defaults to ``None`` (next to this one; a
          scenario loaded from text has nothing to rewrite).
        - ``comment`` — text written first as ``#`` comment lines. Defaults to none.
        """
        document = copy.deepcopy(dict(self.document))
        if directory is not None and self.path is not None:
            _relocate(document, self.path.parent, Path(directory))
        document.setdefault("version", FORMAT_VERSION)
        order = [field.name for field in attrs.fields(_TopDoc)]
        ordered = {k: document[k] for k in order if k in document}
        ordered.update((k, v) for k, v in document.items() if k not in ordered)
        ordered = _flow_style(ordered)
        text = yaml.dump(
            ordered,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=88,
            default_flow_style=False,
        )
        head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
        return head + text


class _Dumper(yaml.SafeDumper):
    """``yaml.safe_dump``, with list items indented under their key (as the
    bundled scenarios are written)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Multi-line strings (a ``description: >``) as YAML blocks, not quoted."""
    tag = "tag:yaml.org,2002:str"
    if "\n" in data.rstrip("\n"):
        return dumper.represent_scalar(tag, data, style="|")
    if data.endswith("\n"):
        return dumper.represent_scalar(tag, data, style=">")
    return dumper.represent_scalar(tag, data)


class _FlowList(list):  # type: ignore[type-arg]
    """A list of scalars, written on one line: ``[kill, crash]``."""


class _FlowMap(dict):  # type: ignore[type-arg]
    """A payload of scalars (``data:``, ``state:``), written on one line."""


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _flow_style(node: Any, key: object = None) -> Any:
    """``node`` with its lists of scalars and its scalar payloads marked for
    flow style (the way the bundled scenarios are written)."""
    if isinstance(node, list):
        if node and all(_scalar(item) for item in node):
            return _FlowList(node)
        return [_flow_style(item) for item in node]
    if isinstance(node, dict):
        if key in ("data", "state", "params", "backoff") and all(map(_scalar, node.values())):
            return _FlowMap(node)
        return {k: _flow_style(v, k) for k, v in node.items()}
    return node


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowMap, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def _relocate(document: dict[str, Any], source: Path, target: Path) -> None:
    """Rewrite the directory-relative values of ``document`` (written for
    ``source``) for a file in ``target``."""
    source = source.resolve()
    target = target.resolve()
    if source == target:
        return

    def moved(value: str) -> str:
        return Path(os.path.relpath(source / value, target)).as_posix()

    entries = [moved(".")]
    for entry in document.get("pythonpath") or ():
        if isinstance(entry, str) and moved(entry) not in entries:
            entries.append(moved(entry))
    document["pythonpath"] = entries

    def walk(children: object) -> None:
        if not isinstance(children, list):
            return
        for child in children:
            if not isinstance(child, dict):
                continue
            store = child.get("store")
            sqlite = store.get("sqlite") if isinstance(store, dict) else None
            if isinstance(sqlite, str) and sqlite != ":memory:":
                child["store"] = {"sqlite": moved(sqlite)}
            walk(child.get("children"))

    system = document.get("system")
    if isinstance(system, dict):
        walk(system.get("children"))


def loads_scenario(text: str, *, path: str | os.PathLike[str] | None = None) -> Scenario:
    """A :class:`Scenario` from YAML text.

    ``path`` — the file the text is from (named in errors; ``module:attr`` and
    store paths resolve next to it). Defaults to ``None``: ``"<string>"``, and
    ``module:attr`` resolves on ``sys.path`` only.

    Raises :class:`ScenarioError` listing every problem of the document.
    """
    where = Path(path) if path is not None else None
    file = os.fspath(path) if path is not None else "<string>"
    if not isinstance(text, str):
        raise ScenarioError(file, [f"expected the text of a YAML file, {_got(text)}"])
    data, marks, problems = _parse(text, file)
    builder = _Builder(where.resolve() if where is not None else None, marks)
    builder.problems.extend(problems)
    scenario = builder.build(data)
    if builder.problems or scenario is None:
        raise ScenarioError(file, _render(builder.problems))
    if where is not None:
        scenario = attrs.evolve(scenario, path=where)
    return scenario


def _render(problems: Sequence[_Problem]) -> list[str]:
    order = sorted(
        range(len(problems)),
        key=lambda i: (problems[i].line is None, problems[i].line or 0, i),
    )
    out: list[str] = []
    for i in order:
        line = problems[i].render()
        if line not in out:
            out.append(line)
    return out


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """A :class:`Scenario` from a file (UTF-8 YAML).

    Raises :class:`ScenarioError` if the file cannot be read or is not a valid
    scenario: every problem of the document, with its line and ``$.path``.
    """
    if not isinstance(path, str | os.PathLike) or not isinstance(os.fspath(path), str):
        raise ScenarioError(
            repr(path),
            [f"expected a file path (a str or os.PathLike), got {type(path).__name__} {path!r}"],
            heading="not a file path",
        )
    file = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(
            file, [exc.strerror or str(exc)], heading="cannot read the file"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            file,
            [
                f"line {line}: byte {raw[exc.start]:#04x} (offset {exc.start}) is not UTF-8 "
                "text; a scenario is a YAML text file"
            ],
        ) from None
    return loads_scenario(text, path=path)


# -- the JSON Schema ---------------------------------------------------------------

_SCHEMA_ID: Final = "https://jido-trio.example/schemas/chaos-scenario-1.json"


_DURATION_PATTERN: Final = r"^\s*(\d+(\.\d+)?|\.\d+)\s*(ms|s|m|h)\s*$"


def _duration_schema(*, positive: bool = False) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number"}
    number["exclusiveMinimum" if positive else "minimum"] = 0
    return {
        "anyOf": [number, {"type": "string", "pattern": _DURATION_PATTERN}],
        "description": "seconds"
        + (" (> 0)" if positive else "")
        + ", or a string with a unit: '250ms', '30s', '5m', '1h'",
    }


def _type_schema(tp: Any) -> dict[str, Any]:
    """The schema of an attrs field type of the format or of a fault class."""
    if tp is Seconds:
        return {"$ref": "#/$defs/duration"}
    if tp is _Positive:
        return {"$ref": "#/$defs/positive_duration"}
    if tp is _Ref:
        return {"$ref": "#/$defs/ref"}
    if tp is _Natural:
        return {"type": "integer", "minimum": 0}
    if tp is _Version:
        return {"const": FORMAT_VERSION}
    if tp is _ScenarioName:
        return {"type": "string", "pattern": _NAME.pattern}
    if tp is _Items:
        return {"type": ["array", "null"]}
    if tp is _Section:
        return {"type": "object"}
    if tp is Any:
        return {}
    origin = get_origin(tp)
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    args = get_args(tp)
    if args and type(None) in args:
        others = [a for a in args if a is not type(None)]
        inner = (
            _type_schema(others[0])
            if len(others) == 1
            else {"anyOf": [_type_schema(a) for a in others]}
        )
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0])}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if attrs.has(tp):
        return _class_schema(tp)
    return {}


def _class_schema(
    cl: type, *, skip: Sequence[str] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    attrs.resolve_types(cl)
    hints = {field.name: field.type for field in attrs.fields(cl)}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cl):
        if field.name in skip:
            continue
        properties[field.name] = _type_schema(hints[field.name])
        if field.default is attrs.NOTHING:
            required.append(field.name)
    properties.update(extra or {})
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out


def _fault_schema() -> dict[str, Any]:
    glob = {"type": "string", "minLength": 1}
    branches = []
    for kind, cls in FAULT_CLASSES.items():
        body = _class_schema(cls)
        props = body["properties"]
        for name in ("target", "source"):
            if name in props and props[name] == {"type": "string"}:
                props[name] = glob
        if "pick" in props:
            props["pick"] = {
                "anyOf": [
                    {"type": "string", "pattern": _PICK.pattern},
                    {"type": "integer", "minimum": 1},
                ]
            }
        if "probability" in props:
            props["probability"] = {"type": "number", "minimum": 0, "maximum": 1}
        for name in ("nth", "count", "versions"):
            if name in props:
                at_least_one = {"type": "integer", "minimum": 1}
                nullable = "anyOf" in props[name]
                props[name] = (
                    {"anyOf": [at_least_one, {"type": "null"}]} if nullable else at_least_one
                )
        body["properties"] = {"kind": {"const": kind}, **body["properties"]}
        body["required"] = ["kind", *body.get("required", [])]
        branches.append({"if": {"properties": {"kind": {"const": kind}}}, "then": body})
    kind_fault = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": [*FAULT_KINDS, "random"]}},
        "allOf": [
            *branches,
            {
                "if": {"properties": {"kind": {"const": "random"}}},
                "then": {
                    **_random_schema(),
                    "properties": {"kind": {"const": "random"}, **_random_schema()["properties"]},
                },
            },
        ],
    }
    sugar = {
        "type": "object",
        "required": ["random"],
        "additionalProperties": False,
        "properties": {"random": _random_schema()},
    }
    return {"oneOf": [kind_fault, sugar]}


def _random_schema() -> dict[str, Any]:
    kinds = {"enum": list(FAULT_KINDS)}
    return {
        "type": "object",
        "required": ["rate", "kinds"],
        "additionalProperties": False,
        "properties": {
            "rate": {"type": "number", "exclusiveMinimum": 0},
            "kinds": {"anyOf": [kinds, {"type": "array", "items": kinds, "minItems": 1}]},
            "targets": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "at": {"$ref": "#/$defs/duration"},
            "until": {"anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}]},
            "params": {
                "type": "object",
                "propertyNames": kinds,
                "additionalProperties": {"type": "object"},
            },
        },
    }


_TOP_DESCRIPTIONS: Final = {
    "version": "the format's version: 1",
    "name": "the scenario's name (journals, JUnit suites)",
    "description": "what the scenario shows",
    "seed": "the root seed (the CLI's --seed/--seeds override it). Default 0",
    "duration": "the fault window, in virtual seconds. Default 30s",
    "quiet_period": "after the heal, before liveness is judged. Default 10s",
    "clock": "virtual (default: deterministic) or real (systems doing real I/O)",
    "swarm": "each seed keeps a random subset of fault kinds and targets. Default false",
    "pythonpath": "directories (relative to this file) searched for module:attr after its own",
    "system": "the root supervisor: options and children",
    "workload": "signals to call or cast, at times, every interval or at a rate",
    "faults": "faults (kind: ...) and random: generators",
    "checks": "built-ins to disable; always, eventually, sometimes checks; bounds",
}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the scenario format, for editors and
    CI linters. Loading checks more than a schema can say (what ``module:attr``
    names, child ids, registry names, fault targets, check names):
    :func:`load_scenario` is the authority."""
    listed: dict[str, Any] = {"type": ["array", "null"]}
    builtin = {
        kind: {"enum": [n for n, k in BUILTIN_CHECKS.items() if k == kind]}
        for kind in ("always", "eventually", "sometimes")
    }
    child_list = {**listed, "items": {"$ref": "#/$defs/child"}}
    predicate = _class_schema(_PredicateDoc)
    options = _class_schema(_OptionsDoc)
    agent = _class_schema(_AgentDoc)
    agent["properties"].update(
        store={
            "anyOf": [
                {"const": "memory"},
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["sqlite"],
                    "additionalProperties": False,
                    "properties": {"sqlite": {"type": "string", "minLength": 1}},
                },
            ]
        },
        name={"anyOf": [{"type": "string", "minLength": 1}, {"const": False}, {"type": "null"}]},
        children={"anyOf": [options, {"type": "null"}]},
    )
    task = _class_schema(_TaskDoc)
    supervisor = _class_schema(_SupervisorDoc)
    supervisor["properties"]["children"] = child_list
    root = _class_schema(_RootDoc)
    root["properties"]["children"] = child_list
    send = _class_schema(_SendDoc)
    send["oneOf"] = [{"required": ["call"]}, {"required": ["cast"]}]
    send["not"] = {"required": ["every", "rate"]}
    bound = _class_schema(_BoundDoc)
    bound["anyOf"] = [{"required": ["max"]}, {"required": ["min"]}]
    checks = _class_schema(_ChecksDoc)
    checks["type"] = ["object", "null"]
    checks["properties"] = {
        "disable": {**listed, "items": {"enum": list(BUILTIN_CHECKS)}},
        "always": {**listed, "items": {"anyOf": [builtin["always"], _class_schema(_InvariantDoc)]}},
        "eventually": {**listed, "items": {"anyOf": [builtin["eventually"], predicate]}},
        "sometimes": {**listed, "items": {"anyOf": [builtin["sometimes"], predicate]}},
        "bounds": {**listed, "items": {"oneOf": [bound, predicate]}},
    }
    top = _class_schema(_TopDoc)
    top["properties"].update(
        system={"$ref": "#/$defs/system"},
        workload={**listed, "items": {"$ref": "#/$defs/send"}},
        faults={**listed, "items": {"$ref": "#/$defs/fault"}},
        checks=checks,
    )
    for key, text in _TOP_DESCRIPTIONS.items():
        top["properties"][key] = {**top["properties"][key], "description": text}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _SCHEMA_ID,
        "title": "chaos scenario",
        "description": "A jido_trio chaos scenario (python -m chaos run FILE): docs/scenarios.md",
        **top,
        "$defs": {
            "duration": _duration_schema(),
            "positive_duration": _duration_schema(positive=True),
            "ref": {
                "type": "string",
                "pattern": _MODULE_ATTR.pattern,
                "description": "module:attr, resolved next to the scenario file first",
            },
            "system": root,
            "child": {"oneOf": [agent, task, supervisor]},
            "send": send,
            "fault": _fault_schema(),
        },
    }


# -- a starter scenario --------------------------------------------------------------


def new_scenario(
    system: str | None = None, *, directory: str | os.PathLike[str] | None = None
) -> str:
    """The text of a commented starter scenario that validates and runs as written.

    - ``system`` — ``"module:attr"`` naming a :class:`jido_trio.AgentDef`, or
      ``"module"`` (or ``"module:attr"`` naming a module) whose AgentDefs are
      all used: each becomes an agent, its actions and routes listed in
      comments, and the workload casts one of each routed signal. Defaults to
      ``None``: a placeholder task (``trio:sleep_forever``) to replace.
    - ``directory`` — where the file will live: ``system`` resolves there
      first, as it will when the file is loaded. Defaults to ``None``
      (``sys.path`` only).

    Raises :class:`ScenarioError` if ``system`` cannot be resolved or holds no
    AgentDef.
    """
    if system is None:
        head = _STARTER_HEAD.format(
            file="chaos_starter.yaml",
            name="starter",
            description="A placeholder task under kills: replace it with your system.",
        )
        return head + _STARTER_PLACEHOLDER + _STARTER_TAIL.format(target="root/idle")
    defs = _agent_defs(system, directory)
    return _starter_for(system, defs)


def _agent_defs(
    system: str, directory: str | os.PathLike[str] | None
) -> list[tuple[str, AgentDef[Any]]]:
    resolver = _Resolver([Path(directory)] if directory is not None else [])
    module_name, _, attr = system.partition(":")
    if not re.match(r"^[A-Za-z_][\w.]*$", module_name) or (attr and not _MODULE_ATTR.match(system)):
        raise ScenarioError(
            "--system",
            [f"expected 'module' or 'module:attr', got {system!r}"],
            heading="cannot start a scenario",
        )
    try:
        found = resolver.resolve(system) if attr else resolver._import(module_name)
    except _Fail as exc:
        raise ScenarioError("--system", [str(exc)], heading="cannot start a scenario") from None
    if isinstance(found, AgentDef):
        return [(system, found)]
    if inspect.ismodule(found):
        defs: list[tuple[str, AgentDef[Any]]] = []
        seen: set[int] = set()
        for name, value in vars(found).items():
            if isinstance(value, AgentDef) and not name.startswith("_") and id(value) not in seen:
                seen.add(id(value))
                defs.append((f"{found.__name__}:{name}", value))
        if defs:
            return defs
        raise ScenarioError(
            "--system",
            [f"the module {found.__name__!r} defines no jido_trio.AgentDef at module level"],
            heading="cannot start a scenario",
        )
    raise ScenarioError(
        "--system",
        [f"{system!r} is {_describe(found)}; expected a jido_trio.AgentDef or a module of them"],
        heading="cannot start a scenario",
    )


def _sample(tp: Any, depth: int = 0) -> Any:
    """A plain value of type ``tp`` for a starter workload."""
    if depth > 3:
        return None
    origin = get_origin(tp)
    args = get_args(tp)
    if tp is bool:
        return False
    if tp is int:
        return 1
    if tp is float:
        return 1.0
    if tp is str:
        return "example"
    if origin is Literal:
        return args[0]
    if args and type(None) in args:
        return None
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        return []
    if origin is dict or tp is dict:
        return {}
    if attrs.has(tp):
        return _sample_data(tp, depth + 1)
    return None


def _sample_data(cl: type, depth: int = 0) -> dict[str, Any]:
    try:
        hints = get_type_hints(cl)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: no sample for it
        hints = {}
    out: dict[str, Any] = {}
    for field in attrs.fields(cl):
        if field.default is attrs.NOTHING and field.init:
            out[field.name] = _sample(hints.get(field.name, Any), depth)
    return out


def _params_line(params: type) -> str:
    if not attrs.has(params) or not attrs.fields(params):
        return "no params"
    try:
        hints = get_type_hints(params)
    except Exception:  # noqa: BLE001
        hints = {}
    parts = []
    for field in attrs.fields(params):
        tp = hints.get(field.name, field.type)
        name = getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
        default = "" if field.default is attrs.NOTHING else f" = {field.default!r}"
        parts.append(f"{field.name}: {name}{default}")
    return ", ".join(parts)


_STARTER_HEAD = """\
# A chaos scenario: run it with `python -m chaos run {file}`.
# The format is documented in docs/scenarios.md; `python -m chaos schema` prints
# its JSON Schema for your editor.
version: 1
name: {name}
description: >
  {description}
seed: 0               # the root seed: the same seed replays the same run
duration: 30s         # the fault window (virtual time): "250ms", "30s", "5m", "1h"
quiet_period: 10s     # then no faults: liveness is judged at the end of it

system:               # the root supervisor (its name starts every tree path)
  name: root
  strategy: one_for_one
  max_restarts: 3
  max_seconds: 5s
  children:
"""

_STARTER_PLACEHOLDER = """\
    # A placeholder: replace it with your agents, e.g.
    #   - agent: my_agents:TRACKER   # module:attr of a jido_trio.AgentDef, resolved
    #     id: tracker                #   next to this file first, then on sys.path
    #     state: {level: 50}
    - task: trio:sleep_forever
      id: idle

workload:                      # none yet; a send calls or casts a signal to an agent:
  # - call: tracker            #   its registry name or tree path
  #   signal: demand.boost
  #   data: {amount: 5}
  #   every: 1s                #   or at:, rate:, count:, until:
"""

_STARTER_TAIL = """\

faults:                        # kinds: kill, restart_storm, pause, partition, crash, hang,
  - kind: kill                 #   delay, drop, duplicate, reorder, corrupt_message,
    target: {target}
    at: 5s                     #   corrupt_state, fail_start, store_*, stale_load, corrupt_load
  # - random:                  # a generator: faults at random times, from the seed
  #     rate: 0.2              #   per second
  #     kinds: [kill, crash, delay]
  #     targets: ["root/**"]

checks:                        # the built-in checks are all on; see docs/scenarios.md
  # disable: [fifo_per_link]
  # always:
  #   - invariant: my_checks:level_in_range     # predicate(path, state) -> bool | str
  # eventually:
  #   - predicate: my_checks:answers            # predicate(view) -> bool | str
  bounds:
    - metric: escalations
      max: 0
"""


def _starter_for(system: str, defs: Sequence[tuple[str, AgentDef[Any]]]) -> str:
    children: list[str] = []
    sends: list[str] = []
    ids: list[str] = []
    for ref, definition in defs:
        child_id = re.sub(r"[^A-Za-z0-9_.-]", "-", definition.name)
        while child_id in ids:
            child_id += "-2"
        ids.append(child_id)
        routed: dict[str, list[str]] = {}
        for pattern, action in definition.routes.items():
            routed.setdefault(action, []).append(pattern)
        children.append(f"    # {definition.name}: state {definition.state_type.__name__}")
        for name, act in definition.actions.items():
            routes = ", ".join(routed.get(name, [])) or "no route: call it as an Instruction"
            children.append(f"    #   action {name} ({_params_line(act.params)}) <- {routes}")
        children.append(f"    - agent: {ref}")
        children.append(f"      id: {child_id}")
        for pattern, action in definition.routes.items():
            signal = ".".join("example" if "*" in part else part for part in pattern.split("."))
            params = definition.actions[action].params
            data = _sample_data(params) if attrs.has(params) else {}
            sends.append(f"  - call: {child_id}")
            sends.append(f"    signal: {signal}")
            if data:
                sends.append(f"    data: {_flow(data)}")
            sends.append("    every: 1s")
    if sends:
        workload = "workload:                      # one of each routed signal, every second\n"
        workload += "\n".join(sends) + "\n"
    else:
        workload = "workload:                      # none: these agents route no signal\n"
    if len(ids) == 1:
        name = ids[0]
    else:
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", system.split(":")[0].split(".")[-1])
    head = _STARTER_HEAD.format(
        file=f"chaos_{name}.yaml",
        name=name,
        description=f"{', '.join(d.name for _, d in defs)} under kills (a starter from {system}).",
    )
    tail = _STARTER_TAIL.format(target=f"root/{ids[0]}")
    return head + "\n".join(children) + "\n\n" + workload + tail


def _flow(data: Any) -> str:
    return yaml.safe_dump(data, default_flow_style=True, sort_keys=False, width=1000).strip()
