"""README.md cannot rot: every ```python block runs as a program and prints
exactly the ```text block that follows it, and every page it links exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
_BLOCK = re.compile(r"```python\n(?P<code>.*?)```\s*(?:```text\n(?P<out>.*?)```)?", re.DOTALL)

EXAMPLES = [
    (TEXT.count("\n", 0, m.start()) + 2, m["code"], m["out"]) for m in _BLOCK.finditer(TEXT)
]


def test_readme_has_its_sections_in_order() -> None:
    """Quick start comes first, then Pure agents, Supervised agents and Documentation."""
    headings = re.findall(r"^## (.+)$", TEXT, re.MULTILINE)
    assert headings[:4] == ["Quick start", "Pure agents", "Supervised agents", "Documentation"]


def test_readme_examples_have_expected_output() -> None:
    """The README holds two python examples, each followed by its output."""
    assert len(EXAMPLES) == 2
    assert all(out is not None for _, _, out in EXAMPLES)


PAGES = [
    "supervision.md",
    "agents.md",
    "registry.md",
    "telemetry.md",
    "design.md",
    "performance.md",
]
#: Linked before they are written, by their owners; skipped (visibly) until then.
PENDING = {"performance.md"}


@pytest.mark.parametrize("page", PAGES)
def test_documentation_lists_the_page(page: str) -> None:
    """The Documentation section links the page, and the page exists."""
    section = TEXT[TEXT.index("## Documentation") :]
    assert f"](docs/{page})" in section
    if page in PENDING and not (ROOT / "docs" / page).exists():
        pytest.skip(f"docs/{page} is not written yet")
    assert (ROOT / "docs" / page).is_file()


def test_every_docs_link_resolves() -> None:
    """Every other docs/ link in the README points at a file or directory that exists."""
    links = re.findall(r"\]\((docs/[^)]+)\)", TEXT)
    missing = [link for link in links if not (ROOT / link).exists() and link[5:] not in PENDING]
    assert links
    assert missing == []


@pytest.mark.parametrize(
    ("line", "code", "expected"), EXAMPLES, ids=[f"line{line}" for line, _, _ in EXAMPLES]
)
def test_example_runs_and_prints_its_output(
    line: int, code: str, expected: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as a program and prints exactly what the README says."""
    compiled = compile("\n" * (line - 1) + code, str(README), "exec", dont_inherit=True)
    exec(compiled, {"__name__": "__main__"})
    assert capsys.readouterr().out == expected
