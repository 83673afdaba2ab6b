"""Argument checks, and the one definition of each closed set of values.

Every closed set (restart types, strategies, child statuses, dead-letter
reasons, ...) is written once, as a ``Literal``; the tuple of its values is
read off the ``Literal`` (``values(RestartType)``), so the type checker and the
run-time check can never disagree. The checks are small functions that raise
the caller's error class with a message that shows the offending value and
what is accepted (modelled on Hypothesis' ``internal/validation.py``).
"""

from __future__ import annotations

import math
import random
import reprlib
import sys
from collections.abc import Sequence
from typing import Any, Final, Literal, get_args

from ._errors import InvalidArgumentError, JidoError

__all__ = [
    "AUTO_SHUTDOWNS",
    "CHILD_STATUSES",
    "DEAD_LETTER_REASONS",
    "RESTART_FROM",
    "RESTART_TYPES",
    "STRATEGIES",
    "AutoShutdown",
    "ChildKind",
    "ChildStatus",
    "DeadLetterReason",
    "RestartFrom",
    "RestartType",
    "Strategy",
    "check_bool",
    "check_choice",
    "check_number",
    "check_rng",
    "one_of",
]

#: How a supervisor restarts a group when one child exits abnormally.
Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
#: When a child is restarted: always, after an abnormal exit only, or never.
RestartType = Literal["permanent", "transient", "temporary"]
#: When significant children shut their supervisor down (OTP 24).
AutoShutdown = Literal["never", "any_significant", "all_significant"]
#: What a child spec runs: a worker, or a nested supervisor.
ChildKind = Literal["worker", "supervisor"]
#: Where a child is in its life, as ``ChildContext.status`` and ``ChildInfo.status`` say.
ChildStatus = Literal["starting", "running", "stopping", "restarting", "stopped"]
#: Where a restarted agent takes its state from.
RestartFrom = Literal["checkpoint", "initial"]
#: Why a message was dead-lettered (``DeadLetter.reason``).
DeadLetterReason = Literal[
    "unroutable",
    "invalid_params",
    "unknown_action",
    "action_failed",
    "crashed",
    "agent_stopped",
    "dropped",
    "mailbox_full",
    "no_such_agent",
]


def values(literal: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` of strings, in declaration order."""
    return tuple(get_args(literal))


STRATEGIES: Final = values(Strategy)
RESTART_TYPES: Final = values(RestartType)
AUTO_SHUTDOWNS: Final = values(AutoShutdown)
CHILD_KINDS: Final = values(ChildKind)
CHILD_STATUSES: Final = values(ChildStatus)
RESTART_FROM: Final = values(RestartFrom)
DEAD_LETTER_REASONS: Final = values(DeadLetterReason)


def one_of(choices: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: the accepted values, for a message."""
    quoted = [repr(c) for c in choices]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_choice(
    field: str,
    value: object,
    choices: Sequence[str],
    error: type[JidoError] = InvalidArgumentError,
) -> None:
    """``value`` is one of ``choices``; else ``error`` naming both."""
    if not isinstance(value, str) or value not in choices:
        raise error(f"{field}={value!r} is not valid; expected {one_of(choices)}")


def check_number(
    field: str,
    value: object,
    *,
    allow_none: bool = False,
    integer: bool = False,
    positive: bool = False,
    allow_inf: bool = True,
    error: type[JidoError] = InvalidArgumentError,
) -> None:
    """``value`` is a number (an ``int`` with ``integer``; never a ``bool``),
    ``>= 0`` (``> 0`` with ``positive``), finite or (``allow_inf``, not for
    integers) ``math.inf``; ``None`` too with ``allow_none``."""
    if value is None and allow_none:
        return
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    what = "an int" if integer else "a number"
    bound = "> 0" if positive else ">= 0"
    tail = " or None" if allow_none else ""
    if ok:
        assert isinstance(value, int | float)
        if not integer and isinstance(value, int) and abs(value) > sys.float_info.max:
            raise error(
                f"{field}={reprlib.repr(value)} is not valid: too large for a float; "
                f"expected {what} {bound}{tail}"
            )
        ok = integer or math.isfinite(value) or (value == math.inf and allow_inf)
        ok = ok and (value > 0 if positive else value >= 0)
    if not ok:
        raise error(f"{field}={value!r} is not valid; expected {what} {bound}{tail}")


def check_bool(field: str, value: object, error: type[JidoError] = InvalidArgumentError) -> None:
    """``value`` is ``True`` or ``False`` (not merely truthy)."""
    if not isinstance(value, bool):
        raise error(f"{field}={value!r} is not valid; expected True or False")


def check_rng(field: str, value: object, error: type[JidoError] = InvalidArgumentError) -> None:
    """``value`` is a ``random.Random`` (or a subclass) or ``None``."""
    if value is not None and not isinstance(value, random.Random):
        raise error(
            f"{field}={value!r} is not valid; expected a random.Random "
            "(e.g. random.Random(42)) or None for the run's source"
        )
