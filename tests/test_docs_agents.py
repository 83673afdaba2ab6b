"""docs/agents.md cannot rot: every ```python block runs as a program, and prints
exactly the ```text block that follows it. Fragments marked ```python no-run are
skipped, and kept few."""

from __future__ import annotations

import re

import pytest
from docs_examples import DOCS, Example, doc_examples, parametrize_examples, run_example

DOC = DOCS / "agents.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = doc_examples(DOC)


def test_the_page_has_examples_with_expected_output() -> None:
    """The page holds 19 runnable examples, each followed by its output, and one fragment."""
    assert len(EXAMPLES) == 19
    assert [example.output is not None for example in EXAMPLES] == [True] * 19
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


@parametrize_examples(EXAMPLES)
def test_example_runs_and_prints_its_output(
    example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as a program (its own trio.run) and prints exactly what the page says."""
    run_example(DOC, example)
    assert capsys.readouterr().out == example.output
