"""A three-stage pipeline for the restart-storm scenario (``chaos_pipeline_storm.yaml``).

``ingest`` -> ``transform`` -> ``publish``, three agents under one
``rest_for_one`` supervisor: each stage depends on the one before it, so when
a stage restarts, the stages after it restart too (OTP's ``rest_for_one``).

- ``record.received`` (``size``) -> ``ingest``: counts the record and sends
  ``record.parsed`` (``seq``, ``size``) to ``transform``;
- ``record.parsed`` -> ``transform``: counts it and sends ``record.enriched``
  (``seq``, ``weight`` = ``size * 2``) to ``publish``;
- ``record.enriched`` -> ``publish``: counts it and adds up the weight.

Every action's result is its stage's count. The stages address each other by
registry name (``Emit(..., to="transform")``), so a restarted stage is found
again without any wiring.

:func:`flows` is the scenario's liveness probe: a record sent to ``ingest``
reaches ``publish``.
"""

from __future__ import annotations

import attrs
import trio
import trio.testing

from chaos import SystemView
from jido_trio import ActionResult, AgentDef, Emit, Signal, action

__all__ = ["INGEST", "PUBLISH", "TRANSFORM", "StageState", "flows"]


@attrs.frozen
class StageState:
    """A stage's counters.

    Attributes:
        count: records this stage handled. Defaults to 0.
        total: the weight published so far (``publish`` only). Defaults to 0.
    """

    count: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    total: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class Record:
    """A raw record: its size (1 or more)."""

    size: int = attrs.field(default=1, validator=attrs.validators.ge(1))


@attrs.frozen
class Parsed:
    """A parsed record, numbered by ``ingest``."""

    seq: int
    size: int


@attrs.frozen
class Enriched:
    """An enriched record, ready to publish."""

    seq: int
    weight: int


@action("ingest", params=Record, description="Count a record; pass it on, numbered.")
def ingest(state: StageState, params: Record) -> ActionResult[StageState]:
    new = attrs.evolve(state, count=state.count + 1)
    parsed = Emit("record.parsed", {"seq": new.count, "size": params.size}, to="transform")
    return ActionResult(new, result=new.count, directives=[parsed])


@action("transform", params=Parsed, description="Weigh a parsed record; pass it on.")
def transform(state: StageState, params: Parsed) -> ActionResult[StageState]:
    new = attrs.evolve(state, count=state.count + 1)
    enriched = Emit("record.enriched", {"seq": params.seq, "weight": params.size * 2}, to="publish")
    return ActionResult(new, result=new.count, directives=[enriched])


@action("publish", params=Enriched, description="Publish an enriched record.")
def publish(state: StageState, params: Enriched) -> ActionResult[StageState]:
    new = StageState(count=state.count + 1, total=state.total + params.weight)
    return ActionResult(new, result=new.count)


INGEST: AgentDef[StageState] = AgentDef(
    "ingest", StageState, [ingest], routes={"record.received": "ingest"}
)
TRANSFORM: AgentDef[StageState] = AgentDef(
    "transform", StageState, [transform], routes={"record.parsed": "transform"}
)
PUBLISH: AgentDef[StageState] = AgentDef(
    "publish", StageState, [publish], routes={"record.enriched": "publish"}
)


async def flows(view: SystemView) -> bool | str:
    """A record sent to ``ingest`` after the heal reaches ``publish``."""
    before = view.state("publish").count
    await view.call("ingest", Signal("record.received", {"size": 1}))
    await trio.testing.wait_all_tasks_blocked()  # the stages have passed it on
    after = view.state("publish").count
    if after == before + 1:
        return True
    return f"publish counted {after - before} record(s) for the 1 ingested"
