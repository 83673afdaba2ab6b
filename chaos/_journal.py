"""Journals: what ``python -m chaos run`` ran and saw, as versioned JSON.

A journal records the tool, Trio and Python versions, the command line, the
shard and the seeds asked for, every scenario file (with its sha256) and one
entry per run (scenario and seed, the concrete plan, what each fault did,
every check's verdict, the metrics, the trace digest and the command that
replays it). ``replay`` and ``shrink`` read it back; ``merge`` combines the
journals of shards run on different machines. docs/cli.md describes the
format.

The format is the attrs classes below, written and read with one cattrs
converter whose hooks refuse values of the wrong type (a ``"5"`` is not a
seed), so a damaged journal is reported with the ``$.path`` of each problem,
never half-read.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import format_exception

from ._errors import ChaosError
from ._report import RunReport

__all__ = [
    "FORMAT",
    "VERSION",
    "CheckEntry",
    "CheckTally",
    "FaultEntry",
    "Journal",
    "JournalError",
    "Nondeterminism",
    "RunEntry",
    "ScenarioEntry",
    "ScenarioSummary",
    "Shard",
    "Summary",
    "dumps_journal",
    "read_journal",
    "summarize",
]

#: The value of a journal's ``"format"`` key.
FORMAT: Final = "jido-trio-chaos-journal"
#: The journal format's version (this tool reads and writes only this one).
VERSION: Final = 1
#: Problem lines shown before "... N more".
_MAX_LINES: Final = 20

Verdict = Literal["pass", "fail", "unknown"]
CheckKind = Literal["always", "eventually", "sometimes", "bound"]


class JournalError(ChaosError, ValueError):
    """A journal cannot be read, or is not a chaos journal this tool reads.

    ``str(error)`` fits on one screen: ``FILE: <heading>:`` then one line per
    problem (at most 20).
    """

    def __init__(self, file: str, errors: Sequence[str], *, heading: str) -> None:
        self.file = file
        self.errors = tuple(errors)
        self.heading = heading
        shown = [f"  {line}" for line in self.errors[:_MAX_LINES]]
        if len(self.errors) > _MAX_LINES:
            shown.append(f"  ... {len(self.errors) - _MAX_LINES} more")
        super().__init__("\n".join([f"{file}: {heading}:", *shown]))


# -- the format ----------------------------------------------------------------------


@attrs.frozen
class Shard:
    """``--shard K/N``: this journal holds the seeds with ``seed % count == index``."""

    index: int = 0
    count: int = 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, seed: int) -> bool:
        return seed % self.count == self.index


@attrs.frozen
class ScenarioEntry:
    """A scenario file of the run, and the seeds asked of it (half-open ``[start, stop)``)."""

    file: str
    name: str
    sha256: str
    seeds: tuple[int, int]

    @property
    def seed_range(self) -> range:
        return range(*self.seeds)


@attrs.frozen
class FaultEntry:
    """One thing a fault did (a :class:`chaos.FaultRecord`)."""

    time: float
    fault: int
    kind: str
    path: str
    effect: str
    hit: bool


@attrs.frozen
class CheckEntry:
    """One check's verdict in one run (a :class:`chaos.CheckResult`)."""

    name: str
    kind: CheckKind
    verdict: Verdict
    detail: str = ""
    time: float | None = None


@attrs.frozen
class Nondeterminism:
    """Two runs of the same seed differed (a :class:`chaos.NondeterminismError`)."""

    index: int
    first: str | None
    second: str | None
    digests: tuple[str, str]


@attrs.frozen
class RunEntry:
    """One run: a scenario at a seed.

    ``ok`` is false when an always/eventually/bound check failed, when the run
    could not be made (``error``) or when it was not deterministic
    (``nondeterminism``); those two have no report, so no plan, checks or
    digest.
    """

    scenario: str
    file: str
    seed: int
    ok: bool
    coverage_ok: bool
    plan: dict[str, Any] | None
    faults: tuple[FaultEntry, ...]
    checks: tuple[CheckEntry, ...]
    metrics: dict[str, float | None]
    digest: str | None
    events: int
    swarm: dict[str, Any] | None
    replay: str
    error: str | None = None
    nondeterminism: Nondeterminism | None = None

    @property
    def failures(self) -> tuple[CheckEntry, ...]:
        """The failed always/eventually/bound checks."""
        return tuple(c for c in self.checks if c.verdict == "fail" and c.kind != "sometimes")

    @classmethod
    def from_report(cls, report: RunReport, *, scenario: str, file: str, replay: str) -> RunEntry:
        return cls(
            scenario=scenario,
            file=file,
            seed=report.seed,
            ok=report.ok,
            coverage_ok=report.coverage_ok,
            plan=report.plan.to_dict(),
            faults=tuple(FaultEntry(**attrs.asdict(r)) for r in report.faults),
            checks=tuple(
                CheckEntry(c.name, c.kind, c.verdict, c.detail, c.time) for c in report.checks
            ),
            metrics={k: (v if math.isfinite(v) else None) for k, v in report.metrics.items()},
            digest=report.digest,
            events=report.events,
            swarm=None if report.swarm is None else _plain(report.swarm),
            replay=replay,
        )

    @classmethod
    def failed_to_run(
        cls,
        *,
        scenario: str,
        file: str,
        seed: int,
        replay: str,
        error: str | None = None,
        nondeterminism: Nondeterminism | None = None,
    ) -> RunEntry:
        return cls(
            scenario=scenario,
            file=file,
            seed=seed,
            ok=False,
            coverage_ok=True,
            plan=None,
            faults=(),
            checks=(),
            metrics={},
            digest=None,
            events=0,
            swarm=None,
            replay=replay,
            error=error,
            nondeterminism=nondeterminism,
        )


@attrs.frozen
class Journal:
    """A journal: see the module docstring and docs/cli.md."""

    tool: str
    trio: str
    python: str
    command: tuple[str, ...]
    check_determinism: bool
    shard: Shard
    scenarios: tuple[ScenarioEntry, ...]
    runs: tuple[RunEntry, ...]
    format: str = FORMAT
    version: int = VERSION

    def scenario(self, name: str) -> ScenarioEntry:
        for entry in self.scenarios:
            if entry.name == name:
                return entry
        raise KeyError(name)


def _plain(value: Any) -> Any:
    """``value`` as JSON data (mappings and sequences as dicts and lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


# -- one converter, strict about types ------------------------------------------------


def _converter() -> cattrs.Converter:
    """A converter for journals (one per use: no converter is shared)."""
    converter = cattrs.Converter()

    def strict(tp: type, test: Any, expected: str) -> None:
        def hook(value: object, _: object) -> Any:
            if not test(value):
                raise ValueError(f"expected {expected}, got {type(value).__name__} {value!r:.60}")
            return float(value) if tp is float else value  # type: ignore[arg-type]

        converter.register_structure_hook(tp, hook)

    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    strict(int, is_int, "an int")
    strict(float, lambda v: is_int(v) or isinstance(v, float), "a number")
    strict(str, lambda v: isinstance(v, str), "a string")
    strict(bool, lambda v: isinstance(v, bool), "a boolean")

    def mapping(value: object, _: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {type(value).__name__}")
        return value

    converter.register_structure_hook_func(lambda tp: tp == dict[str, Any], mapping)

    def literal(value: object, tp: Any) -> Any:
        choices = get_args(tp)
        if value in choices and isinstance(value, str):
            return value
        raise ValueError(
            f"expected one of {', '.join(map(repr, choices))}, got "
            f"{type(value).__name__} {value!r:.60}"
        )

    literal_form: Any = Literal
    converter.register_structure_hook_func(lambda tp: get_origin(tp) is literal_form, literal)
    return converter


def dumps_journal(journal: Journal) -> str:
    """The journal as JSON text: ``format`` and ``version`` first, the header
    indented, and each run on a line of its own (a journal of a thousand runs
    stays a file to grep and diff)."""
    data = _converter().unstructure(journal)
    runs = data.pop("runs")
    head = {"format": data.pop("format"), "version": data.pop("version"), **data}
    text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
    lines = ",\n".join(
        "    " + json.dumps(run, ensure_ascii=False, allow_nan=False) for run in runs
    )
    body = f"[\n{lines}\n  ]" if runs else "[]"
    return f'{text[:-2]},\n  "runs": {body}\n}}\n'


def _format(exc: BaseException, tp: Any) -> str:
    """cattrs' wording, except for the strict hooks' own (``expected an int, got ...``)."""
    if isinstance(exc, ValueError) and str(exc).startswith("expected "):
        return str(exc)
    return format_exception(exc, tp)


def _problems(exc: ClassValidationError | IterableValidationError) -> list[str]:
    lines = cattrs.transform_error(exc, path="$", format_exception=_format)
    return [" ".join(line.split()) for line in lines]


def read_journal(path: str | os.PathLike[str]) -> Journal:
    """Read and check a journal; raises :class:`JournalError` naming the file
    and each problem (unreadable, not JSON, not a journal, another version, a
    missing or mistyped key)."""
    file = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise JournalError(
            file, [exc.strerror or str(exc)], heading="cannot read the journal"
        ) from None
    not_journal = "not a chaos journal"
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise JournalError(
            file,
            [f"byte {raw[exc.start]:#04x} at offset {exc.start} is not UTF-8: a journal is JSON"],
            heading=not_journal,
        ) from None
    except json.JSONDecodeError as exc:
        raise JournalError(
            file,
            [f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"],
            heading=not_journal,
        ) from None
    except RecursionError:
        raise JournalError(
            file, ["not valid JSON: nested too deeply"], heading=not_journal
        ) from None
    if not isinstance(data, dict):
        raise JournalError(
            file,
            [f"the top level is {type(data).__name__}; a journal is a JSON object"],
            heading=not_journal,
        )
    found = data.get("format")
    if found != FORMAT:
        what = "has no 'format' key" if "format" not in data else f"has 'format': {found!r:.60}"
        raise JournalError(
            file,
            [f"the file {what}; a journal has 'format': {FORMAT!r} (run --journal writes one)"],
            heading=not_journal,
        )
    version = data.get("version")
    if version != VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            line = (
                f"journal version {version} is newer than this tool reads ({VERSION}): "
                "upgrade jido-trio to read it"
            )
        else:
            line = f"'version' is {version!r:.60}; this tool reads journal version {VERSION}"
        raise JournalError(file, [line], heading="unsupported journal")
    try:
        journal = _converter().structure(data, Journal)
    except (ClassValidationError, IterableValidationError) as exc:
        raise JournalError(file, _problems(exc), heading="invalid journal") from None
    problems = _check(journal)
    if problems:
        raise JournalError(file, problems, heading="invalid journal")
    return journal


def _check(journal: Journal) -> list[str]:
    """What cattrs cannot see: the journal's parts agree with each other."""
    problems = []
    if not 0 <= journal.shard.index < journal.shard.count:
        problems.append(f"shard {journal.shard} is not K/N with 0 <= K < N @ $.shard")
    names = [s.name for s in journal.scenarios]
    for i, entry in enumerate(journal.scenarios):
        start, stop = entry.seeds
        if not 0 <= start < stop:
            problems.append(f"seeds {start}:{stop} hold no seed @ $.scenarios[{i}].seeds")
        if names.index(entry.name) != i:
            problems.append(f"scenario {entry.name!r} is listed twice @ $.scenarios[{i}].name")
    for i, run in enumerate(journal.runs):
        if run.scenario not in names:
            problems.append(
                f"run of scenario {run.scenario!r}, which $.scenarios does not list "
                f"@ $.runs[{i}].scenario"
            )
        made = run.error is None and run.nondeterminism is None
        if made and (run.plan is None or not run.digest):
            problems.append(f"a run without an error needs its plan and digest @ $.runs[{i}]")
    return problems


# -- verdicts over many runs ---------------------------------------------------------


@attrs.define
class CheckTally:
    """One check's verdicts over the runs of a scenario."""

    name: str
    kind: str
    passed: int = 0
    failed: int = 0
    unknown: int = 0

    @property
    def judged(self) -> int:
        return self.passed + self.failed + self.unknown

    @property
    def never_held(self) -> bool:
        """A ``sometimes`` check that failed and held in no run (runs where it
        could not be judged aside): a coverage failure."""
        return self.kind == "sometimes" and self.failed > 0 and self.passed == 0

    @property
    def bad(self) -> bool:
        """This check makes the exit code 1."""
        return self.never_held if self.kind == "sometimes" else self.failed > 0


@attrs.define
class ScenarioSummary:
    """The runs of one scenario, and each check's tally."""

    entry: ScenarioEntry
    runs: int = 0
    failed: int = 0
    errors: int = 0
    nondeterministic: int = 0
    checks: dict[str, CheckTally] = attrs.Factory(dict)

    @property
    def ok(self) -> bool:
        return not (
            self.failed
            or self.errors
            or self.nondeterministic
            or any(t.bad for t in self.checks.values())
        )


@attrs.define
class Summary:
    """Every scenario's summary, the failing runs, and the exit code they make."""

    scenarios: list[ScenarioSummary]
    failing: list[RunEntry]

    @property
    def runs(self) -> int:
        return sum(s.runs for s in self.scenarios)

    @property
    def exit_code(self) -> int:
        """3 if a run was not deterministic, else 2 if a run could not be made,
        else 1 if a check failed (a sometimes check: if it held in no run), else 0."""
        if any(s.nondeterministic for s in self.scenarios):
            return 3
        if any(s.errors for s in self.scenarios):
            return 2
        if any(not s.ok for s in self.scenarios):
            return 1
        return 0

    def never_held(self, scenario: str) -> frozenset[str]:
        """The sometimes checks of ``scenario`` that failed in every run."""
        for summary in self.scenarios:
            if summary.entry.name == scenario:
                return frozenset(t.name for t in summary.checks.values() if t.never_held)
        return frozenset()


def summarize(scenarios: Iterable[ScenarioEntry], runs: Iterable[RunEntry]) -> Summary:
    """Tally ``runs`` (in order) by scenario and check."""
    by_name = {s.name: ScenarioSummary(s) for s in scenarios}
    failing: list[RunEntry] = []
    for run in runs:
        summary = by_name[run.scenario]
        summary.runs += 1
        if run.nondeterminism is not None:
            summary.nondeterministic += 1
        elif run.error is not None:
            summary.errors += 1
        elif not run.ok:
            summary.failed += 1
        if not run.ok:
            failing.append(run)
        for check in run.checks:
            tally = summary.checks.get(check.name)
            if tally is None:
                tally = summary.checks[check.name] = CheckTally(check.name, check.kind)
            if check.verdict == "pass":
                tally.passed += 1
            elif check.verdict == "fail":
                tally.failed += 1
            else:
                tally.unknown += 1
    return Summary(list(by_name.values()), failing)
