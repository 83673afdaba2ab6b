"""The Hypothesis side of :func:`chaos.fault_plans`: drawing one fault.

Imported only when a strategy is made: importing Hypothesis makes Trio
register a plugin that switches its scheduler to deterministic batches for
the whole process, which nobody who merely imports ``chaos`` should get.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ._plan import FAULT_CLASSES, RANDOM_DEFAULTS, Fault, Seconds
from ._strategies import _LINK_KINDS, _MAX_COUNT, _TICKS_PER_SECOND, _Space

__all__ = ["draw_fault"]


def _seconds(ticks: int) -> Seconds:
    return Seconds(ticks / _TICKS_PER_SECOND)


def _ticks(low: int, high: int) -> st.SearchStrategy[Seconds]:
    """Whole milliseconds in ``[low, high]``, as seconds."""
    return st.integers(low, high).map(_seconds)


def _or(default: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``default``, or a value of ``other``; shrinks to ``default``."""
    return st.just(default) | other


def _places(kind: str, space: _Space) -> tuple[tuple[str | None, str], ...]:
    """Where a fault of ``kind`` may act, as ``(source, target)``, simplest
    first: each target (at its mailbox; a partition cuts it off from every
    agent), then each link."""
    if kind not in _LINK_KINDS:
        return tuple((None, target) for target in space.targets)
    alone = "**" if kind == "partition" else None
    return tuple((alone, target) for target in space.targets) + space.links


@st.composite
def draw_fault(draw: st.DrawFn, space: _Space) -> Fault:
    # A fault at its simplest is four choices (kind, place, time, "all
    # defaults"), so that the shrinker's deletion of a few choices at a time
    # can delete a whole fault from a plan.
    kind = draw(st.sampled_from(space.kinds))
    cls = FAULT_CLASSES[kind]
    source, target = draw(st.sampled_from(_places(kind, space)))
    at = draw(st.integers(0, space.ticks - 1))
    fields: dict[str, Any] = {"target": target, "at": _seconds(at)}
    if source is not None:
        fields["source"] = source
    # a required duration is what a RandomFaults generator gives it, unless drawn
    defaults = RANDOM_DEFAULTS[kind]
    if kind == "pause":
        fields["duration"] = Seconds(defaults["duration"])
    elif kind in ("delay", "store_slow"):
        fields["seconds"] = Seconds(defaults["seconds"])
    if draw(st.booleans()):  # not all defaults: each field is its default or drawn
        fields.update(_draw_details(draw, kind, at, space))
    fault: Fault = cls(**fields)
    return fault


def _draw_details(draw: st.DrawFn, kind: str, at: int, space: _Space) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if kind != "partition":  # a partition cuts every link between its sides
        fields["pick"] = draw(st.sampled_from(("all", "one")))
    later = _ticks(at + 1, space.ticks)  # a window [at, until) ends by the horizon
    if FAULT_CLASSES[kind].event:
        fields["until"] = draw(_or(None, later))
        fields["nth"] = draw(_or(None, st.integers(1, _MAX_COUNT)))
        if fields["nth"] is None:  # the nth event, or each with a probability
            fields["probability"] = draw(_or(1.0, st.integers(1, 99).map(lambda p: p / 100)))
        fields["count"] = draw(_or(None, st.integers(1, _MAX_COUNT)))
    defaults = RANDOM_DEFAULTS[kind]
    if kind == "restart_storm":
        fields["count"] = draw(_or(defaults["count"], st.integers(1, _MAX_COUNT)))
        fields["interval"] = draw(_or(Seconds(defaults["interval"]), _ticks(1, 1000)))
    elif kind in ("pause", "delay", "store_slow"):
        name = "duration" if kind == "pause" else "seconds"
        fields[name] = draw(_or(Seconds(defaults[name]), _ticks(1, space.ticks)))
        if kind == "delay":
            fields["jitter"] = draw(_ticks(0, space.ticks))
    elif kind == "partition":
        fields["until"] = draw(_or(None, later))
        fields["one_way"] = draw(st.booleans())
    elif kind == "reorder":
        fields["window"] = draw(_or(Seconds(defaults["window"]), _ticks(1, space.ticks)))
    elif kind == "crash":
        fields["point"] = draw(st.sampled_from(("receive", "after_cmd")))
    elif kind == "stale_load":
        fields["versions"] = draw(st.integers(1, 3))
    elif kind == "corrupt_load":
        fields["what"] = draw(st.sampled_from(("state", "version")))
    return fields
