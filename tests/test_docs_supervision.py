"""docs/supervision.md cannot rot: every ```python block runs as a program and
prints exactly the ```text block that follows it (nothing, if none follows).

A block meant as a fragment is fenced ```python no-run and is not run; there
should be few. ``tests/test_docs_telemetry.py`` uses the same helpers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "supervision.md"

_FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n", re.MULTILINE)
_EXAMPLE = re.compile(
    r"^```python\n(?P<code>.*?)^```\n(?:\s*^```text\n(?P<out>.*?)^```$)?",
    re.DOTALL | re.MULTILINE,
)


def python_fences(doc: Path) -> list[str]:
    """The info string after ```python of every python fence (``""`` or ``" no-run"``)."""
    return [m["info"] for m in _FENCE.finditer(doc.read_text(encoding="utf-8"))]


def doc_examples(doc: Path) -> list[tuple[int, str, str]]:
    """Each runnable example: (line of its first code line, code, expected output)."""
    text = doc.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m["code"], m["out"] or "")
        for m in _EXAMPLE.finditer(text)
    ]


def run_example(doc: Path, line: int, code: str) -> None:
    """Run ``code`` as a fresh ``__main__`` program; tracebacks point into ``doc``."""
    compiled = compile("\n" * (line - 1) + code, str(doc), "exec")
    exec(compiled, {"__name__": "__main__"})


EXAMPLES = doc_examples(DOC)


def test_every_python_block_runs_or_is_marked_no_run() -> None:
    """A python fence is either runnable (and found) or explicitly ``no-run``; few are."""
    infos = python_fences(DOC)
    assert set(infos) <= {"", " no-run"}, infos
    assert infos.count("") == len(EXAMPLES)
    assert infos.count(" no-run") <= 2
    assert len(EXAMPLES) >= 12  # every section with an example is picked up


@pytest.mark.parametrize(
    ("line", "code", "expected"), EXAMPLES, ids=[f"line{line}" for line, _, _ in EXAMPLES]
)
def test_example_prints_its_output(
    line: int, code: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs to completion and prints exactly what the page shows."""
    run_example(DOC, line, code)
    assert capsys.readouterr().out == expected
