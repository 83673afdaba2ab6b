"""A coordinator and its workers, for the partition scenario (``chaos_partition.yaml``).

The coordinator hands out work and keeps a book of what is still pending;
three workers do it and report back. Delivery between them is at least once:

- ``work.submitted`` (``size``) -> ``submit``: the coordinator numbers the
  task (``task-1``, ...), gives it to the next worker in turn and sends it
  ``work.assigned`` (``task``, ``size``, ``reply_to``);
- ``work.assigned`` -> ``work``: the worker does the task (once: it keeps the
  ids it did) and reports ``work.completed`` (``task``, ``worker``) to
  ``reply_to``, again if it is asked again;
- ``work.completed`` -> ``completed``: the coordinator strikes the task off
  (a second report for a task already done changes nothing);
- ``work.retry`` (every second, a schedule of the coordinator) -> ``retry``:
  every pending task is sent to its worker again.

So a lost assignment or a lost report (a partition between the coordinator
and the workers) delays the work but loses none of it: once the partition
heals, the next retry gets it done. :func:`nothing_pending` checks that.
"""

from __future__ import annotations

import attrs

from chaos import SystemView
from jido_trio import ActionResult, AgentDef, Emit, Every, NoParams, action

__all__ = ["COORDINATOR", "WORKER", "CoordinatorState", "WorkerState", "nothing_pending"]

WORKERS = ("worker-1", "worker-2", "worker-3")


@attrs.frozen
class CoordinatorState:
    """The coordinator's book.

    Attributes:
        name: its own registry name, where workers report. Defaults to
            ``"coordinator"``.
        next_task: the number of the next task. Defaults to 1.
        pending: the tasks not reported done: task id -> (worker, size).
        done: how many tasks were reported done. Defaults to 0.
    """

    name: str = "coordinator"
    next_task: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    pending: dict[str, tuple[str, int]] = attrs.field(factory=dict)
    done: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class WorkerState:
    """A worker's record of the tasks it did (their ids, in order)."""

    worker: str
    did: tuple[str, ...] = ()


@attrs.frozen
class Submit:
    """A piece of work: its size (1 or more)."""

    size: int = attrs.field(default=1, validator=attrs.validators.ge(1))


@attrs.frozen
class Assignment:
    """A task for a worker."""

    task: str
    size: int
    reply_to: str


@attrs.frozen
class Report:
    """A worker's report that a task is done."""

    task: str
    worker: str


def _assign(state: CoordinatorState, task: str, worker: str, size: int) -> Emit:
    return Emit("work.assigned", {"task": task, "size": size, "reply_to": state.name}, to=worker)


@action("submit", params=Submit, description="Number a task and assign it.")
def submit(state: CoordinatorState, params: Submit) -> ActionResult[CoordinatorState]:
    task = f"task-{state.next_task}"
    worker = WORKERS[(state.next_task - 1) % len(WORKERS)]
    new = attrs.evolve(
        state,
        next_task=state.next_task + 1,
        pending={**state.pending, task: (worker, params.size)},
    )
    return ActionResult(new, result=task, directives=[_assign(state, task, worker, params.size)])


@action("retry", description="Send every pending task to its worker again.")
def retry(state: CoordinatorState, params: NoParams) -> ActionResult[CoordinatorState]:
    again = [_assign(state, task, worker, size) for task, (worker, size) in state.pending.items()]
    return ActionResult(state, result=len(again), directives=again)


@action("completed", params=Report, description="Strike a reported task off.")
def completed(state: CoordinatorState, params: Report) -> CoordinatorState:
    if params.task not in state.pending:
        return state  # reported twice: already struck off
    pending = {task: entry for task, entry in state.pending.items() if task != params.task}
    return attrs.evolve(state, pending=pending, done=state.done + 1)


@action("work", params=Assignment, description="Do a task (once) and report it.")
def work(state: WorkerState, params: Assignment) -> ActionResult[WorkerState]:
    new = state if params.task in state.did else attrs.evolve(state, did=(*state.did, params.task))
    report = Emit(
        "work.completed", {"task": params.task, "worker": state.worker}, to=params.reply_to
    )
    return ActionResult(new, result=params.task, directives=[report])


COORDINATOR: AgentDef[CoordinatorState] = AgentDef(
    "coordinator",
    CoordinatorState,
    [submit, retry, completed],
    routes={"work.submitted": "submit", "work.retry": "retry", "work.completed": "completed"},
    schedules=[Every(1.0, "work.retry")],
    initial=lambda agent_id: CoordinatorState(name=agent_id),
)

WORKER: AgentDef[WorkerState] = AgentDef(
    "worker",
    WorkerState,
    [work],
    routes={"work.assigned": "work"},
    initial=lambda agent_id: WorkerState(worker=agent_id),
)


def nothing_pending(view: SystemView) -> bool | str:
    """Every task submitted was done and reported."""
    state: CoordinatorState = view.state("coordinator")
    if not state.pending:
        return True
    tasks = sorted(state.pending, key=lambda t: int(t.split("-")[1]))
    return f"{len(tasks)} task(s) still pending: {', '.join(tasks[:5])}"
