"""docs/scenarios.md cannot rot (its ```python blocks are run by
tests/test_docs.py): the shrunk regression file it shows is what
``with_plan(...).to_yaml()`` writes for the planted bug, and the page names
every key of the format and every metric a bound can use."""

from __future__ import annotations

import re

from docs_examples import DOCS, EXAMPLES_DIR

import chaos
from chaos import FaultPlan

DOC = DOCS / "scenarios.md"
TEXT = DOC.read_text(encoding="utf-8")


def test_the_shrunk_regression_file_is_current() -> None:
    """The page's minimal plan of planted_bug.yaml is what to_yaml() writes for
    it, and that file still fails on the planted bug."""
    match = re.search(
        r"<!-- the minimal plan of planted_bug\.yaml[^>]*-->\n```yaml\n(?P<yaml>.*?)```",
        TEXT,
        re.DOTALL,
    )
    assert match is not None
    scenario = chaos.load_scenario(EXAMPLES_DIR / "planted_bug.yaml")
    duplicate = FaultPlan(tuple(f for f in scenario.plan.faults if isinstance(f, chaos.Duplicate)))
    written = scenario.with_plan(duplicate).to_yaml(
        comment="planted_bug.yaml, shrunk to the one fault that fails it"
    )
    assert match["yaml"] == written
    report = chaos.loads_scenario(written, path=EXAMPLES_DIR / "minimal.yaml").run()
    assert [c.name for c in report.failures] == ["each order booked once", "books balance"]


def test_every_key_and_metric_is_documented() -> None:
    """The reference names every top-level key, fault kind, built-in check and metric."""
    keys = [
        "version",
        "name",
        "description",
        "seed",
        "duration",
        "quiet_period",
        "clock",
        "swarm",
        "pythonpath",
        "system",
        "workload",
        "faults",
        "checks",
    ]
    for word in [*keys, *chaos.FAULT_KINDS, *chaos.BUILTIN_CHECKS]:
        assert f"`{word}`" in TEXT, word
    for metric in chaos._scenario.METRICS:
        assert f"`{metric}`" in TEXT, metric
