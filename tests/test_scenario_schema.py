"""The JSON Schema of the scenario format (``chaos.scenario_schema()``): a
valid draft 2020-12 schema that accepts every bundled scenario and every
starter, and rejects the typical mistakes the loader reports, at the same
place. Needs the ``jsonschema`` package (skipped without it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from docs_examples import EXAMPLES_DIR

import chaos

jsonschema = pytest.importorskip("jsonschema")

DEMAND = EXAMPLES_DIR / "chaos_demand_tracker.yaml"
BUNDLED = [
    DEMAND,
    EXAMPLES_DIR / "chaos_pipeline_storm.yaml",
    EXAMPLES_DIR / "chaos_partition.yaml",
    EXAMPLES_DIR / "planted_bug.yaml",
]


def schema_errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(chaos.scenario_schema())
    return sorted(
        "/".join(map(str, error.absolute_path)) for error in validator.iter_errors(document)
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    """scenario_schema() is itself valid, and says which draft it is."""
    schema = chaos.scenario_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "name", "system"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_schema_accepts_the_bundled_scenarios(path: Path) -> None:
    """Every bundled scenario is valid under the schema."""
    assert schema_errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("system", [None, "demand_tracker:DEMAND_TRACKER", "orchestrator"])
def test_schema_accepts_the_starters(system: str | None) -> None:
    """What new_scenario() writes is valid under the schema."""
    text = chaos.new_scenario(system, directory=EXAMPLES_DIR)
    assert schema_errors(yaml.safe_load(text)) == []


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The demand-tracker scenario with one value changed (``None``: removed)."""
    document: dict[str, Any] = yaml.safe_load(DEMAND.read_text(encoding="utf-8"))
    *parents, last = path.split("/")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is None:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("version", 2, "version"),
        ("name", None, ""),
        ("quiet_priod", "5s", ""),
        ("duration", "1 sec", "duration"),
        ("duration", 0, "duration"),
        ("clock", "fast", "clock"),
        ("system/strategy", "rest_for_two", "system/strategy"),
        ("system/children/0/agent", "demand_tracker", "system/children/0"),
        ("system/children/0/mailbox_size", "big", "system/children/0"),
        ("workload/0/cast", "tracker", "workload/0"),
        ("workload/0/every", "1 sec", "workload/0/every"),
        ("faults/0/kind", "explode", "faults/0"),
        ("faults/0/tagret", "root/tracker", "faults/0"),
        ("faults/3/probability", 2, "faults/3"),
        ("checks/always/0", "no_such_check", "checks/always/0"),
        ("checks/disable", ["fifo"], "checks/disable/0"),
        ("checks/bounds/0/max", None, "checks/bounds/0"),
    ],
)
def test_schema_rejects_typical_mistakes(path: str, value: Any, where: str) -> None:
    """The schema rejects the mistakes the loader reports, at the same place."""
    assert where in schema_errors(with_change(path, value))
