"""docs/telemetry.md's event catalogue (and the one in docs/supervision.md) names
exactly the events jido_trio emits, with exactly the ``data`` keys they carry.
(Its examples run in test_docs.py, with every page's.)"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from docs_examples import DOCS

import jido_trio
from jido_trio import (
    ActionResult,
    AgentDef,
    ChildSpec,
    Emit,
    NoParams,
    RestartIntensityError,
    Signal,
    TelemetryEvent,
    action,
)
from jido_trio._telemetry import EVENT_NAMES

DOC = DOCS / "telemetry.md"

# a catalogue row: | `event.name` | ... | keys |
_ROW = re.compile(r"^\| `(?P<name>[a-z_]+\.[a-z_.]+)` \|.*\| (?P<keys>[^|]*) \|$", re.MULTILINE)
_KEY = re.compile(r"`([a-z_]+)`")


def catalogue(doc: Path) -> dict[str, set[str]]:
    """Event name -> documented ``data`` keys, from the tables of ``doc``."""
    text = doc.read_text(encoding="utf-8")
    return {m["name"]: set(_KEY.findall(m["keys"])) for m in _ROW.finditer(text)}


def test_catalogue_names_every_event() -> None:
    """The catalogue lists exactly ``EVENT_NAMES``; supervision.md lists the
    supervisor and child ones."""
    assert set(catalogue(DOC)) == EVENT_NAMES
    supervision = catalogue(DOCS / "supervision.md")
    assert set(supervision) == {n for n in EVENT_NAMES if n.startswith(("supervisor.", "child."))}


# -- a run that emits every event ---------------------------------------------------


@attrs.frozen
class Count:
    n: int = 0


@action("inc")
def inc(state: Count, params: NoParams) -> ActionResult[Count]:
    return ActionResult(Count(state.n + 1), directives=[Emit("count.changed", to="nobody")])


COUNTER: AgentDef[Count] = AgentDef("counter", Count, [inc], routes={"count.inc": "inc"})


async def _fails_on_restart(*, task_status: trio.TaskStatus[None]) -> None:
    if jido_trio.current_child().restarts:
        raise OSError("cannot start again")
    task_status.started()
    await trio.sleep(1)
    raise ValueError("crash")


async def _emit_everything() -> list[TelemetryEvent]:
    events: list[TelemetryEvent] = []
    with jido_trio.attach_telemetry(events.append):
        # supervisor.* and child.*: a crash, a restart that fails, escalation
        with pytest.raises(RestartIntensityError):
            async with jido_trio.open_supervisor(
                [ChildSpec("w", _fails_on_restart)], max_restarts=1
            ):
                pass
        # agent.*: a call whose Emit cannot be delivered, and an unroutable cast
        async with jido_trio.open_supervisor() as sup:
            ref = await sup.start_child(jido_trio.agent_spec("counter", COUNTER))
            await ref.call(Signal("count.inc"))
            await ref.cast(Signal("count.unknown"))
            await trio.testing.wait_all_tasks_blocked()
            await sup.shutdown()
    return events


def test_catalogue_data_keys_match_the_code() -> None:
    """Every event is emitted in a real run, and the keys documented for it are
    exactly the keys it carries (the union over its occurrences), in both pages."""
    events = trio.run(_emit_everything, clock=trio.testing.MockClock(autojump_threshold=0))
    seen: dict[str, set[str]] = defaultdict(set)
    for event in events:
        seen[event.name] |= set(event.data)
    assert set(seen) == EVENT_NAMES
    assert catalogue(DOC) == dict(seen)
    supervision = catalogue(DOCS / "supervision.md")
    assert supervision == {name: seen[name] for name in supervision}
