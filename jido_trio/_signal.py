"""Signals (CloudEvents-shaped messages) and the router that maps signal types
to action names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from ._convert import key_segment
from ._errors import InvalidArgumentError, InvalidRouteError, InvalidSignalError
from ._random import new_signal_id
from ._util import final

__all__ = ["Router", "Signal", "check_signal_type"]

_SEGMENT: Final = "[A-Za-z0-9_-]+"
_SIGNAL_TYPE: Final = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_LITERAL: Final = re.compile(_SEGMENT)
_TYPE_HINT: Final = (
    "expected dot-separated segments of letters, digits, '_' or '-', e.g. 'listing.demand.boost'"
)


def check_signal_type(value: object, what: str = "signal type") -> str:
    """Return ``value`` if it is a valid signal type, else raise
    :class:`InvalidSignalError` naming it."""
    if isinstance(value, str) and _SIGNAL_TYPE.fullmatch(value):
        return value
    raise InvalidSignalError(f"{what} {value!r} is not valid; {_TYPE_HINT}")


def _validate_type(_: object, __: attrs.Attribute[str], value: str) -> None:
    check_signal_type(value)


@attrs.frozen(slots=True)
class Signal:
    """A message to an agent, shaped like a CloudEvents 1.0 event.

    Attributes:
        type: what happened, a dotted name such as ``"listing.demand.boost"``
            (segments of letters, digits, ``_`` or ``-``). Routes match on it.
        data: the payload; for a routed signal, the action's parameters as a
            mapping (``None`` means no parameters). Defaults to ``None``.
        source: who sent it. Defaults to ``""``.
        subject: what it is about, within the source. Defaults to ``None``.
        id: unique id. Defaults to a new ``uuid4().hex`` (so building a signal
            is not deterministic; pass ``id=`` where that matters), or, inside a
            Trio run that set one, to what :func:`set_id_factory`'s factory returns.
        time: when it was sent, in the sender's clock (``trio.current_time()``
            in the runtime). Defaults to ``None``.
        specversion: the CloudEvents version. Defaults to ``"1.0"``.

    Raises:
        InvalidSignalError: ``type`` is not a valid dotted name, or the run's id
            factory returned something other than a non-empty str.
    """

    type: str = attrs.field(validator=_validate_type)
    data: Any = None
    source: str = attrs.field(default="", kw_only=True)
    subject: str | None = attrs.field(default=None, kw_only=True)
    id: str = attrs.field(factory=new_signal_id, kw_only=True)
    time: float | None = attrs.field(default=None, kw_only=True)
    specversion: str = attrs.field(default="1.0", kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the signal as a CloudEvents-style JSON-ready dict.

        ``subject``, ``time`` and ``data`` are left out when ``None``;
        ``data`` is included as is (make it JSON-ready yourself if needed).
        """
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.time is not None:
            out["time"] = self.time
        if self.data is not None:
            out["data"] = self.data
        return out

    @classmethod
    def from_dict(cls, data: object) -> Signal:
        """Build a signal from a dict such as :meth:`to_dict` returns.

        Only ``type`` is required; missing keys take the constructor's defaults
        (a missing ``id`` gets a new one). Scalars are checked strictly: ``time``
        must be a number (not ``bool``), the others strings.

        Raises:
            InvalidSignalError: with one ``field: problem @ $.path`` line per
                problem, in its message and in ``.errors``.
        """
        errors = _check_signal_dict(data)
        if errors:
            raise InvalidSignalError("invalid signal:\n" + "\n".join(errors), errors=errors)
        assert isinstance(data, Mapping)
        kwargs = {key: data[key] for key in _OPTIONAL if key in data}
        if "time" in kwargs and kwargs["time"] is not None:
            kwargs["time"] = float(kwargs["time"])
        return cls(data["type"], data.get("data"), **kwargs)


_OPTIONAL: Final = ("source", "subject", "id", "time", "specversion")
_KEYS: Final = frozenset({"type", "data", *_OPTIONAL})


def _check_signal_dict(data: object) -> list[str]:
    if not isinstance(data, Mapping):
        return [f"signal: expected a mapping, got {type(data).__name__} @ $"]
    errors: list[str] = []
    if "type" not in data:
        errors.append("type: required field missing @ $.type")
    elif not isinstance(data["type"], str):
        errors.append("type: expected str @ $.type")
    elif not _SIGNAL_TYPE.fullmatch(data["type"]):
        errors.append(f"type: {data['type']!r} is not a valid signal type; {_TYPE_HINT} @ $.type")
    for key in ("source", "id", "specversion"):
        if key in data and not isinstance(data[key], str):
            errors.append(f"{key}: expected str @ $.{key}")
    if "id" in data and data["id"] == "":
        errors.append("id: expected a non-empty str @ $.id")
    version = data.get("specversion", "1.0")
    if isinstance(version, str) and version != "1.0":
        errors.append(f"specversion: expected '1.0', got {version!r} @ $.specversion")
    if "subject" in data and not isinstance(data["subject"], str | None):
        errors.append("subject: expected str or None @ $.subject")
    if "time" in data:
        time = data["time"]
        if isinstance(time, bool) or not isinstance(time, int | float | None):
            errors.append("time: expected float or None @ $.time")
    # Keys may be of any hashable type: sort their path segments, not the keys.
    for segment in sorted(key_segment(key) for key in data.keys() - _KEYS):
        errors.append(f"{segment.removeprefix('.')}: unknown field @ ${segment}")
    return errors


# -- Routes -----------------------------------------------------------------------

# Segment ranks for specificity: a literal beats ``*``, ``*`` beats the end of a
# pattern, and the end of a pattern beats ``**`` (so ``a.*`` beats ``a.*.**``).
_LITERAL_RANK: Final = 3
_STAR_RANK: Final = 2
_END_RANK: Final = 1
_GLOBSTAR_RANK: Final = 0


def _compile(pattern: object) -> tuple[tuple[int, ...], str]:
    """Return the specificity key and the regex (matched against ``"." + type``)."""
    if not isinstance(pattern, str):
        raise InvalidRouteError(
            f"route pattern {pattern!r} is not valid; expected a str", pattern=None
        )
    ranks: list[int] = []
    parts: list[str] = []
    for segment in pattern.split("."):
        if segment == "**":
            if ranks and ranks[-1] == _GLOBSTAR_RANK:
                ranks.append(_GLOBSTAR_RANK)
                continue  # "**.**" matches what "**" does; one regex group avoids backtracking
            ranks.append(_GLOBSTAR_RANK)
            parts.append(r"(?:\.[^.]+)*")
        elif segment == "*":
            ranks.append(_STAR_RANK)
            parts.append(r"\.[^.]+")
        elif _LITERAL.fullmatch(segment):
            ranks.append(_LITERAL_RANK)
            parts.append(r"\." + re.escape(segment))
        else:
            raise InvalidRouteError(
                f"route pattern {pattern!r} is not valid: segment {segment!r}; expected "
                "dot-separated segments that are '*', '**', or letters, digits, '_' "
                "and '-', e.g. 'listing.*.boost' or 'listing.**'",
                pattern=pattern,
            )
    ranks.append(_END_RANK)
    return tuple(ranks), "".join(parts)


@final
class Router:
    """Maps signal types to action names through patterns.

    Patterns are dotted like signal types; a ``*`` segment matches exactly one
    segment and a ``**`` segment matches zero or more segments (``"a.**"``
    matches ``"a"``, ``"a.b"`` and ``"a.b.c"``).

    When several patterns match, the most specific wins. Patterns are compared
    segment by segment from the left, and the first difference decides: a
    literal segment beats ``*``, ``*`` beats the end of a pattern, and the end
    of a pattern beats ``**``. So for ``"a.b.c"``, ``"a.b.*"`` beats ``"a.*.c"``
    (second segment), and for ``"a.b"``, ``"a.*"`` beats ``"a.**"`` and
    ``"a.*.**"``. An exact (wildcard-free) pattern always wins. Exact ties,
    such as ``"**.a.**"`` and ``"**.b.**"`` for ``"a.b"``, go to the route
    declared first.

    Matching is precompiled: a dict lookup for exact patterns, then one regex
    alternation of the wildcard patterns ordered most specific first.

    Args:
        routes: pattern to action name, in declaration order.

    Raises:
        InvalidRouteError: a pattern is malformed (names the pattern), or a
            target is not a non-empty string.
    """

    __slots__ = ("_exact", "_routes", "_targets", "_wild")

    def __init__(self, routes: Mapping[str, str]) -> None:
        if not isinstance(routes, Mapping):
            raise InvalidArgumentError(
                f"routes must be a mapping of pattern to action name, not {routes!r}"
            )
        self._routes: Mapping[str, str] = MappingProxyType(dict(routes))
        self._exact: dict[str, str] = {}
        wild: list[tuple[tuple[int, ...], int, str, str]] = []
        for index, (pattern, target) in enumerate(self._routes.items()):
            key, regex = _compile(pattern)
            if not isinstance(target, str) or not target:
                raise InvalidRouteError(
                    f"route {pattern!r} -> {target!r} is not valid; the target must be "
                    "an action name (a non-empty str)",
                    pattern=pattern,
                )
            if _STAR_RANK in key or _GLOBSTAR_RANK in key:
                wild.append((key, index, regex, target))
            else:
                self._exact[pattern] = target
        # Most specific first; ties keep declaration order (sort is stable, and
        # the index breaks ties explicitly anyway).
        wild.sort(key=lambda w: (tuple(-rank for rank in w[0]), w[1]))
        self._targets: tuple[str, ...] = tuple(w[3] for w in wild)
        alternation = "|".join(f"(?P<r{i}>{w[2]})" for i, w in enumerate(wild))
        self._wild = re.compile(alternation).fullmatch if wild else None

    @property
    def routes(self) -> Mapping[str, str]:
        """The routes, read-only, in declaration order."""
        return self._routes

    def match(self, signal_type: str) -> str | None:
        """Return the action name of the most specific route matching
        ``signal_type``, or ``None`` if none matches."""
        target = self._exact.get(signal_type)
        if target is not None or self._wild is None:
            return target
        found = self._wild("." + signal_type)
        if found is None:
            return None
        group = found.lastgroup
        assert group is not None
        return self._targets[int(group[1:])]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Router):
            return NotImplemented
        return list(self._routes.items()) == list(other._routes.items())

    def __hash__(self) -> int:
        return hash(tuple(self._routes.items()))

    def __repr__(self) -> str:
        return f"Router({dict(self._routes)!r})"
