"""A payments ledger under chaos: the example system of docs/chaos.md.

Run it with ``python docs/examples/chaos_ledger.py``. The ledger is one agent
that applies payments, each with an id. A payment can reach it twice (a
client retries after a timeout, a message is duplicated on its way), so
``pay`` is idempotent: a payment it has seen before is answered, not applied
again. ``pay_again`` is the same action with that check missing: the planted
bug.

The program, on virtual time (each run takes milliseconds, and the output is
the same every time):

1. runs the correct ledger under a fixed plan (a crash, a duplicate): it holds;
2. runs the buggy ledger under a storm of random faults: ``paid_once`` fails;
3. shrinks the storm to the one fault that matters, and replays it;
4. runs the correct ledger under that minimal plan: it holds.

Test code imports ``system``, ``payments`` and ``CHECKS`` from here (with
``docs/examples`` on the path); ``double_amount`` is a ``corrupt_message``
mutator, named ``"chaos_ledger:double_amount"`` in a plan.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs
import trio

import chaos
from jido_trio import ActionResult, AgentDef, ChildSpec, Signal, action, agent_spec


@attrs.frozen
class Ledger:
    """The total paid, and the ids of the payments applied, in order."""

    total: int = 0
    paid: tuple[str, ...] = ()


@attrs.frozen
class Pay:
    id: str
    amount: int = attrs.field(validator=attrs.validators.gt(0))


@action("pay", params=Pay)
def pay(state: Ledger, params: Pay) -> ActionResult[Ledger]:
    """Apply a payment once: one seen before is answered with the total, unchanged."""
    if params.id in state.paid:
        return ActionResult(state, result=state.total)
    new = Ledger(state.total + params.amount, (*state.paid, params.id))
    return ActionResult(new, result=new.total)


@action("pay", params=Pay)
def pay_again(state: Ledger, params: Pay) -> ActionResult[Ledger]:
    """The planted bug: ``pay`` without its check, so a repeated payment is applied again."""
    new = Ledger(state.total + params.amount, (*state.paid, params.id))
    return ActionResult(new, result=new.total)


LEDGER = AgentDef("ledger", Ledger, [pay], routes={"ledger.pay": "pay"})
BUGGY_LEDGER = AgentDef("ledger", Ledger, [pay_again], routes={"ledger.pay": "pay"})


def system() -> list[ChildSpec]:
    """The correct ledger (a fresh agent on every call: one per run)."""
    return [agent_spec("ledger", LEDGER)]


def buggy_system() -> list[ChildSpec]:
    """The ledger with the planted bug."""
    return [agent_spec("ledger", BUGGY_LEDGER)]


async def payments(client: chaos.Client) -> None:
    """Twenty payments of 5, one every half second; a failed one is not retried."""
    for i in range(20):
        payment = client.signal("ledger.pay", {"id": f"p{i}", "amount": 5})
        await client.request("ledger", payment)
        await trio.sleep(0.5)


def paid_once(path: str, state: Ledger) -> bool | str:
    """No payment id appears twice among the applied ones."""
    twice = sorted({id for id in state.paid if state.paid.count(id) > 1})
    return not twice or f"applied twice: {', '.join(twice)}"


PAID_ONCE = chaos.Invariant("paid_once", paid_once, target="root/ledger")
CHECKS = (PAID_ONCE,)


def double_amount(message: Signal, rng: random.Random) -> Signal:
    """A ``corrupt_message`` mutator: the payment's amount, doubled."""
    data = dict(message.data)
    data["amount"] = 2 * data["amount"]
    return attrs.evolve(message, data=data)


def run(children: Callable[[], list[ChildSpec]], plan: chaos.FaultPlan) -> chaos.RunReport:
    """One run of the guide's setup: seed 0, 10 s of faults, 2 s of quiet, the payments."""
    return chaos.run(
        children, plan, seed=0, duration=10, quiet_period=2, workload=payments, checks=CHECKS
    )


def main() -> None:
    print("1. the ledger under a crash and a duplicate")
    plan = chaos.FaultPlan(
        [chaos.Crash(target="root/ledger", nth=3), chaos.Duplicate(target="root/ledger", nth=5)]
    )
    report = run(system, plan)
    print("  ", report.explain(events=0).splitlines()[0])
    for record in report.faults:
        print("  ", record.line())

    print("2. the buggy ledger under a storm")
    storm = chaos.FaultPlan(
        [
            chaos.RandomFaults(
                kinds=["kill", "delay", "drop", "duplicate", "pause"],
                rate=1.0,
                targets=["root/ledger"],
            )
        ]
    )
    report = run(buggy_system, storm)
    print("  ", report.explain(events=0).splitlines()[0])
    print("   paid_once:", report.check("paid_once").detail)

    print("3. shrunk")
    shrunk = chaos.shrink(
        buggy_system,
        storm,
        seed=0,
        duration=10,
        quiet_period=2,
        workload=payments,
        checks=CHECKS,
    )
    print(f"   {len(shrunk.original.plan)} faults -> {shrunk.plan.to_json()} in {shrunk.runs} runs")
    replay = run(buggy_system, shrunk.plan)
    print("   the replay has the same digest:", replay.digest == shrunk.report.digest)

    print("4. the correct ledger under the minimal plan")
    report = run(system, shrunk.plan)
    print("  ", report.explain(events=0).splitlines()[0])


if __name__ == "__main__":
    main()
