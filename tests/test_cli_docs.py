"""docs/cli.md and docs/ci.md cannot rot: every ```console transcript is run.

A transcript is ``$ python -m chaos ...`` lines, each followed by what it
prints (standard output, then standard error); ``$ echo $?`` prints the exit
code of the command before it. The commands run in-process
(``chaos._cli.main``), in order across the page, in a fresh directory where
``docs`` leads to the repository's docs/ (so paths read as they do from the
repository's root, and files the commands write stay out of it). Wall-clock
times and rates are the only text not compared. Commands shown without their
output are ```sh blocks, not run.

The GitHub Actions workflow of docs/ci.md is checked for what the page
promises: sharded runs, artifacts, and a merge job.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from docs_examples import DOCS, ROOT, parse_page

from chaos._cli import main

PAGES = [DOCS / "cli.md", DOCS / "ci.md"]

_TIMES = [
    (re.compile(r"in \d+\.\d+s \([\d.]+ runs/s\)"), "in <time>s (<rate> runs/s)"),
    (re.compile(r"[\d.]+ runs/s, ETA \d+s"), "<rate> runs/s, ETA <eta>s"),
]


def _normal(text: str) -> str:
    for pattern, placeholder in _TIMES:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _transcripts(page: Path) -> list[tuple[int, list[tuple[str, str]]]]:
    """Each console block of ``page``: its line, and its (command, shown output) pairs."""
    found = []
    for fence in parse_page(page).fences:
        if fence.info != "console":
            continue
        steps: list[tuple[str, list[str]]] = []
        for line in fence.body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"{page.name}:{fence.line}: output before any command"
                steps[-1][1].append(line)
        found.append((fence.line, [(cmd, "\n".join(out)) for cmd, out in steps]))
    return found


def test_pages_have_transcripts() -> None:
    """The parser finds the pages' transcripts (guards the test below against running none)."""
    commands = [cmd for _, steps in _transcripts(DOCS / "cli.md") for cmd, _ in steps]
    assert len(commands) >= 12
    assert {"run", "replay", "shrink", "merge", "validate", "schema", "new"} <= {
        shlex.split(cmd)[3] for cmd in commands if cmd.startswith("python -m chaos ")
    }


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_transcripts_print_what_the_page_shows(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each ``$ python -m chaos`` line of the page prints what follows it, and
    ``$ echo $?`` its exit code."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    monkeypatch.chdir(tmp_path)
    code: int | None = None
    wrong = []
    for line, steps in _transcripts(page):
        for command, shown in steps:
            if command == "echo $?":
                actual = str(code)
            else:
                argv = shlex.split(command)
                assert argv[:3] == ["python", "-m", "chaos"], f"{page.name}:{line}: {command}"
                capsys.readouterr()
                code = main(argv[3:])
                out, err = capsys.readouterr()
                actual = out + err
            if _normal(actual) != _normal(shown):
                wrong.append(f"{page.name}:{line}: $ {command}\n{actual}")
    if wrong:
        pytest.fail("these commands print something else now:\n\n" + "\n".join(wrong), False)


def test_ci_workflow_shards_uploads_and_merges() -> None:
    """docs/ci.md's workflow: a matrix of N shards each running --shard K/N with a
    journal and JUnit file, artifacts uploaded, and a job that merges them."""
    text = (DOCS / "ci.md").read_text(encoding="utf-8")
    blocks = [f.body for f in parse_page(DOCS / "ci.md").fences if f.info == "yaml"]
    workflow = yaml.safe_load(next(b for b in blocks if "jobs:" in b))
    jobs = workflow["jobs"]
    shards = jobs["chaos"]["strategy"]["matrix"]["shard"]
    count = len(shards)
    assert shards == list(range(count))
    steps = jobs["chaos"]["steps"]
    run = next(s["run"] for s in steps if "python -m chaos run" in s.get("run", ""))
    assert f"--shard ${{{{ matrix.shard }}}}/{count}" in run
    for option in ("--journal", "--junit", "--seeds 0:1000"):
        assert option in run
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    merge = jobs["merge"]
    assert merge["needs"] == "chaos"
    assert any(s.get("uses", "").startswith("actions/download-artifact@") for s in merge["steps"])
    assert any("python -m chaos merge" in s.get("run", "") for s in merge["steps"])
    assert "--shard $JOB_COMPLETION_INDEX/" in text
