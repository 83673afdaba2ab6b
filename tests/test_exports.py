"""The public surface of ``jido_trio``: what it exports, and that nothing private leaks.

The expected names are read from ``jido_trio/__init__.py`` itself (every name it
imports), so a re-export added there is covered without editing this file.
"""

from __future__ import annotations

import ast
import inspect
import types
from pathlib import Path

import pytest

import jido_trio

INIT = Path(jido_trio.__file__)


def _reexports() -> list[ast.ImportFrom]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"), filename=str(INIT))
    return [node for node in tree.body if isinstance(node, ast.ImportFrom)]


def _imported_names() -> set[str]:
    names: set[str] = set()
    for node in _reexports():
        for alias in node.names:
            name = alias.asname or alias.name
            if not name.startswith("_"):
                names.add(name)
    return names


PUBLIC = sorted(_imported_names())
# a name that does not resolve is reported by test_public_name_resolves, not here
CLASSES_AND_FUNCTIONS = [
    n
    for n in PUBLIC
    if inspect.isclass(getattr(jido_trio, n, None))
    or inspect.isfunction(getattr(jido_trio, n, None))
]
EXCEPTIONS = [
    n
    for n in PUBLIC
    if inspect.isclass(getattr(jido_trio, n, None))
    and issubclass(getattr(jido_trio, n), BaseException)
]


def test_init_imports_something() -> None:
    """The parse found the re-exports (guards every test below against passing on nothing)."""
    assert {"open_supervisor", "ChildSpec", "JidoError", "attach_telemetry"} <= set(PUBLIC)


def test_reexports_are_explicit_and_from_private_modules() -> None:
    """Every re-export is ``from ._private import name as name``, one name a line
    (an import under a private alias, such as the metadata fixup, is not a re-export)."""
    for node in _reexports():
        where = f"{INIT.name}:{node.lineno}"
        if all((alias.asname or alias.name).startswith("_") for alias in node.names):
            continue
        assert node.level == 1, f"{where}: import from the package itself (from ._x import ...)"
        assert node.module is not None, where
        assert node.module.startswith("_"), f"{where}: {node.module!r} is not a private module"
        assert len(node.names) == 1, f"{where}: one name a line"
        alias = node.names[0]
        assert alias.asname == alias.name, f"{where}: write `import {alias.name} as {alias.name}`"


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_resolves(name: str) -> None:
    """Every name imported in ``__init__.py`` is an attribute of the package."""
    assert getattr(jido_trio, name) is not None


def test_no_unexpected_public_names() -> None:
    """``dir(jido_trio)`` shows exactly the re-exports (plus dunders and private names)."""
    public = {n for n in dir(jido_trio) if not n.startswith("_")}
    assert public == set(PUBLIC)


def test_no_public_submodules() -> None:
    """No public attribute of the package is a module (``jido_trio.supervisor`` must
    not exist next to the private ``jido_trio._supervisor``)."""
    leaked = [
        n
        for n in dir(jido_trio)
        if not n.startswith("_") and isinstance(getattr(jido_trio, n), types.ModuleType)
    ]
    assert leaked == []


@pytest.mark.parametrize("name", CLASSES_AND_FUNCTIONS)
def test_public_path_in_metadata(name: str) -> None:
    """Public classes and functions report ``jido_trio`` as their module and the
    exported name as their (qual)name, so reprs and tracebacks show the public path
    (``fixup_module_metadata`` at the end of ``__init__.py``)."""
    obj = getattr(jido_trio, name)
    assert obj.__module__ == "jido_trio", f"{name}.__module__ == {obj.__module__!r}"
    assert obj.__name__ == name
    assert obj.__qualname__ == name


def test_methods_follow_their_class() -> None:
    """Methods defined in private modules are fixed up with their class."""
    method = jido_trio.Supervisor.start_child
    assert method.__module__ == "jido_trio"
    assert method.__qualname__ == "Supervisor.start_child"


def test_classifies_something() -> None:
    """The lists the parametrized tests run over are not empty."""
    assert {"ChildSpec", "open_supervisor"} <= set(CLASSES_AND_FUNCTIONS)
    assert {"JidoError", "RestartIntensityError", "ChildKilled"} <= set(EXCEPTIONS)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_public_exceptions_derive_from_jido_error(name: str) -> None:
    """Every public exception class belongs to the one hierarchy rooted at ``JidoError``."""
    obj = getattr(jido_trio, name)
    assert issubclass(obj, Exception), f"{name} must derive from Exception, not BaseException"
    assert issubclass(obj, jido_trio.JidoError)


# -- runtime objects: final, and no public constructor (trio's test_classes_are_final) --

RUNTIME_OBJECTS = ["Supervisor", "ChildContext", "AgentRef", "Registration", "Subscription"]


def _public_classes() -> list[str]:
    return [
        n
        for n in PUBLIC
        if inspect.isclass(getattr(jido_trio, n))
        and not issubclass(getattr(jido_trio, n), BaseException)
    ]


@pytest.mark.parametrize("name", RUNTIME_OBJECTS)
def test_runtime_objects_have_no_public_constructor(name: str) -> None:
    """Objects users receive but never build raise TypeError when called."""
    cls = getattr(jido_trio, name)
    with pytest.raises(TypeError, match=rf"^jido_trio\.{name} has no public constructor"):
        cls()


@pytest.mark.parametrize("name", RUNTIME_OBJECTS)
def test_runtime_objects_are_final(name: str) -> None:
    """Runtime objects cannot be subclassed."""
    cls = getattr(jido_trio, name)
    with pytest.raises(TypeError, match="does not support subclassing"):
        type("Sub", (cls,), {})


def test_classes_are_final_or_meant_to_be_extended() -> None:
    """Every public class is final, except the ones made to be subclassed or built
    by users as plain values (a short, explicit list)."""
    extensible = {
        "Interceptor",  # subclassed to add hooks
        "Recorder",  # an Interceptor users may extend
        "CheckpointStore",  # an ABC for new backends
        "MemoryStore",  # extended by test fakes and wrappers (slow, flaky stores)
        "SqliteStore",
        "Directive",  # the base of the known directives
        "Registry",  # built by users
    }
    not_final = [
        n
        for n in _public_classes()
        if n not in extensible
        and n not in RUNTIME_OBJECTS
        and not getattr(getattr(jido_trio, n), "__final__", False)
        and not _is_attrs_value(getattr(jido_trio, n))
    ]
    assert not_final == [], f"public classes neither final nor values: {not_final}"
    for name in RUNTIME_OBJECTS:
        assert getattr(getattr(jido_trio, name), "__final__", False), name


def _is_attrs_value(cls: type) -> bool:
    """attrs value classes (specs, snapshots, signals) are plain data users build."""
    import attrs

    return attrs.has(cls)


def test_child_context_exposes_only_read_only_facts() -> None:
    """ChildContext's public attributes are the documented facts, all read-only."""
    facts = {"id", "path", "status", "restarts", "stop_requested", "supervisor"}
    public = {n for n in dir(jido_trio.ChildContext) if not n.startswith("_")}
    assert public == facts
    for name in facts:
        attr = inspect.getattr_static(jido_trio.ChildContext, name)
        assert isinstance(attr, property), name
        assert attr.fset is None, name
