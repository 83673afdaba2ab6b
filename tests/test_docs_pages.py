"""Checks of the documentation's text, beside the blocks that test_docs.py runs:
every repository file a page names exists; the README's structure and links (and
that CI runs the test command it gives); docs/agents.md covers every part of the
runtime."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_examples import DOCS, ROOT, pages, parse_page

README = ROOT / "README.md"
README_TEXT = README.read_text(encoding="utf-8")
AGENTS_TEXT = (DOCS / "agents.md").read_text(encoding="utf-8")
DOC_PAGES = [page for page in pages() if page != README]
#: The comment line of .ci/run right above the README's test command.
CI_MARKER = "# --- the README's test command, verbatim (keep in sync with README.md) ---"

# -- every page ----------------------------------------------------------------------

# a repository file named in backticks: `tests/test_docs.py`, `jido_trio/_server.py`
_FILE = re.compile(r"`((?:tests|docs|benchmarks|jido_trio|chaos)/[\w/.-]+\.(?:py|md))`")


@pytest.mark.parametrize("page", pages(), ids=[page.name for page in pages()])
def test_page_names_only_files_that_exist(page: Path) -> None:
    """Every repository file a page names in backticks (a test, a module, an
    example) exists, so a page does not send its reader to a deleted file."""
    lines = page.read_text(encoding="utf-8").splitlines()
    missing = [
        f"{page.relative_to(ROOT)}:{n}: {name} does not exist"
        for n, line in enumerate(lines, 1)
        for name in _FILE.findall(line)
        if not (ROOT / name).is_file()
    ]
    if missing:
        pytest.fail("\n".join(missing), False)


def test_pages_name_repository_files() -> None:
    """The file-name pattern finds the files the pages do name (guards the test above)."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages())
    assert {"docs/examples/orchestrator.py", "jido_trio/_supervisor.py"} <= set(_FILE.findall(text))


# -- README.md ---------------------------------------------------------------------


def _documentation_section() -> str:
    return README_TEXT[README_TEXT.index("\n## Documentation\n") :]


def test_readme_has_its_sections_in_order() -> None:
    """Quick start comes first, then Pure agents, Supervised agents, Chaos and Documentation."""
    headings = re.findall(r"^## (.+)$", README_TEXT, re.MULTILINE)
    assert headings == [
        "Quick start",
        "Pure agents",
        "Supervised agents",
        "Chaos, from Python",
        "Documentation",
    ]


@pytest.mark.parametrize("page", DOC_PAGES, ids=[page.name for page in DOC_PAGES])
def test_documentation_links_the_page(page: Path) -> None:
    """The README's Documentation section links every docs/*.md page (a new page too)."""
    assert f"](docs/{page.name})" in _documentation_section()


def test_every_docs_link_resolves() -> None:
    """Every docs/ link in the README points at a file or directory that exists."""
    links = re.findall(r"\]\((docs/[^)]+)\)", README_TEXT)
    assert "docs/examples/" in links
    assert [link for link in links if not (ROOT / link).exists()] == []


def test_ci_runs_the_readme_test_command_first() -> None:
    """The README's quick-start test command (its second ```sh block) is, verbatim,
    the line after .ci/run's marker comment, and nothing installs or tests before it."""
    quick_start = README_TEXT[: README_TEXT.index("\n## Pure agents\n")]
    shells = [fence.body for fence in parse_page(README).fences if fence.info == "sh"]
    assert len(shells) >= 2
    assert shells[1] in quick_start
    (readme_command,) = shells[1].splitlines()
    assert "pytest" in readme_command
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = ci_lines.index(CI_MARKER)
    assert ci_lines[marker + 1] == readme_command
    before = [line for line in ci_lines[:marker] if not line.lstrip().startswith("#")]
    assert [line for line in before if re.search(r"\b(pip|pytest)\b", line)] == []


# -- docs/agents.md ----------------------------------------------------------------


def test_agents_page_covers_every_part_of_the_runtime() -> None:
    """Each topic docs/agents.md promises has its section, and every dead-letter
    reason its row."""
    headings = re.findall(r"^##+ (.+)$", AGENTS_TEXT, re.MULTILINE)
    for heading in [
        "The model",
        "Actions",
        "Signals",
        "Routes",
        "Directives",
        "The AgentServer",
        "What happens at a crash",
        "Dead letters",
        "Persistence",
        "Schedules and timers",
        "Registry and bus",
        "Interceptors",
        "Telemetry",
    ]:
        assert heading in headings, heading
    for reason in [
        "unroutable",
        "invalid_params",
        "unknown_action",
        "action_failed",
        "crashed",
        "agent_stopped",
        "dropped",
        "mailbox_full",
        "no_such_agent",
    ]:
        assert f'| `"{reason}"` |' in AGENTS_TEXT, reason


def test_the_readme_main_job_runs_a_bundled_scenario_that_passes() -> None:
    """The quick start's first command installs the package and runs a bundled chaos
    scenario; that run (here, with this interpreter) exits 0."""
    first = re.search(r"^```sh\n(?P<cmd>.+)\n```", README_TEXT, re.MULTILINE)
    assert first is not None
    install, _, main = first["cmd"].rpartition(" && ")
    assert install == "python3 -m venv .venv && .venv/bin/python -m pip install -q ."
    prefix = ".venv/bin/python -m chaos run "
    assert main.startswith(prefix)
    scenario = ROOT / main.removeprefix(prefix)
    assert scenario.is_file()
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every check held" in done.stdout
