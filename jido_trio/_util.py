"""Small helpers shared by the package's modules."""

from __future__ import annotations

import contextlib
import sys
import typing
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

import attrs


def fixup_module_metadata(module_name: str, namespace: Mapping[str, object]) -> None:
    """Make the public names in ``namespace`` report ``module_name`` as their home.

    Called at the end of a package's ``__init__.py`` as
    ``fixup_module_metadata(__name__, globals())``. Every public class and
    function that was defined in one of the package's private modules
    (``jido_trio._supervisor``) gets ``__module__ = module_name``, and its
    ``__name__`` / ``__qualname__`` set to the name it is exported under; classes
    are walked recursively, so their methods and nested classes follow. Reprs,
    tracebacks, pickles and docs then show the public path
    (``jido_trio.ChildSpec``), never the private one. Modelled on trio's
    ``trio._util.fixup_module_metadata``.

    An attrs class's string annotations are resolved first, against the module
    that defined it (then ``namespace``, for names imported there only under
    ``TYPE_CHECKING``): cattrs and ``typing.get_type_hints`` look annotations up
    in ``sys.modules[cls.__module__]``, which would otherwise be the package.
    """
    private_prefix = module_name + "._"
    public = {objname: obj for objname, obj in namespace.items() if not objname.startswith("_")}
    # a public object met as another class's member keeps its own public name
    seen: set[int] = {id(obj) for obj in public.values()}

    def fix_one(qualname: str, name: str, obj: object, *, member: bool = True) -> None:
        # ids also guard against cycles (a class reachable from its own members)
        if member:
            if id(obj) in seen:
                return
            seen.add(id(obj))
        mod = getattr(obj, "__module__", None)
        if not isinstance(mod, str) or not mod.startswith(private_prefix):
            return
        if isinstance(obj, type) and attrs.has(obj):
            _resolve_attrs_types(obj, mod, namespace)
        setattr(obj, "__module__", module_name)  # noqa: B010 (mypy: object has none)
        # a module's __name__ is dotted; anything else with a dot is left alone
        obj_name = getattr(obj, "__name__", None)
        if isinstance(obj_name, str) and "." not in obj_name:
            setattr(obj, "__name__", name)  # noqa: B010
            if hasattr(obj, "__qualname__"):
                setattr(obj, "__qualname__", qualname)  # noqa: B010
        if isinstance(obj, type):
            for attr_name, attr_value in list(obj.__dict__.items()):
                fix_one(f"{qualname}.{attr_name}", attr_name, attr_value)

    for objname, obj in public.items():
        fix_one(objname, objname, obj, member=False)


def _resolve_attrs_types(cls: type, home: str, namespace: Mapping[str, object]) -> None:
    module = sys.modules.get(home)
    globalns = {**namespace, **(vars(module) if module is not None else {})}
    # an annotation that cannot be evaluated at run time (a name imported only
    # for type checkers, a generic that is not subscriptable) could not be
    # resolved before the fixup either: leave it as it is.
    with contextlib.suppress(NameError, TypeError):
        attrs.resolve_types(cls, globalns=globalns)


_T = TypeVar("_T")


def _refuse_subclass(cls: type[object]) -> NoReturn:
    raise TypeError(f"{cls.__module__}.{cls.__qualname__} does not support subclassing")


def final(cls: type[_T]) -> type[_T]:
    """Make ``cls`` final: subclassing it raises ``TypeError`` (and type
    checkers know, through ``typing.final``). Modelled on trio's ``@final``."""
    cls.__init_subclass__ = classmethod(_refuse_subclass)  # type: ignore[assignment]
    return typing.final(cls)


class NoPublicConstructor(type):
    """Metaclass of the runtime objects users receive but never build
    (``Supervisor``, ``AgentRef``, ...): calling the class raises ``TypeError``;
    the package builds instances with ``cls._create(...)``. Use with
    :func:`final`. Modelled on trio's ``NoPublicConstructor``."""

    def __call__(cls, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} has no public constructor; "
            "the runtime gives you one (see its documentation)"
        )

    def _create(cls: type[_T], *args: Any, **kwargs: Any) -> _T:
        return super().__call__(*args, **kwargs)  # type: ignore[misc, no-any-return]
