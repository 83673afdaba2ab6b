"""Before a run: swarm mode picks this seed's subset of fault kinds and
targets, and :class:`RandomFaults` generators become concrete faults."""

from __future__ import annotations

from typing import Any

from ._plan import FAULT_CLASSES, RANDOM_DEFAULTS, FaultPlan, PlanItem, RandomFaults, Seconds
from ._seeds import stream

__all__ = ["expand_plan"]


def _globs_of(item: PlanItem) -> tuple[str, ...]:
    """The target globs a fault names: its target, and a partition's other side."""
    if isinstance(item, RandomFaults):
        return item.targets
    source = getattr(item, "source", None) if type(item).kind == "partition" else None
    return (item.target,) if source is None else (item.target, source)


def _make(kind: str, glob: str, other: str, at: float, params: dict[str, Any]) -> PlanItem:
    cls = FAULT_CLASSES[kind]
    fields = dict(RANDOM_DEFAULTS[kind])
    fields.update(params)
    span = fields.pop("span", None)
    fields.update(target=glob, at=Seconds(at))
    if (cls.event or kind == "partition") and span is not None:
        fields.setdefault("until", Seconds(round(at + span, 6)))
    if kind == "partition":
        fields.setdefault("source", other)
    if kind != "partition":
        fields.setdefault("pick", "one")
    return cls(**fields)  # type: ignore[no-any-return]


def expand_plan(
    plan: FaultPlan, *, seed: int, duration: float, swarm: bool
) -> tuple[FaultPlan, dict[str, Any] | None]:
    """The concrete plan for ``seed``: in swarm mode only a random subset of
    the plan's fault kinds and target globs is kept (each seed its own; each
    kind and glob is kept with probability 1/2, and those of one fault drawn
    first are always kept, so some fault survives); each generator becomes
    faults at Poisson times. Returns the plan and,
    in swarm mode, what the seed kept."""
    swarm_info: dict[str, Any] | None = None
    items = list(plan.faults)
    if swarm and items:
        rng = stream(seed, "swarm")
        kinds: list[str] = []
        targets: list[str] = []
        for item in items:
            for kind in item.kinds if isinstance(item, RandomFaults) else (type(item).kind,):
                if kind not in kinds:
                    kinds.append(kind)
            globs = item.targets if isinstance(item, RandomFaults) else _globs_of(item)
            for glob in globs:
                if glob not in targets:
                    targets.append(glob)
        # an anchor fault, drawn first, keeps its kind and targets: a seed never
        # swarms its plan away to nothing
        anchor = items[rng.randrange(len(items))]
        anchor_kinds = anchor.kinds if isinstance(anchor, RandomFaults) else (type(anchor).kind,)
        anchor_kind = anchor_kinds[rng.randrange(len(anchor_kinds))]
        anchor_globs = _globs_of(anchor)
        kept_kinds = [k for k in kinds if k == anchor_kind or rng.random() < 0.5]
        kept_targets = [g for g in targets if g in anchor_globs or rng.random() < 0.5]
        swarm_info = {"kinds": kept_kinds, "targets": kept_targets}
        narrowed: list[PlanItem] = []
        for item in items:
            if isinstance(item, RandomFaults):
                kinds_kept = [x for x in item.kinds if x in kept_kinds]
                targets_kept = [x for x in item.targets if x in kept_targets]
                if kinds_kept and targets_kept:
                    narrowed.append(
                        RandomFaults(
                            kinds=kinds_kept,
                            rate=item.rate,
                            targets=targets_kept,
                            at=item.at,
                            until=item.until,
                            params=item.params,
                        )
                    )
            elif type(item).kind in kept_kinds and all(g in kept_targets for g in _globs_of(item)):
                narrowed.append(item)
        items = narrowed
    out: list[PlanItem] = []
    rng = stream(seed, "expand")
    for item in items:
        if not isinstance(item, RandomFaults):
            out.append(item)
            continue
        end = duration if item.until is None else min(item.until, duration)
        time = float(item.at)
        while True:
            time += rng.expovariate(item.rate)
            if time >= end:
                break
            kind = item.kinds[rng.randrange(len(item.kinds))]
            glob = item.targets[rng.randrange(len(item.targets))]
            others = [g for g in item.targets if g != glob]
            other = others[rng.randrange(len(others))] if others else "**"
            out.append(_make(kind, glob, other, round(time, 6), dict(item.params.get(kind, {}))))
    return FaultPlan(tuple(out)), swarm_info
