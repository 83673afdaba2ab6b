"""The strict cattrs converter that agents structure untyped data with, and the
``field: problem @ $.path`` lines their errors carry.

Paths: an attribute, or a key that is a ``str`` identifier, is ``.name``; any
other key is ``[repr(key)]`` (``$.data[2]``, ``$.data['a b']``,
``$.data[None]``), as cattrs writes mapping keys; a list index is ``[i]``.
``field`` is the path below the root, without its leading dot
(``lines[0].sku``, ``[2]``).

No converter lives at module level: :func:`make_converter` builds a new one for
each agent definition (STYLE: no global mutable singletons).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import UnionType
from typing import Any, Final, Union, get_args, get_origin

import attrs
import cattrs
from cattrs import transform_error
from cattrs.errors import ForbiddenExtraKeysError

__all__ = ["StructureHook", "key_segment", "make_converter", "structure_lines"]

StructureHook = Callable[[Any, Any], Any]

# Internal separators used to carry several (sub-path, message) items through
# cattrs.transform_error, which formats one string per leaf exception.
_ITEM: Final = "\x1e"
_SUB: Final = "\x1f"
_END: Final = "\x1d"
# attrs' own validators word their errors "'<field>' must ...".
_VALIDATOR_FIELD: Final = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' must ")


class _StrictTypeError(TypeError):
    """A scalar of the wrong type; its message is the whole description."""


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _StrictTypeError("expected int")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise _StrictTypeError("expected float")


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise _StrictTypeError("expected str")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _StrictTypeError("expected bool")


def make_converter() -> cattrs.Converter:
    """Return a new cattrs converter with the strict rules agents use.

    - unknown keys are rejected (``forbid_extra_keys=True``) and every problem
      is collected (``detailed_validation=True``);
    - ``int`` accepts only ints (not ``bool``, ``str`` or ``float``);
    - ``float`` accepts floats and ints (not ``bool`` or ``str``);
    - ``str`` accepts only strings; ``bool`` accepts only ``True``/``False``.

    Every :class:`AgentDef` builds its own by default. Build one yourself to
    register hooks for your own types, then pass it as ``AgentDef(converter=...)``;
    register them *before* that, since the definition caches its hooks.
    """
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    return converter


def _type_name(tp: object) -> str:
    """``Inner | None``, ``list[int]``: short names, no module prefixes."""
    if tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is UnionType:
        return " | ".join(_type_name(arg) for arg in args)
    if origin is not None and args:
        return f"{_type_name(origin)}[{', '.join(_type_name(arg) for arg in args)}]"
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def key_segment(key: object) -> str:
    """The path segment of a mapping key: ``.name`` for a str identifier, else
    ``[repr(key)]`` (so a non-str key never breaks a path, nor sorting)."""
    if isinstance(key, str) and key.isidentifier():
        return f".{key}"
    return f"[{key!r}]"


def _format(exc: BaseException, tp: Any) -> str:
    """Format one leaf exception as (sub-path, message) items for ``_lines``;
    a sub-path is ``""`` or a path suffix (``.name``, ``[2]``)."""
    items: list[tuple[str, str]]
    if isinstance(exc, ForbiddenExtraKeysError):
        # Keys may be of any hashable type: sort their segments, not the keys.
        segments = sorted(key_segment(key) for key in exc.extra_fields)
        items = [(segment, "unknown field") for segment in segments]
    elif isinstance(exc, _StrictTypeError):
        items = [("", str(exc))]
    elif isinstance(exc, KeyError):
        items = [("", "required field missing")]
    elif isinstance(exc, ValueError | TypeError) and tp is not None:
        items = [("", f"expected {_type_name(tp)}")]
    elif isinstance(exc, ValueError | TypeError):
        # Raised by the class's __init__: an attrs validator or converter.
        message = str(exc)
        match = _VALIDATOR_FIELD.match(message)
        items = [(f".{match[1]}" if match else "", message)]
    elif isinstance(exc, AttributeError) and str(exc).endswith(("'items'", "'keys'")):
        # A mapping was expected (for a nested attrs class or a dict field).
        items = [("", f"expected {_type_name(tp)}" if tp is not None else "expected a mapping")]
    else:
        items = [("", f"{type(exc).__name__}: {exc}")]
    return _ITEM.join(f"{sub}{_SUB}{message}" for sub, message in items) + _END


def _lines(exc: BaseException, root: str, label: str) -> list[str]:
    lines: list[str] = []
    for line in transform_error(exc, root, _format):
        formatted, _, path = line.partition(_END + " @ ")
        for item in formatted.split(_ITEM):
            sub, _, message = item.partition(_SUB)
            where = path + sub
            field = where[len(root) :].lstrip(".") or label
            lines.append(f"{field}: {message} @ {where}")
    return lines


def structure_lines(
    hook: StructureHook, data: object, cl: type, *, root: str, label: str
) -> tuple[Any, tuple[str, ...]]:
    """Structure ``data`` into the attrs class ``cl`` with ``hook``.

    Returns ``(value, ())`` on success and ``(None, lines)`` on failure, one
    ``field: problem @ path`` line per problem; ``field`` is the path below
    ``root``, or ``label`` for ``root`` itself.
    """
    if type(data) is not dict and attrs.has(cl) and not isinstance(data, Mapping):
        return None, (f"{label}: expected a mapping, got {type(data).__name__} @ {root}",)
    try:
        return hook(data, cl), ()
    except Exception as exc:  # noqa: BLE001 - cattrs reports any failure; each becomes a line
        return None, tuple(_lines(exc, root, label))
