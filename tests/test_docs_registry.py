"""docs/registry.md cannot rot: every ```python block runs, and prints exactly
the ```text block that follows it."""

from __future__ import annotations

import pytest
from docs_examples import DOCS, Example, doc_examples, parametrize_examples, run_example

DOC = DOCS / "registry.md"
EXAMPLES = doc_examples(DOC)


def test_the_page_has_examples_with_expected_output() -> None:
    """The page holds six examples, each followed by its expected output."""
    assert len(EXAMPLES) == 6
    assert [example.output is not None for example in EXAMPLES] == [True] * 6


@parametrize_examples(EXAMPLES)
def test_example_runs_and_prints_its_output(
    example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example runs as a program (its own trio.run) and prints exactly what the page says."""
    run_example(DOC, example)
    assert capsys.readouterr().out == example.output
