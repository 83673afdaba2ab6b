"""Orders and a ledger, with a planted bug, for ``planted_bug.yaml``.

``orders`` takes ``order.place`` (``amount``), numbers the order
(``order-1``, ...), adds the amount to its total and sends ``order.placed``
(``order``, ``amount``) to ``ledger``. ``ledger`` books it: it records the
order id and adds the amount to its balance. The books balance when the
ledger's balance equals the orders' total.

The planted bug: :func:`book` is not idempotent. Delivery between agents is
at least once (a retry, a duplicated packet), and when ``order.placed``
arrives twice the ledger books the order twice. The fix is one line::

    if params.order in state.booked:
        return state

The scenario finds it with a ``duplicate`` fault on the link from ``orders``
to ``ledger``, among others that do not matter; ``chaos shrink`` reduces the
plan to that one fault.
"""

from __future__ import annotations

from collections import Counter

import attrs

from chaos import SystemView
from jido_trio import ActionResult, AgentDef, Emit, action

__all__ = ["LEDGER", "ORDERS", "books_balance", "each_order_once"]


@attrs.frozen
class OrdersState:
    """The orders taken: how many, and their total amount."""

    placed: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    total: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class LedgerState:
    """The ledger: the orders booked (ids, in order) and the balance."""

    booked: tuple[str, ...] = ()
    balance: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class Place:
    """An order: its amount (1 or more)."""

    amount: int = attrs.field(validator=attrs.validators.ge(1))


@attrs.frozen
class Placed:
    """An order to book."""

    order: str
    amount: int = attrs.field(validator=attrs.validators.ge(1))


@action("place", params=Place, description="Number an order and send it to the ledger.")
def place(state: OrdersState, params: Place) -> ActionResult[OrdersState]:
    new = OrdersState(placed=state.placed + 1, total=state.total + params.amount)
    order = f"order-{new.placed}"
    placed = Emit("order.placed", {"order": order, "amount": params.amount}, to="ledger")
    return ActionResult(new, result=order, directives=[placed])


@action("book", params=Placed, description="Book an order.")
def book(state: LedgerState, params: Placed) -> LedgerState:
    # BUG (planted): a second delivery of the same order books it again.
    return LedgerState(booked=(*state.booked, params.order), balance=state.balance + params.amount)


ORDERS: AgentDef[OrdersState] = AgentDef(
    "orders", OrdersState, [place], routes={"order.place": "place"}
)
LEDGER: AgentDef[LedgerState] = AgentDef(
    "ledger", LedgerState, [book], routes={"order.placed": "book"}
)


def each_order_once(path: str, state: LedgerState) -> bool | str:
    """The ledger books every order once (an invariant on every committed state)."""
    twice = [order for order, n in Counter(state.booked).items() if n > 1]
    if twice:
        return f"booked {twice[0]} {Counter(state.booked)[twice[0]]} times"
    return True


def books_balance(view: SystemView) -> bool | str:
    """After the heal, the ledger's balance is the orders' total."""
    orders: OrdersState = view.state("orders")
    ledger: LedgerState = view.state("ledger")
    if ledger.balance == orders.total:
        return True
    return f"ledger balance {ledger.balance} != orders total {orders.total}"
