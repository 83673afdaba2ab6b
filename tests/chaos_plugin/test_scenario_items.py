"""Scenario files collected as pytest items by chaos's plugin, run in-process
with ``pytester``: one item per scenario and seed, ``--chaos-seeds A:B``, the
``chaos_scenarios`` ini patterns, a failing scenario's report and replay
command, a broken file's collection error (no traceback) and JUnit
properties."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project holding the bundled demand-tracker and ledger examples."""
    monkeypatch.delenv("CHAOS_SEED", raising=False)
    for name in ["demand_tracker", "demand_checks", "ledger"]:
        (pytester.path / f"{name}.py").write_text((EXAMPLES / f"{name}.py").read_text())
        # other tests import the originals: the project imports its own copies
        monkeypatch.delitem(sys.modules, name, raising=False)
    (pytester.path / "chaos_demand.yaml").write_text(
        (EXAMPLES / "chaos_demand_tracker.yaml").read_text()
    )
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def add_planted(pytester: pytest.Pytester, name: str = "chaos_planted.yaml") -> None:
    (pytester.path / name).write_text((EXAMPLES / "planted_bug.yaml").read_text())


def test_a_scenario_file_is_one_item_at_its_own_seed(project: pytest.Pytester) -> None:
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["chaos_demand.yaml::demand-tracker-survives[[]seed=42[]]"])
    result = run(project, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*chaos_demand.yaml::*seed=42* PASSED*"])


def test_chaos_seeds_runs_a_range_of_seeds(project: pytest.Pytester) -> None:
    result = run(project, "-v", "--chaos-seeds", "5:8")
    result.assert_outcomes(passed=3)
    for seed in (5, 6, 7):
        result.stdout.fnmatch_lines([f"*[[]seed={seed}[]] PASSED*"])


@pytest.mark.parametrize("value", ["5", "8:5", "a:b", "-1:3", "3:3"])
def test_a_bad_seed_range_is_a_usage_error(project: pytest.Pytester, value: str) -> None:
    result = run(project, f"--chaos-seeds={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--chaos-seeds*{value!r} is not valid; expected A:B*"])


def test_a_failing_scenario_shows_its_report_and_the_replay_command(
    project: pytest.Pytester,
) -> None:
    add_planted(project)
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "each order booked once" in output
    result.stdout.fnmatch_lines(["replay: python -m chaos run chaos_planted.yaml --seed 3"])
    assert "Traceback" not in output
    assert "_pytest_plugin.py" not in output


def test_a_broken_scenario_file_is_a_collection_error_without_traceback(
    project: pytest.Pytester,
) -> None:
    (project.path / "chaos_broken.yaml").write_text(
        "version: 1\nname: broken\nduration: 10s\n"
        "system:\n  children:\n    - agent: nowhere:AGENT\n"
    )
    result = run(project)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str()
    assert "chaos_broken.yaml" in output
    assert "nowhere" in output
    assert "Traceback" not in output
    assert "_pytest_plugin.py" not in output


def test_the_ini_option_chooses_which_files_are_scenarios(project: pytest.Pytester) -> None:
    add_planted(project, "reliability.yaml")
    project.makeini("[pytest]\nchaos_scenarios = reliability.yaml\n")
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["reliability.yaml::ledger-planted-bug[[]seed=3[]]"])
    assert "chaos_demand.yaml" not in result.stdout.str()


def test_junit_records_the_seed_digest_and_plan(project: pytest.Pytester) -> None:
    run(project, "--junitxml", "junit.xml").assert_outcomes(passed=1)
    tree = ET.parse(project.path / "junit.xml")
    [case] = tree.iter("testcase")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["seed"] == "42"
    assert len(properties["digest"] or "") >= 16
    assert '"kind"' in (properties["plan"] or "")


def test_the_same_seed_gives_the_same_digest(project: pytest.Pytester) -> None:
    digests: list[str | None] = []
    for _ in range(2):
        run(project, "--junitxml", "junit.xml").assert_outcomes(passed=1)
        [case] = ET.parse(project.path / "junit.xml").iter("testcase")
        digests.extend(p.get("value") for p in case.iter("property") if p.get("name") == "digest")
    assert len(digests) == 2
    assert digests[0] == digests[1]
