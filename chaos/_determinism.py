"""The one module that touches Trio's private scheduler state.

Trio 0.35 randomises the order in which it runs the tasks that became
runnable together (each scheduler "batch"), drawing from a module-level
``random.Random`` (``trio._core._run._r``). When the private flag
``trio._core._run._ALLOW_DETERMINISTIC_SCHEDULING`` is true, it first sorts the
batch by task creation order and then shuffles it with ``_r``, so seeding
``_r`` makes the schedule a function of the seed. (Trio registers a
Hypothesis plugin that sets the flag, and registers ``_r`` with Hypothesis,
as soon as Hypothesis is imported; pytest-trio relies on that.)

Both names are private, so they live here only, the supported Trio range is
pinned in ``pyproject.toml``, and ``tests/chaos/test_determinism.py`` fails
loudly (:func:`check_trio_internals`) if a Trio release renames or changes
them. Equal deadlines are ordered by ``id()`` inside Trio; that only decides
the order of abort callbacks, and every task woken together is then sorted
by creation order, so it does not leak into the schedule.
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import trio
import trio._core._run as _trio_run

from ._errors import ChaosError

__all__ = ["check_trio_internals", "seed_scheduler", "seeded_scheduler"]


@functools.lru_cache(maxsize=8)
def _loop_source(run_module: ModuleType) -> str:
    """The source of the module's run loop, read once (it does not change)."""
    try:
        return inspect.getsource(run_module.unrolled_run)
    except (AttributeError, OSError, TypeError):
        return ""


def check_trio_internals(run_module: ModuleType = _trio_run) -> None:
    """Raise :class:`ChaosError` unless this Trio still schedules the way
    :func:`seed_scheduler` relies on. ``run_module`` is the module to inspect:
    ``trio._core._run`` (a test passes a stand-in to see the check fail)."""
    problems = []
    source_rng = getattr(run_module, "_r", None)
    if not isinstance(source_rng, random.Random):
        problems.append("trio._core._run._r is not a random.Random")
    if not isinstance(getattr(run_module, "_ALLOW_DETERMINISTIC_SCHEDULING", None), bool):
        problems.append("trio._core._run._ALLOW_DETERMINISTIC_SCHEDULING is not a bool")
    loop = _loop_source(run_module)
    for needle in (
        "_ALLOW_DETERMINISTIC_SCHEDULING",
        "batch.sort(key=lambda t: t._counter)",
        "_r.shuffle(batch)",
    ):
        if needle not in loop:
            problems.append(f"trio's run loop no longer contains {needle!r}")
    if problems:
        raise ChaosError(
            f"trio {trio.__version__} does not schedule the way chaos relies on for "
            f"deterministic runs: {'; '.join(problems)}. Install a trio in the range "
            "pinned by jido-trio (pyproject.toml), or update chaos/_determinism.py."
        )


def seed_scheduler(seed: int) -> None:
    """Make Trio's scheduler deterministic from now on, as a function of ``seed``."""
    _trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    _trio_run._r.seed(seed)


@contextmanager
def seeded_scheduler(seed: int) -> Iterator[None]:
    """:func:`seed_scheduler` for the ``with`` block; the flag and the source's
    state are put back afterwards, so code outside sees Trio as it was."""
    flag = _trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    state = _trio_run._r.getstate()
    seed_scheduler(seed)
    try:
        yield
    finally:
        _trio_run._ALLOW_DETERMINISTIC_SCHEDULING = flag  # type: ignore[misc]
        _trio_run._r.setstate(state)
