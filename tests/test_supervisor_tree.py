"""The runtime view of the tree (``jido_trio.tree()``), the kill seam
(``jido_trio.kill()``), and supervisor telemetry, including the ``logging`` bridge.

All on virtual time, with exact times."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import pytest
import trio
import trio.testing

import jido_trio
from jido_trio import (
    ChildKilled,
    ChildNotFoundError,
    ChildSpec,
    RestartIntensityError,
    TelemetryEvent,
    attach_telemetry,
    current_child,
    log_telemetry,
    open_supervisor,
    supervisor_spec,
)

Seen = tuple[float, str, str]


class Crash(Exception):
    """A child's planned failure."""


async def worker(
    crashes: tuple[float, ...] = (), *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """Starts at once with its path as value; raises Crash at the first planned time after
    its start; otherwise stops as soon as it is asked to."""
    me = current_child()
    task_status.started(me.path)
    now = trio.current_time()
    due = min((t for t in crashes if t > now), default=math.inf)
    with trio.move_on_at(due):
        await me.stop_requested.wait()
    if not me.stop_requested.is_set():
        raise Crash(me.path)


def spec(name: str, *crashes: float, **options: Any) -> ChildSpec:
    return ChildSpec(name, worker, args=(crashes,), **options)


def nodes() -> list[tuple[str, str, str, int, str | None]]:
    return [(n.path, n.kind, n.status, n.restarts, n.supervisor) for n in jido_trio.tree()]


class Recorder:
    """A telemetry handler keeping (time, name, path) of each event, and the events."""

    def __init__(self) -> None:
        self.events: list[TelemetryEvent] = []

    def __call__(self, event: TelemetryEvent) -> None:
        self.events.append(event)

    @property
    def seen(self) -> list[Seen]:
        return [(e.time, e.name, e.path) for e in self.events]


# ----------------------------------------------------------------------- tree


async def test_tree_lists_root_and_nested_nodes_with_stable_paths(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """tree() lists the root supervisor and every nested node depth first, with stable
    paths, kinds, statuses and the supervisor each belongs to."""
    assert jido_trio.tree() == []
    children = [
        supervisor_spec("pipeline", [spec("worker-1"), spec("worker-2")]),
        spec("sink"),
    ]
    async with open_supervisor(children) as sup:
        assert nodes() == [
            ("root", "supervisor", "running", 0, None),
            ("root/pipeline", "supervisor", "running", 0, "root"),
            ("root/pipeline/worker-1", "worker", "running", 0, "root/pipeline"),
            ("root/pipeline/worker-2", "worker", "running", 0, "root/pipeline"),
            ("root/sink", "worker", "running", 0, "root"),
        ]
        root = jido_trio.tree()[0]
        assert root.value is sup
        await sup.shutdown()
    assert jido_trio.tree() == []


async def test_tree_restart_counts_and_paths_survive_restarts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A restarted child keeps its path and its restart count grows; a named root keeps its
    name as the first path segment."""
    children = [supervisor_spec("pipeline", [spec("worker-1", 1, 2), spec("worker-2")])]
    async with open_supervisor(children, name="app") as sup:
        await trio.sleep(3)
        assert nodes() == [
            ("app", "supervisor", "running", 0, None),
            ("app/pipeline", "supervisor", "running", 0, "app"),
            ("app/pipeline/worker-1", "worker", "running", 2, "app/pipeline"),
            ("app/pipeline/worker-2", "worker", "running", 0, "app/pipeline"),
        ]
        await sup.shutdown()


async def test_supervisor_opened_inside_a_child_nests_under_its_path(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A supervisor opened inside a supervised child takes the child's path, so its children
    appear under it in the tree and can be killed by path."""

    async def agent(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with open_supervisor([spec("inner")]) as own:
            assert own.path == "root/agent"
            task_status.started()
            await current_child().stop_requested.wait()
            await own.shutdown()

    async with open_supervisor([ChildSpec("agent", agent)]) as sup:
        assert nodes() == [
            ("root", "supervisor", "running", 0, None),
            ("root/agent", "worker", "running", 0, "root"),
            ("root/agent/inner", "worker", "running", 0, "root/agent"),
        ]
        jido_trio.kill("root/agent/inner")
        await trio.testing.wait_all_tasks_blocked()
        assert nodes()[2] == ("root/agent/inner", "worker", "running", 1, "root/agent")
        await sup.shutdown()


async def test_current_child_outside_a_child_raises(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """current_child() outside a supervised child raises ChildNotFoundError."""
    with pytest.raises(
        ChildNotFoundError, match=r"^current_child\(\) was called outside a supervised child; "
    ):
        current_child()


async def test_current_child_reports_id_path_and_restarts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """current_child() gives the running child its id, path and restart count."""
    seen: list[tuple[str, str, int]] = []

    async def probe() -> None:
        me = current_child()
        seen.append((me.id, me.path, me.restarts))
        await trio.sleep(1)
        if me.restarts == 0:
            raise Crash("once")
        await trio.sleep_forever()

    async with open_supervisor([supervisor_spec("s", [ChildSpec("p", probe, shutdown=0)])]) as sup:
        await trio.sleep(5)
        await sup.shutdown()
    assert seen == [("p", "root/s/p", 0), ("p", "root/s/p", 1)]


# ----------------------------------------------------------------------- kill


async def test_kill_of_a_nested_child_is_a_crash_and_restarts_a_transient_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """kill(path, reason=...) ends a nested child with exit reason ChildKilled, counted as a
    crash: a transient child is restarted and the restart enters the intensity window."""
    rec = Recorder()
    children = [supervisor_spec("pipeline", [spec("worker-1", restart="transient")])]
    with attach_telemetry(rec, events=["child.exited"]):
        async with open_supervisor(children) as sup:
            await trio.sleep(3)
            jido_trio.kill("root/pipeline/worker-1", reason="chaos")
            await trio.testing.wait_all_tasks_blocked()
            assert nodes()[2] == (
                "root/pipeline/worker-1",
                "worker",
                "running",
                1,
                "root/pipeline",
            )
            [pipeline] = sup.which_children()
            assert pipeline.value.restart_history == (3.0,)
            await sup.shutdown()
    killed = rec.events[0]
    assert (killed.time, killed.path, killed.data["reason"], killed.data["restart"]) == (
        3.0,
        "root/pipeline/worker-1",
        "ChildKilled",
        True,
    )
    error = killed.data["error"]
    assert isinstance(error, ChildKilled)
    assert (error.path, error.reason) == ("root/pipeline/worker-1", "chaos")
    assert str(error) == "child 'root/pipeline/worker-1' was killed: chaos"


async def test_kill_counts_towards_the_restart_intensity(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Killing a child of a supervisor with max_restarts=0 makes it escalate."""

    async def supervise() -> None:
        async with open_supervisor([spec("w")], max_restarts=0):
            await trio.sleep(2)
            jido_trio.kill("root/w")
            await trio.sleep_forever()

    with pytest.raises(RestartIntensityError) as info:
        await supervise()
    assert trio.current_time() == 2.0
    assert isinstance(info.value.__cause__, ChildKilled)
    assert info.value.__cause__.reason == "killed"


async def test_kill_of_a_nested_supervisor_restarts_its_subtree(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Killing a nested supervisor is its crash: it is restarted with fresh children."""
    async with open_supervisor([supervisor_spec("pipeline", [spec("w", 1)])]) as sup:
        await trio.sleep(2)
        jido_trio.kill("root/pipeline")
        await trio.testing.wait_all_tasks_blocked()
        assert nodes() == [
            ("root", "supervisor", "running", 0, None),
            ("root/pipeline", "supervisor", "running", 1, "root"),
            ("root/pipeline/w", "worker", "running", 0, "root/pipeline"),
        ]
        await sup.shutdown()


@pytest.mark.parametrize("path", ["root/nope", "root/pipeline/nope", "root", "elsewhere/w", ""])
async def test_kill_of_an_unknown_path_raises_and_lists_the_children(
    autojump_clock: trio.testing.MockClock, path: str
) -> None:
    """kill() of a path with no child raises ChildNotFoundError naming it and listing the
    known paths; nothing is killed."""
    async with open_supervisor([supervisor_spec("pipeline", [spec("w")])]) as sup:
        if path:
            message = (
                f"no child at path {path!r} in this run; "
                "children: 'root/pipeline', 'root/pipeline/w'"
            )
        else:
            message = "path='' is not a tree path such as 'root/worker-1'"
        with pytest.raises(ChildNotFoundError, match=f"^{re.escape(message)}$"):
            jido_trio.kill(path)
        await trio.testing.wait_all_tasks_blocked()
        assert [n.restarts for n in jido_trio.tree()] == [0, 0, 0]
        await sup.shutdown()


# ------------------------------------------------------------------ telemetry


async def test_telemetry_of_a_crash_and_restart(autojump_clock: trio.testing.MockClock) -> None:
    """A crash and its restart emit, in order: child.exited, child.restarting, child.started,
    with the time and path of each."""
    rec = Recorder()
    with attach_telemetry(rec):
        async with open_supervisor([spec("a", 1)]) as sup:
            await trio.sleep(2)
            await sup.shutdown()
    assert rec.seen == [
        (0.0, "child.started", "root/a"),
        (0.0, "supervisor.started", "root"),
        (1.0, "child.exited", "root/a"),
        (1.0, "child.restarting", "root/a"),
        (1.0, "child.started", "root/a"),
        (2.0, "child.exited", "root/a"),
        (2.0, "supervisor.stopped", "root"),
    ]
    data = [dict(e.data) for e in rec.events]
    assert data[0] == {"id": "a", "restarts": 0, "value": "root/a"}
    assert data[1] == {"strategy": "one_for_one", "children": ["a"]}
    assert isinstance(data[2].pop("error"), Crash)
    assert data[2] == {"id": "a", "reason": "Crash", "restart": True}
    assert data[3] == {"id": "a", "delay": 0.0, "restarts": 1, "cause": "a"}
    assert data[4] == {"id": "a", "restarts": 1, "value": "root/a"}
    assert data[5] == {"id": "a", "reason": "shutdown", "error": None, "restart": False}
    assert data[6] == {"reason": "shutdown"}


async def test_telemetry_of_an_escalation(autojump_clock: trio.testing.MockClock) -> None:
    """An escalation emits child.exited of the culprit, supervisor.escalated, the other
    children's exits in reverse order, then supervisor.stopped."""
    rec = Recorder()
    with attach_telemetry(rec), pytest.raises(RestartIntensityError):
        async with open_supervisor([spec("a"), spec("b"), spec("c", 1)], max_restarts=0):
            await trio.sleep_forever()
    assert rec.seen == [
        (0.0, "child.started", "root/a"),
        (0.0, "child.started", "root/b"),
        (0.0, "child.started", "root/c"),
        (0.0, "supervisor.started", "root"),
        (1.0, "child.exited", "root/c"),
        (1.0, "supervisor.escalated", "root"),
        (1.0, "child.exited", "root/b"),
        (1.0, "child.exited", "root/a"),
        (1.0, "supervisor.stopped", "root"),
    ]
    escalated = dict(rec.events[5].data)
    assert isinstance(escalated.pop("error"), Crash)
    assert escalated == {"restarts": (1.0,), "max_restarts": 0, "max_seconds": 5, "child_id": "c"}
    assert dict(rec.events[8].data) == {"reason": "escalated"}


async def test_telemetry_of_a_failed_start(autojump_clock: trio.testing.MockClock) -> None:
    """A child that fails before it is started emits child.start_failed, not child.started."""
    rec = Recorder()

    async def broken(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(1)
        raise Crash("cannot start")

    with attach_telemetry(rec, events=["child.*"]):
        async with open_supervisor() as sup:
            with pytest.raises(Crash):
                await sup.start_child(ChildSpec("b", broken))
    assert rec.seen == [(1.0, "child.start_failed", "root/b")]
    assert rec.events[0].data["reason"] == "Crash"


async def test_child_exited_restart_flag_says_whether_it_is_restarted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """child.exited's `restart` says whether that child will be restarted: True for siblings
    stopped by a one_for_all restart, False for the crash that escalates."""
    rec = Recorder()
    with attach_telemetry(rec, events=["child.exited"]), pytest.raises(RestartIntensityError):
        async with open_supervisor(
            [spec("a"), spec("b", 1, 2)], strategy="one_for_all", max_restarts=1
        ):
            await trio.sleep_forever()
    flags = [(e.time, e.path, e.data["reason"], e.data["restart"]) for e in rec.events]
    assert flags == [
        (1.0, "root/b", "Crash", True),
        (1.0, "root/a", "shutdown", True),
        (2.0, "root/b", "Crash", False),
        (2.0, "root/a", "shutdown", False),
    ]


async def test_attach_telemetry_filters_by_name_and_family(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """events= delivers only the named events; a name ending in '.*' selects a family."""
    family = Recorder()
    exact = Recorder()
    with (
        attach_telemetry(family, events=["child.*"]),
        attach_telemetry(exact, events=["supervisor.stopped", "child.restarting"]),
    ):
        async with open_supervisor([spec("a", 1)]) as sup:
            await trio.sleep(2)
            await sup.shutdown()
    assert family.seen == [
        (0.0, "child.started", "root/a"),
        (1.0, "child.exited", "root/a"),
        (1.0, "child.restarting", "root/a"),
        (1.0, "child.started", "root/a"),
        (2.0, "child.exited", "root/a"),
    ]
    assert exact.seen == [(1.0, "child.restarting", "root/a"), (2.0, "supervisor.stopped", "root")]


async def test_attach_telemetry_rejects_unknown_event_names(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An unknown event name in events= is rejected when attaching."""
    with (
        pytest.raises(
            ValueError, match=r"^unknown telemetry event name\(s\) \['child\.crashed'\]; expected"
        ),
        attach_telemetry(Recorder(), events=["child.started", "child.crashed"]),
    ):
        pass  # pragma: no cover


async def test_attach_telemetry_rejects_unknown_event_families(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A family that matches no event name ('chlid.*') is rejected like an unknown name,
    instead of silently delivering nothing."""
    with (
        pytest.raises(ValueError, match=r"chlid\.\*"),
        attach_telemetry(Recorder(), events=["chlid.*"]),
    ):
        pytest.fail("the with block must not run")  # pragma: no cover


async def test_a_failing_handler_is_logged_and_does_not_break_the_supervisor(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that raises is logged on jido_trio.telemetry; the supervisor and the other
    handlers carry on."""
    rec = Recorder()

    def broken(event: TelemetryEvent) -> None:
        raise RuntimeError(f"handler bug on {event.name}")

    caplog.set_level(logging.ERROR, logger="jido_trio.telemetry")
    with attach_telemetry(broken), attach_telemetry(rec):
        async with open_supervisor([spec("a", 1)]) as sup:
            await trio.sleep(2)
            assert [(c.status, c.restarts) for c in sup.which_children()] == [("running", 1)]
            await sup.shutdown()
    assert len(rec.events) == 7
    failures = [r for r in caplog.records if r.name == "jido_trio.telemetry"]
    assert [r.levelno for r in failures] == [logging.ERROR] * 7
    assert re.fullmatch(r"telemetry handler .* failed on child\.started", failures[0].getMessage())
    assert failures[0].exc_info is not None
    assert str(failures[0].exc_info[1]) == "handler bug on child.started"


async def test_log_telemetry_bridges_events_to_logging(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """log_telemetry writes one record per event at INFO, a crash's exit and the escalation
    at WARNING, each carrying the event as record.telemetry."""
    logger = logging.getLogger("test.supervisor.telemetry")
    caplog.set_level(logging.INFO, logger=logger.name)
    with log_telemetry(logger), pytest.raises(RestartIntensityError):
        async with open_supervisor([spec("a", 1)], max_restarts=0):
            await trio.sleep_forever()
    records = [r for r in caplog.records if r.name == logger.name]
    levels = [(r.telemetry.name, r.levelno) for r in records]  # type: ignore[attr-defined]
    assert levels == [
        ("child.started", logging.INFO),
        ("supervisor.started", logging.INFO),
        ("child.exited", logging.WARNING),
        ("supervisor.escalated", logging.WARNING),
        ("supervisor.stopped", logging.INFO),
    ]
    assert records[1].getMessage() == (
        "[0.000000] supervisor.started root strategy='one_for_one' children=['a']"
    )
    assert records[4].getMessage() == "[1.000000] supervisor.stopped root reason='escalated'"


async def test_log_telemetry_filters_and_uses_the_default_logger(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a logger, log_telemetry logs on jido_trio.telemetry; events= filters it."""
    caplog.set_level(logging.INFO, logger="jido_trio.telemetry")
    with log_telemetry(events=["supervisor.escalated"]), pytest.raises(RestartIntensityError):
        async with open_supervisor([spec("a", 1)], max_restarts=0):
            await trio.sleep_forever()
    records = [r for r in caplog.records if r.name == "jido_trio.telemetry"]
    assert [(r.levelno, r.getMessage().split(" ")[:3]) for r in records] == [
        (logging.WARNING, ["[1.000000]", "supervisor.escalated", "root"])
    ]


async def test_killing_a_nested_supervisor_reports_its_children_and_itself_stopped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """When a nested supervisor is killed, telemetry still reports the end of its children
    (child.exited) and of the supervisor itself (supervisor.stopped), so started/exited
    events stay balanced."""
    rec = Recorder()
    children = [supervisor_spec("pipeline", [spec("w1"), spec("w2")])]
    with attach_telemetry(rec, events=["child.exited", "supervisor.stopped"]):
        async with open_supervisor(children) as sup:
            await trio.sleep(2)
            jido_trio.kill("root/pipeline")
            await trio.testing.wait_all_tasks_blocked()
            ended = set(rec.seen)
            await sup.shutdown()
    assert ended >= {
        (2.0, "child.exited", "root/pipeline/w1"),
        (2.0, "child.exited", "root/pipeline/w2"),
        (2.0, "supervisor.stopped", "root/pipeline"),
        (2.0, "child.exited", "root/pipeline"),
    }


@pytest.mark.parametrize("family", ["*", "child*", "chlid.*"])
def test_attach_telemetry_takes_only_known_dotted_families(family: str) -> None:
    """A family must end in '.*' and match some event name."""
    with (
        pytest.raises(jido_trio.InvalidArgumentError, match=re.escape(repr(family))),
        attach_telemetry(lambda event: None, events=[family]),
    ):
        pytest.fail("the with block must not run")  # pragma: no cover
