"""docs/supervision.md cannot rot: every ```python block runs as a program and
prints exactly the ```text block that follows it (nothing, if none follows).

A block meant as a fragment is fenced ```python no-run and is not run; there
should be few. The helpers live in ``tests/docs_examples.py``.
"""

from __future__ import annotations

import pytest
from docs_examples import (
    DOCS,
    Example,
    doc_examples,
    parametrize_examples,
    python_fences,
    run_example,
)

DOC = DOCS / "supervision.md"
EXAMPLES = doc_examples(DOC)


def test_every_python_block_runs_or_is_marked_no_run() -> None:
    """A python fence is either runnable (and found) or explicitly ``no-run``; few are."""
    infos = python_fences(DOC)
    assert set(infos) <= {"", " no-run"}, infos
    assert infos.count("") == len(EXAMPLES)
    assert infos.count(" no-run") <= 2
    assert len(EXAMPLES) >= 12  # every section with an example is picked up


@parametrize_examples(EXAMPLES)
def test_example_prints_its_output(example: Example, capsys: pytest.CaptureFixture[str]) -> None:
    """The example runs to completion and prints exactly what the page shows (nothing,
    if no ```text block follows it)."""
    run_example(DOC, example)
    assert capsys.readouterr().out == (example.output or "")
