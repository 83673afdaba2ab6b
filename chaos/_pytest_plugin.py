"""chaos's pytest plugin, registered as the ``pytest11`` entry point ``chaos``.

- **One seed per test.** Every test has a chaos seed: ``--chaos-seed N``,
  else the ``CHAOS_SEED`` environment variable, else one derived from the
  test's node id (so a test runs the same way every time by default). The
  ``chaos_seed`` fixture gives it to the test, e.g. for
  ``chaos.run(..., seed=chaos_seed)``.
- **Trio's scheduler, seeded.** For every Trio test (pytest-trio), Trio's
  scheduler is seeded from the test's chaos seed just before the test's
  ``trio.run``, and put back afterwards. Under ``@given``, Hypothesis seeds
  that same random source itself (it is registered with
  ``hypothesis.register_random``) at the start of every example and restores
  it at the end; the plugin seeds it again inside each example, after
  Hypothesis did, so every example's schedule is a function of the chaos
  seed too, and Hypothesis' restore still leaves nothing behind.
- **Scenario files as tests.** Files named ``chaos_*.yaml`` (the ini option
  ``chaos_scenarios`` sets the patterns) are collected as test items, one per
  scenario and seed (the file's ``seed``, or each of ``--chaos-seeds A:B``),
  so ``pytest`` runs a reliability suite and ``pytest --junitxml`` reports it;
  a failing one shows ``RunReport.explain()`` and the command that replays it.
- **Failure reports.** A failing test that used its seed (a Trio test, or one
  that asked for ``chaos_seed``) gets a ``chaos`` section after its traceback
  with the seed and the command that reruns it; if it failed with
  :func:`chaos.assert_ok`'s error, the section also shows the run's plan (the
  minimal one, under ``@given``) and the ``chaos.run(...)`` call that replays
  it.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shlex
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from ._determinism import check_trio_internals, seeded_scheduler
from ._errors import ChaosError
from ._report import RunReport
from ._seeds import derive
from ._strategies import ChecksFailedError

if TYPE_CHECKING:
    from ._scenario import Scenario

__all__ = [
    "ScenarioFile",
    "ScenarioItem",
    "chaos_seed",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "seed_of",
]

#: The environment variable that sets every test's seed (``--chaos-seed`` wins).
ENV_VAR: Final = "CHAOS_SEED"

# the seed every test shares (--chaos-seed or CHAOS_SEED), or None: per test
_SESSION_SEED = pytest.StashKey[int | None]()
# set on a test whose seed took effect (its scheduler was seeded, or it asked for it)
_SEED_USED = pytest.StashKey[int]()
# what check_trio_internals() said ("" for nothing wrong), once it ran
_TRIO_PROBLEM = pytest.StashKey[str]()


# -- the seed ---------------------------------------------------------------------


def _parse_seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"{text!r} is not valid; expected an int >= 0")
    return seed


def _seed_option(text: str) -> int:
    try:
        return _parse_seed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seeds_option(text: str) -> range:
    start, sep, stop = text.partition(":")
    try:
        seeds = range(int(start), int(stop)) if sep else range(-1)
    except ValueError:
        seeds = range(-1)
    if not sep or seeds.start < 0 or len(seeds) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; expected A:B, the seeds A, A+1, ..., B-1 (0 <= A < B)"
        )
    return seeds


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "chaos: deterministic runs of jido_trio systems")
    group.addoption(
        "--chaos-seeds",
        type=_seeds_option,
        default=None,
        metavar="A:B",
        help="run each collected scenario file with the seeds A..B-1 (default: its own seed)",
    )
    parser.addini(
        "chaos_scenarios",
        type="args",
        default=["chaos_*.yaml", "chaos_*.yml"],
        help="file name patterns of the scenario files to collect as tests",
    )
    group.addoption(
        "--chaos-seed",
        type=_seed_option,
        default=None,
        metavar="N",
        help=(
            "seed Trio's scheduler (and the chaos_seed fixture) of every test with N; "
            f"default: ${ENV_VAR}, else a seed derived from each test's node id"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    seed: int | None = config.getoption("chaos_seed")
    if seed is None and os.environ.get(ENV_VAR, "").strip():
        try:
            seed = _parse_seed(os.environ[ENV_VAR].strip())
        except ValueError as exc:
            raise pytest.UsageError(f"{ENV_VAR}: {exc}") from None
    config.stash[_SESSION_SEED] = seed


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash.get(_SESSION_SEED, None)
    if seed is None:
        return "chaos: a seed per test, from its node id (--chaos-seed N to set one)"
    return f"chaos: seed {seed} for every test"


def seed_of(item: pytest.Item) -> int:
    """The chaos seed of ``item``: the session's, or one derived from its node id
    (32 bits, to be short to type)."""
    seed = item.config.stash.get(_SESSION_SEED, None)
    if seed is not None:
        return seed
    return derive(0, f"pytest:{item.nodeid}") >> 32


@pytest.fixture
def chaos_seed(request: pytest.FixtureRequest) -> int:
    """This test's chaos seed (``--chaos-seed``, ``$CHAOS_SEED``, or derived
    from the test's node id): pass it to ``chaos.run(..., seed=chaos_seed)``
    so that the command the failure report prints replays the run."""
    seed = seed_of(request.node)
    request.node.stash[_SEED_USED] = seed
    return seed


# -- seeding Trio tests -----------------------------------------------------------


def _check_trio(config: pytest.Config) -> None:
    """:func:`check_trio_internals`, once a session (it reads Trio's source)."""
    problem = config.stash.get(_TRIO_PROBLEM, None)
    if problem is None:
        try:
            check_trio_internals()
            problem = ""
        except ChaosError as exc:
            problem = str(exc)
        config.stash[_TRIO_PROBLEM] = problem
    if problem:
        raise ChaosError(problem)


def _seeding(inner: Any, scheduler_seed: int) -> Any:
    """``inner`` (Hypothesis' per-example test function) seeding Trio's
    scheduler first: inside the example, after Hypothesis seeded it."""

    def seeded(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        with seeded_scheduler(scheduler_seed):
            return inner(*args, **kwargs)

    return seeded


# trylast: innermost of the wrappers, so pytest-trio has already made the test
# (or each Hypothesis example) a function that calls trio.run
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    if item.get_closest_marker("trio") is None:
        return (yield)
    _check_trio(item.config)
    seed = seed_of(item)
    item.stash[_SEED_USED] = seed
    scheduler_seed = derive(seed, "scheduler")
    hypothesis = getattr(getattr(item, "obj", None), "hypothesis", None)
    if hypothesis is None:
        with seeded_scheduler(scheduler_seed):
            return (yield)
    inner = hypothesis.inner_test
    hypothesis.inner_test = _seeding(inner, scheduler_seed)
    try:
        return (yield)
    finally:
        # parametrized items share one function: each wraps it with its own seed
        hypothesis.inner_test = inner


# -- failure reports --------------------------------------------------------------


def _checks_failed(exc: BaseException | None) -> ChecksFailedError | None:
    """The :class:`ChecksFailedError` that failed the test, if one did: the
    exception itself, or one inside an exception group (pytest-trio and
    Hypothesis may group errors)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ChecksFailedError):
            return current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(reversed(current.exceptions))
        stack.append(current.__cause__)
    return None


def _section(item: pytest.Item, failure: ChecksFailedError | None) -> Iterator[str]:
    seed = item.stash.get(_SEED_USED, None)
    rerun = f"pytest {shlex.quote(item.nodeid)}"
    if seed is not None:
        yield f"chaos seed: {seed} (rerun with: {rerun} --chaos-seed {seed})"
    elif failure is not None:
        yield f"rerun with: {rerun}"
    if failure is not None:
        yield f"plan: {failure.report.plan!r}"
        yield f"replay: {failure.replay}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when != "call" or not report.failed:
        return report
    failure = _checks_failed(call.excinfo.value if call.excinfo is not None else None)
    lines = list(_section(item, failure))
    if lines:
        text = "\n".join(lines)
        addsection = getattr(report.longrepr, "addsection", None)
        if addsection is not None:  # after the traceback, and in JUnit's failure text
            addsection("chaos", text)
        else:
            report.sections.append(("chaos", text))
    return report


# -- scenario files as test items -----------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    patterns: Iterable[str] = parent.config.getini("chaos_scenarios")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return file
    return None


class ScenarioFile(pytest.File):
    """A scenario file: one test item per seed."""

    def collect(self) -> Iterator[ScenarioItem]:
        from ._scenario import ScenarioError, load_scenario

        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:  # one screen, no traceback: the file is wrong
            raise self.CollectError(str(exc)) from None
        seeds: range | None = self.config.getoption("chaos_seeds")
        for seed in seeds if seeds is not None else [scenario.seed]:
            item: ScenarioItem = ScenarioItem.from_parent(
                self, name=f"{scenario.name}[seed={seed}]", seed=seed, scenario=scenario
            )
            yield item


class _ScenarioFailed(Exception):
    """A scenario run whose checks failed (reported by its item)."""

    def __init__(self, report: RunReport) -> None:
        self.report = report
        super().__init__(f"{len(report.failures)} check(s) failed")


class ScenarioItem(pytest.Item):
    """One run of a scenario file at one seed."""

    def __init__(self, *, seed: int, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.scenario = scenario  # loaded once, by its file at collection

    def runtest(self) -> None:
        report = self.scenario.run(self.seed)
        self.user_properties.extend(
            [("seed", self.seed), ("digest", report.digest), ("plan", report.plan.to_json())]
        )
        if not report.ok:
            raise _ScenarioFailed(report)

    def replay(self) -> str:
        try:
            shown = self.path.relative_to(Path.cwd())
        except ValueError:
            shown = self.path
        return f"python -m chaos run {shlex.quote(str(shown))} --seed {self.seed}"

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, _ScenarioFailed):
            return f"{excinfo.value.report.explain()}\nreplay: {self.replay()}"
        if isinstance(excinfo.value, ChaosError):
            return f"{excinfo.value}\nreplay: {self.replay()}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.name}"
