"""JUnit XML for CI systems: one ``<testsuite>`` per scenario and seed
(``name="<scenario>[seed=N]"``), one ``<testcase>`` per check
(``classname=<scenario>``, ``name=<check>``), with the seed, the trace digest,
the concrete plan (JSON) and the replay command as ``<properties>``.

A failed always/eventually/bound check is a ``<failure>`` carrying its detail
and the replay command; an ``unknown`` verdict is ``<skipped>``; a
``sometimes`` check is a ``<failure>`` only where it held in no run of its
scenario (coverage is judged over the seeds), else a miss is ``<skipped>``. A
run that could not be made is one ``<testcase name="run">`` with an
``<error>``; with ``--check-determinism`` each suite has a ``determinism``
testcase, a ``<failure>`` where the two runs differed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Final

from ._journal import RunEntry, Summary

__all__ = ["junit_xml"]

#: Characters XML 1.0 cannot hold (a corrupted message may put them in a detail).
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _suite(run: RunEntry, summary: Summary, *, determinism: bool) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(f"{run.scenario}[seed={run.seed}]"))
    properties = ET.SubElement(suite, "properties")
    props: list[tuple[str, str]] = [
        ("scenario", run.scenario),
        ("file", run.file),
        ("seed", str(run.seed)),
        ("digest", run.digest or ""),
        ("plan", "" if run.plan is None else json.dumps(run.plan, sort_keys=True)),
        ("replay", run.replay),
    ]
    for name, value in props:
        ET.SubElement(properties, "property", name=name, value=_text(value))
    never_held = summary.never_held(run.scenario)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def case(name: str) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=_text(run.scenario), name=_text(name))

    def fail(element: ET.Element, tag: str, message: str, kind: str) -> None:
        counts["failures" if tag == "failure" else "errors"] += 1
        node = ET.SubElement(element, tag, message=_text(message), type=kind)
        node.text = _text(f"{message}\n\nreplay: {run.replay}")

    if determinism:
        testcase = case("determinism")
        if run.nondeterminism is not None:
            nd = run.nondeterminism
            fail(
                testcase,
                "failure",
                f"the same seed gave two different runs: event #{nd.index} differs: "
                f"first run: {nd.first or '<trace ended>'}; "
                f"second run: {nd.second or '<trace ended>'}",
                "nondeterminism",
            )
    if run.error is not None:
        fail(case("run"), "error", run.error, "error")
    for check in run.checks:
        testcase = case(check.name)
        coverage = check.kind == "sometimes" and check.name not in never_held
        if check.verdict == "fail" and not coverage:
            fail(testcase, "failure", check.detail or "failed", check.kind)
        elif check.verdict == "fail":
            counts["skipped"] += 1
            ET.SubElement(
                testcase,
                "skipped",
                message=_text(
                    f"not reached with this seed (sometimes: it held with another): {check.detail}"
                ),
            )
        elif check.verdict == "unknown":
            counts["skipped"] += 1
            ET.SubElement(testcase, "skipped", message=_text(check.detail or "could not be judged"))
    for key, count in counts.items():
        suite.set(key, str(count))
    return suite


def junit_xml(runs: Sequence[RunEntry], summary: Summary, *, determinism: bool = False) -> bytes:
    """The JUnit XML document (UTF-8) for ``runs``, in their order."""
    root = ET.Element("testsuites", name="chaos")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in runs:
        suite = _suite(run, summary, determinism=determinism)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
