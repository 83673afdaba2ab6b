"""Supervision demo: a crash restarted by policy, then an escalation up the tree.

Run it with ``python docs/examples/supervision_demo.py``. It builds this tree::

    root                 one_for_one
    +-- pipeline         rest_for_one (a nested supervisor)
    |   +-- ingest
    |   +-- transform
    |   +-- publish
    +-- flaky_sup        one_for_one, max_restarts=2, backoff 0.25s x2
        +-- flaky        transient

and then, on virtual time (``trio.testing.MockClock``, so the whole run takes
milliseconds and prints the same bytes every time):

1. ``transform`` hits a bad record and crashes: ``pipeline`` (rest_for_one)
   restarts it and the child started after it, ``publish``; ``ingest`` is
   left alone.
2. ``flaky``'s upstream refuses it three times: ``flaky_sup`` restarts it twice
   (with backoff), and on the third crash it has used up its restart intensity
   (more than 2 restarts within 5 s). It stops its children and gives up, and
   ``root`` treats that as its child's crash and restarts ``flaky_sup`` fresh:
   escalation up the tree.
3. A drill kills ``ingest`` through the tree's kill seam (``jido_trio.kill``):
   a kill counts as a crash, so ``pipeline`` restarts all three workers.

Every line of the timeline comes from telemetry (``jido_trio.attach_telemetry``),
and the tree views from ``jido_trio.tree()``.
"""

from __future__ import annotations

import trio
import trio.testing

import jido_trio
from jido_trio import Backoff, ChildInfo, ChildSpec, TelemetryEvent, supervisor_spec

# -- the workers ----------------------------------------------------------------


async def worker(
    name: str, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """A well-behaved worker: ready at once, and it leaves when asked to stop."""
    me = jido_trio.current_child()
    task_status.started(name)
    await me.stop_requested.wait()


async def transform(*, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
    """Like ``worker``, but its first incarnation meets a bad record at t=1."""
    me = jido_trio.current_child()
    task_status.started("transform")
    if me.restarts == 0:
        await trio.sleep(1)
        raise ValueError("bad record #17")
    await me.stop_requested.wait()


class Upstream:
    """The service ``flaky`` talks to: it refuses the first ``refusals`` connections."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts = 0

    async def connect(self) -> None:
        self.attempts += 1
        # a connection attempt takes a while before it is refused
        await trio.sleep(2.0 if self.attempts == 1 else 0.5)
        if self.attempts <= self.refusals:
            raise ConnectionRefusedError(f"refused (attempt {self.attempts})")


async def flaky(
    upstream: Upstream, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """A worker that depends on ``upstream``: it crashes when the upstream refuses it."""
    me = jido_trio.current_child()
    task_status.started()
    await upstream.connect()
    await me.stop_requested.wait()


# -- printing ---------------------------------------------------------------------


def describe(error: object) -> str:
    if isinstance(error, jido_trio.RestartIntensityError):
        return f"RestartIntensityError ({error.path} gave up)"
    if isinstance(error, jido_trio.ChildKilled):
        return f"ChildKilled (reason: {error.reason})"
    return f"{type(error).__name__}: {error}"


def explain(event: TelemetryEvent) -> str:
    """One timeline line for a telemetry event."""
    data = event.data
    name = event.name
    if name == "supervisor.started":
        return f"supervisor up, {data['strategy']}: {', '.join(data['children'])}"
    if name == "supervisor.stopped":
        return f"supervisor stopped ({data['reason']})"
    if name == "supervisor.escalated":
        times = ", ".join(f"{t:g}" for t in data["restarts"])
        return (
            f"GIVES UP: {len(data['restarts'])} restarts in {data['max_seconds']:g}s "
            f"(t={times}) > max_restarts={data['max_restarts']}; escalating"
        )
    if name == "child.started":
        n = data["restarts"]
        return "started" if n == 0 else f"started again (restart #{n})"
    if name == "child.exited":
        if data["error"] is None:
            return f"exited ({data['reason']})"
        # what follows (child.restarting, or supervisor.escalated) says what
        # the supervisor does about it
        return f"CRASHED: {describe(data['error'])}"
    if name == "child.restarting":
        when = "now" if data["delay"] == 0 else f"in {data['delay']:g}s (backoff)"
        return f"restart #{data['restarts']} {when}, caused by {data['cause']}"
    if name == "child.start_failed":
        return f"failed to start: {describe(data['error'])}"
    return name  # pragma: no cover (an event this demo does not know yet)


class Timeline:
    """A telemetry handler that prints each event and keeps them for the summary."""

    def __init__(self) -> None:
        self.events: list[TelemetryEvent] = []

    def __call__(self, event: TelemetryEvent) -> None:
        self.events.append(event)
        print(f"  t={event.time:6.3f}  {event.path:<24} {explain(event)}")

    def count(self, name: str) -> int:
        return sum(1 for e in self.events if e.name == name)

    def crashes(self) -> int:
        return sum(
            1 for e in self.events if e.name == "child.exited" and e.data["error"] is not None
        )


def show_tree(title: str) -> None:
    """Print ``jido_trio.tree()`` as an indented tree."""
    print(f"\n{title} (t={trio.current_time():.3f})")
    nodes = jido_trio.tree()
    for i, node in enumerate(nodes):
        depth = node.path.count("/")
        if depth == 0:
            label = node.path
        else:
            # draw the branches: '|' while a deeper sibling of an ancestor follows
            prefix = ""
            for level in range(1, depth):
                ancestor = "/".join(node.path.split("/")[: level + 1])
                prefix += "|   " if _has_later_sibling(nodes, i, ancestor) else "    "
            label = prefix + "+-- " + node.id
        detail = f"{node.kind:<10} {node.status:<10} restarts={node.restarts}"
        if node.kind == "supervisor" and isinstance(node.value, jido_trio.Supervisor):
            detail += f"  {node.value.strategy}"
        else:
            detail += f"  {node.restart}"
        print(f"  {label:<22} {detail}")


def _has_later_sibling(nodes: list[ChildInfo], index: int, path: str) -> bool:
    parent = path.rsplit("/", 1)[0]
    return any(n.supervisor == parent for n in nodes[index + 1 :])


def act(title: str) -> None:
    print(f"\n== {title}")


# -- the run ----------------------------------------------------------------------


async def main() -> None:
    timeline = Timeline()
    upstream = Upstream(refusals=3)
    children = [
        supervisor_spec(
            "pipeline",
            [
                ChildSpec("ingest", worker, args=("ingest",)),
                ChildSpec("transform", transform),
                ChildSpec("publish", worker, args=("publish",)),
            ],
            strategy="rest_for_one",
        ),
        supervisor_spec(
            "flaky_sup",
            [ChildSpec("flaky", flaky, args=(upstream,), restart="transient")],
            max_restarts=2,
            max_seconds=5,
            backoff=Backoff(initial=0.25, factor=2.0, jitter=0.0),
        ),
    ]
    print("jido_trio supervision demo (virtual time; each t=... line is a telemetry event)")
    with jido_trio.attach_telemetry(timeline):
        act("t=0: start the tree, children in order, each started before the next")
        async with jido_trio.open_supervisor(children, strategy="one_for_one") as root:
            show_tree("The tree before")

            await trio.sleep_until(0.5)
            act("t=1: transform crashes; pipeline is rest_for_one: transform and publish restart")
            await trio.sleep_until(1.5)
            act("t=2: flaky's upstream refuses it; flaky_sup restarts it, then gives up")
            await trio.sleep_until(5.5)
            act("t=6: a drill kills root/pipeline/ingest through the kill seam")
            await trio.sleep_until(6.0)
            jido_trio.kill("root/pipeline/ingest", reason="drill")
            await trio.sleep_until(6.5)
            show_tree("The tree after")

            act("t=7: shut down: children stop in reverse start order")
            await trio.sleep_until(7.0)
            await root.shutdown()
    print(f"\nSupervisors left in this run: {len(jido_trio.tree())}")
    print(
        f"summary: {timeline.crashes()} crashes, {timeline.count('child.restarting')} restarts, "
        f"{timeline.count('supervisor.escalated')} escalation, flaky connected on attempt "
        f"{upstream.attempts}; shut down cleanly at t={trio.current_time():.3f}"
    )


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
