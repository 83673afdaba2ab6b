"""docs/agents.md cannot rot: every ```python block runs as a program, and prints
exactly the ```text block that follows it. Fragments marked ```python no-run are
skipped, and kept few."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "agents.md"
_BLOCK = re.compile(r"```python\n(?P<code>.*?)```\s*(?:```text\n(?P<out>.*?)```)?", re.DOTALL)
TEXT = DOC.read_text(encoding="utf-8")


def _examples() -> list[tuple[int, str, str | None]]:
    return [
        (TEXT.count("\n", 0, m.start()) + 2, m["code"], m["out"]) for m in _BLOCK.finditer(TEXT)
    ]


EXAMPLES = _examples()


def test_the_page_has_examples_with_expected_output() -> None:
    """The page holds 18 runnable examples, each followed by its output, and one fragment."""
    assert len(EXAMPLES) == 18
    assert [out is not None for _, _, out in EXAMPLES] == [True] * 18
    assert TEXT.count("```python no-run\n") == 1
    # every python fence is either runnable or an explicit no-run fragment
    assert TEXT.count("```python") == len(EXAMPLES) + 1


def test_the_page_covers_every_part_of_the_runtime() -> None:
    """Each topic the page promises has its section."""
    headings = re.findall(r"^##+ (.+)$", TEXT, re.MULTILINE)
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
        assert f'| `"{reason}"` |' in TEXT, reason


@pytest.mark.parametrize(
    ("line", "code", "expected"), EXAMPLES, ids=[f"line{line}" for line, _, _ in EXAMPLES]
)
def test_example_runs_and_prints_its_output(
    line: int, code: str, expected: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as a program (its own trio.run) and prints exactly what the page says."""
    # dont_inherit: the example must not run under this module's __future__ imports
    compiled = compile("\n" * (line - 1) + code, str(DOC), "exec", dont_inherit=True)
    exec(compiled, {"__name__": "__main__"})
    assert capsys.readouterr().out == expected
