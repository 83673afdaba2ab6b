"""triotp 0.2.1 against bare Trio, in triotp's own virtual environment.

triotp pins trio < 0.20, so ``run.py`` runs this script with
``benchmarks/.triotp-venv/bin/python``; both sides here use that venv's trio,
and ``run.py`` compares triotp's *ratio* to bare Trio with jido_trio's ratio to
bare Trio. Prints one JSON document on stdout; progress goes to stderr.

It imports nothing from ``run.py`` or jido_trio (neither installs under trio
0.19), so its bare-Trio baselines repeat ``run.py``'s on purpose: the same
workload, measured again inside this venv.

Workloads (the same as run.py's, written with triotp's API):

- ``restart``: a child that crashes N times, then returns, under
  ``triotp.supervisor.start`` (TRANSIENT, max_restarts large) vs a bare
  nursery-per-attempt loop.
- ``spawn_teardown``: N idle children started by ``supervisor.start`` (one
  ``nursery.start`` of a monitor per child), torn down by cancelling the
  enclosing nursery (triotp has no ordered shutdown), vs N bare tasks then cancel.
- ``teardown_linear``: triotp's teardown time at 10N over its time at N.
- ``call``: ``gen_server.call`` round trips to a gen_server whose
  ``handle_call`` replies at once (no timeout, triotp's default; with
  ``timeout=5`` as a raw figure) vs a bare ping-pong: an unbuffered request
  channel and an unbuffered reply channel served by one task.
- ``memory_per_agent``: tracemalloc bytes per idle gen_server, started bare
  (``nursery.start_soon(gen_server.start, ...)``) and under a
  ``dynamic_supervisor`` (``start_child`` of a ``child_spec``, built inside the
  window), vs a bare task blocked on a memory channel pair (unbuffered, as
  triotp's mailboxes are).

triotp logs through logbook; as ``triotp.node.run`` does by default, a
``NullHandler`` is bound so no log line is written.

Large sizes are capped: when the first size already takes over 1 s, or a
run's predicted time (growth exponent fitted on the two largest measured
sizes, clamped to [1, 2]) exceeds the budget (``--budget``, 20 s), the size is
not run and its figures are extrapolated, which the output says
(``"extrapolated": true``).
"""

import argparse
import gc
import json
import math
import statistics
import sys
import time
import tracemalloc
import types

import logbook
import trio
import trio.testing
from triotp import dynamic_supervisor, gen_server, mailbox, supervisor

BUDGET_S = 20.0  # most one triotp run may be predicted to take before it is skipped


def log(msg):
    print(f"triotp_bench: {msg}", file=sys.stderr, flush=True)


class Crasher:
    def __init__(self, crashes):
        self.left = crashes

    async def __call__(self):
        if self.left <= 0:
            return
        self.left -= 1
        raise RuntimeError("crash")


async def idle():
    await trio.sleep_forever()


def run(fn, *args):
    gc.collect()
    return trio.run(fn, *args)


# ------------------------------------------------------------ restart
async def restart_triotp(n):
    crasher = Crasher(n)
    spec = supervisor.child_spec(
        id="crasher", task=crasher, args=[], restart=supervisor.restart_strategy.TRANSIENT
    )
    opts = supervisor.options(max_restarts=10 * n + 10, max_seconds=0.001)
    t0 = time.perf_counter()
    await supervisor.start([spec], opts)
    t1 = time.perf_counter()
    assert crasher.left == 0
    return {"total": t1 - t0}


async def restart_bare(n):
    crasher = Crasher(n)
    t0 = time.perf_counter()
    for _ in range(n + 1):
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(crasher)
        except RuntimeError:
            pass
    t1 = time.perf_counter()
    assert crasher.left == 0
    return {"total": t1 - t0}


# ------------------------------------------------------ spawn / teardown
async def spawn_triotp(n):
    specs = [supervisor.child_spec(id=f"c{i}", task=idle, args=[]) for i in range(n)]
    opts = supervisor.options()
    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.start, specs, opts)
        await trio.testing.wait_all_tasks_blocked()
        t1 = time.perf_counter()
        nursery.cancel_scope.cancel()
    t2 = time.perf_counter()
    return {"spawn": t1 - t0, "teardown": t2 - t1, "total": t2 - t0}


async def spawn_bare(n):
    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(idle)
        await trio.testing.wait_all_tasks_blocked()
        t1 = time.perf_counter()
        nursery.cancel_scope.cancel()
    t2 = time.perf_counter()
    return {"spawn": t1 - t0, "teardown": t2 - t1, "total": t2 - t0}


# ---------------------------------------------------------------- call
async def _noop_init(_init_arg):
    return None


async def _noop_handle_call(message, _caller, state):
    return (gen_server.Reply(payload=message), state)


async def _noop_handle_cast(_message, state):
    return (gen_server.NoReply(), state)


#: a gen_server "module": triotp looks its callbacks up with getattr
NOOP_SERVER = types.SimpleNamespace(
    __name__="noop_server",
    init=_noop_init,
    handle_call=_noop_handle_call,
    handle_cast=_noop_handle_cast,
)


async def call_triotp(n, timeout=None):
    mailbox._init()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(gen_server.start, NOOP_SERVER, None, "noop")
        await trio.testing.wait_all_tasks_blocked()
        await gen_server.call("noop", -1, timeout)
        t0 = time.perf_counter()
        for i in range(n):
            await gen_server.call("noop", i, timeout)
        t1 = time.perf_counter()
        nursery.cancel_scope.cancel()
    return {"total": t1 - t0}


async def call_triotp_timeout(n):
    return await call_triotp(n, 5.0)


async def serve_ping(requests, replies):
    async for item in requests:
        await replies.send(item)


async def call_bare(n):
    req_send, req_recv = trio.open_memory_channel(0)
    rep_send, rep_recv = trio.open_memory_channel(0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_ping, req_recv, rep_send)
        await req_send.send(-1)
        await rep_recv.receive()
        t0 = time.perf_counter()
        for i in range(n):
            await req_send.send(i)
            await rep_recv.receive()
        t1 = time.perf_counter()
        nursery.cancel_scope.cancel()
    return {"total": t1 - t0}


def bench_call(quick):
    n = 1000 if quick else 20_000
    k = 2 if quick else 5
    s = side_by_side(
        {
            "triotp": (call_triotp, n),
            "bare": (call_bare, n),
            "timeout": (call_triotp_timeout, n),
        },
        k,
    )
    t, b = best(s["triotp"]["total"]), best(s["bare"]["total"])
    tt = best(s["timeout"]["total"])
    return {
        "ratio": round(t / b, 3),
        "n": n,
        "repeats": k,
        "triotp_us_per_call": us(t, n),
        "bare_us_per_roundtrip": us(b, n),
        "median_ratio": round(
            statistics.median(s["triotp"]["total"]) / statistics.median(s["bare"]["total"]), 3
        ),
        "timeout5_us_per_call": us(tt, n),
        "timeout5_ratio": round(tt / b, 3),
    }


# -------------------------------------------------------------- memory
async def drain(receive):
    async for _ in receive:
        pass


async def memory_triotp(n, mode):
    """Bytes for ``n`` idle servers: ``mode`` is ``"bare"`` (task + unbuffered
    channel pair), ``"gen_server"`` or ``"dynamic_supervisor"``."""
    mailbox._init()
    senders = []
    opts = supervisor.options()
    async with trio.open_nursery() as nursery:
        sup = None
        if mode == "dynamic_supervisor":
            sup = await nursery.start(dynamic_supervisor.start, opts)

        async def spawn(i):
            if mode == "bare":
                send, receive = trio.open_memory_channel(0)
                senders.append(send)
                nursery.start_soon(drain, receive)
            elif mode == "gen_server":
                nursery.start_soon(gen_server.start, NOOP_SERVER)
            else:
                spec = supervisor.child_spec(id=f"s{i}", task=gen_server.start, args=[NOOP_SERVER])
                await dynamic_supervisor.start_child(sup, spec)

        await spawn(-1)  # one first, so lazily built structures are not counted
        await trio.testing.wait_all_tasks_blocked()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            await spawn(i)
        await trio.testing.wait_all_tasks_blocked()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(mailbox.context_mailbox_registry.get()) >= (n if mode != "bare" else 0)
        nursery.cancel_scope.cancel()
    return {"total": after - before}


def bench_memory(quick):
    n = 500 if quick else 10_000
    per = {}
    for mode in ("bare", "gen_server", "dynamic_supervisor"):
        per[mode] = run(memory_triotp, n, mode)["total"] / n
    return {
        # like for like with ours (an agent under a supervisor): the
        # gen_server under triotp's dynamic supervisor, over the bare task
        "ratio": round(per["dynamic_supervisor"] / per["bare"], 3),
        "n": n,
        "bare_bytes": round(per["bare"]),
        "gen_server_bytes": round(per["gen_server"]),
        "dynamic_supervisor_bytes": round(per["dynamic_supervisor"]),
        "gen_server_ratio": round(per["gen_server"] / per["bare"], 3),
    }


# ---------------------------------------------------------- helpers
def side_by_side(sides, repeats):
    """Warm up each side, then run them interleaved; best (min) per phase."""
    for fn, arg in sides.values():
        run(fn, min(arg, 100))
    samples = {name: {} for name in sides}
    for i in range(repeats):
        order = list(sides.items())
        if i % 2:
            order.reverse()
        for name, (fn, arg) in order:
            for phase, value in run(fn, arg).items():
                samples[name].setdefault(phase, []).append(value)
    return samples


def best(values):
    return min(values)


def us(seconds, n):
    return round(seconds / n * 1e6, 3)


def bench_restart(quick):
    n = 200 if quick else 2000
    k = 3 if quick else 5
    s = side_by_side({"triotp": (restart_triotp, n), "bare": (restart_bare, n)}, k)
    t, b = best(s["triotp"]["total"]), best(s["bare"]["total"])
    return {
        "ratio": round(t / b, 3),
        "n": n,
        "repeats": k,
        "triotp_s": round(t, 6),
        "bare_s": round(b, 6),
        "triotp_us_per_restart": us(t, n),
        "bare_us_per_attempt": us(b, n),
        "median_ratio": round(
            statistics.median(s["triotp"]["total"]) / statistics.median(s["bare"]["total"]), 3
        ),
    }


def fitted_exponent(out, a, b, key):
    """Growth exponent of ``key`` between sizes a < b, clamped to [1, 2]: a fit
    over a 2x range is noisy on a shared machine, and triotp's teardown is at
    worst quadratic, so a steeper fit is noise, not signal."""
    ta, tb = out[a][key], out[b][key]
    return min(2.0, max(1.0, math.log(tb / ta) / math.log(b / a)))


def measure_spawn_sizes(sizes, k, budget):
    """triotp's spawn/teardown at each size (ascending); returns {n: figures}.

    A size is skipped, and its figures extrapolated from the two largest
    measured sizes, when the first size already took longer than 1 s or the
    predicted time of one run exceeds the budget.
    """
    out = {}
    for n in sizes:
        measured = [m for m in sorted(out) if not out[m].get("extrapolated")]
        predicted = None
        if len(measured) >= 2:
            a, b = measured[-2], measured[-1]
            predicted = out[b]["triotp_total_s"] * (n / b) ** fitted_exponent(
                out, a, b, "triotp_total_s"
            )
            slow_start = out[measured[0]]["triotp_total_s"] > 1.0
            if predicted > budget or slow_start:
                td_exp = fitted_exponent(out, a, b, "triotp_teardown_s")
                out[n] = {
                    "extrapolated": True,
                    "from_sizes": [a, b],
                    "triotp_total_s": round(predicted, 3),
                    "triotp_spawn_s": round(out[b]["triotp_spawn_s"] / b * n, 3),
                    "triotp_teardown_s": round(out[b]["triotp_teardown_s"] * (n / b) ** td_exp, 3),
                    "teardown_exponent": round(td_exp, 2),
                }
                log(f"n={n}: predicted {predicted:.1f} s; not run, extrapolated")
                # bare trio is cheap: measure it at n rather than scale it
                bare = side_by_side({"bare": (spawn_bare, n)}, k)["bare"]
                for phase in ("total", "spawn", "teardown"):
                    out[n][f"bare_{phase}_s"] = round(best(bare[phase]), 6)
                continue
        reps = 1 if predicted is not None and predicted > 3.0 else k
        log(f"spawn/teardown n={n} x{reps}")
        s = side_by_side({"triotp": (spawn_triotp, n), "bare": (spawn_bare, n)}, reps)
        tp, bare = s["triotp"], s["bare"]
        out[n] = {
            "extrapolated": False,
            "repeats": reps,
            "triotp_total_s": round(best(tp["total"]), 6),
            "triotp_spawn_s": round(best(tp["spawn"]), 6),
            "triotp_teardown_s": round(best(tp["teardown"]), 6),
            "bare_total_s": round(best(bare["total"]), 6),
            "bare_spawn_s": round(best(bare["spawn"]), 6),
            "bare_teardown_s": round(best(bare["teardown"]), 6),
        }
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--budget", type=float, default=BUDGET_S, help="seconds one run may take")
    args = p.parse_args()
    wanted = set(args.only) or {
        "restart",
        "spawn_teardown",
        "teardown_linear",
        "call",
        "memory_per_agent",
    }
    result = {
        "triotp": __import__("importlib.metadata").metadata.version("triotp"),
        "trio": trio.__version__,
        "python": sys.version.split()[0],
        "budget_s": args.budget,
        "benchmarks": {},
    }
    with logbook.NullHandler().applicationbound():
        if "restart" in wanted:
            log("restart")
            result["benchmarks"]["restart"] = bench_restart(args.quick)
        if "call" in wanted:
            log("call")
            result["benchmarks"]["call"] = bench_call(args.quick)
        if "memory_per_agent" in wanted:
            log("memory_per_agent")
            result["benchmarks"]["memory_per_agent"] = bench_memory(args.quick)
        if wanted & {"spawn_teardown", "teardown_linear"}:
            n = 1000 if args.quick else 10_000
            small = n // 10
            k = 2 if args.quick else 3
            sizes = sorted({small, 2 * small, n})
            by_size = measure_spawn_sizes(sizes, k, args.budget)
            result["sizes"] = {str(m): v for m, v in by_size.items()}
            big, little = by_size[n], by_size[small]
            if "spawn_teardown" in wanted:
                fig = {
                    "n": n,
                    "extrapolated": big["extrapolated"],
                    "ratio": round(big["triotp_total_s"] / big["bare_total_s"], 3),
                    "triotp_spawn_us": us(big["triotp_spawn_s"], n),
                    "triotp_teardown_us": us(big["triotp_teardown_s"], n),
                    "triotp_total_s": big["triotp_total_s"],
                    "bare_spawn_us": us(big["bare_spawn_s"], n),
                    "bare_teardown_us": us(big["bare_teardown_s"], n),
                    "bare_total_s": big["bare_total_s"],
                }
                result["benchmarks"]["spawn_teardown"] = fig
            if "teardown_linear" in wanted:
                result["benchmarks"]["teardown_linear"] = {
                    "ratio": round(big["triotp_teardown_s"] / little["triotp_teardown_s"], 3),
                    "n": small,
                    "n10": n,
                    "n_ms": round(little["triotp_teardown_s"] * 1e3, 3),
                    "n10_ms": round(big["triotp_teardown_s"] * 1e3, 3),
                    "extrapolated": big["extrapolated"],
                }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
