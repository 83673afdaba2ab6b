"""docs/registry.md cannot rot: every ```python block runs, and prints exactly
the ```text block that follows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "registry.md"
_BLOCK = re.compile(r"```python\n(?P<code>.*?)```\s*(?:```text\n(?P<out>.*?)```)?", re.DOTALL)


def _examples() -> list[tuple[int, str, str | None]]:
    text = DOC.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 2, m["code"], m["out"]) for m in _BLOCK.finditer(text)
    ]


EXAMPLES = _examples()


def test_the_page_has_examples_with_expected_output() -> None:
    """The page holds six examples, each followed by its expected output."""
    assert len(EXAMPLES) == 6
    assert [out is not None for _, _, out in EXAMPLES] == [True] * 6


@pytest.mark.parametrize(
    ("line", "code", "expected"), EXAMPLES, ids=[f"line{line}" for line, _, _ in EXAMPLES]
)
def test_example_runs_and_prints_its_output(
    line: int, code: str, expected: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as a program (its own trio.run) and prints exactly what the page says."""
    compiled = compile("\n" * (line - 1) + code, str(DOC), "exec")
    exec(compiled, {"__name__": "__main__"})
    assert capsys.readouterr().out == expected
