"""The ForEach benchmark: one execution looping over many items on the real Celery worker.

- `ForEach` over 1,000 items whose child is an `OutputValues` (its outputs are addressed by
  value), once with `concurrencyLimit: 0` (every item at once) and once with 16: total time
  (create → end, wall and state history), task runs per second, the throughput of the last
  100 iterations over that of the first 100 (the per-report cost must not grow with what
  the execution already holds), and the stored size of the execution row and its task runs.
- Kill: an execution with 100 iterations under way (a `Sequential` around a long `Sleep`:
  100 running flowable task runs, the Sleeps running or queued), then the kill service the
  API calls: time until the execution is KILLED, and until every task run has ended.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any, TextIO

from amqp.exceptions import ChannelError
from django.db import connection

from bench.engine import NAMESPACE, Engine, engine_setup
from bench.environment import CpuMeter
from bench.report import Report
from executions.engine.states import State
from executions.models import TaskRun

WINDOW = 100  # iterations compared at the start and at the end


def foreach_flow(flow_id: str, items: int, limit: int) -> str:
    values = ", ".join(str(n) for n in range(items))
    return f"""id: {flow_id}
namespace: {NAMESPACE}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [{values}]
    concurrencyLimit: {limit}
    tasks:
      - id: out
        type: io.kestra.plugin.core.output.OutputValues
        values:
          item: "{{{{ taskrun.value }}}}"
"""


def kill_flow(flow_id: str, items: int) -> str:
    values = ", ".join(str(n) for n in range(items))
    return f"""id: {flow_id}
namespace: {NAMESPACE}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [{values}]
    concurrencyLimit: 0
    tasks:
      - id: hold
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT60S
"""


def foreach(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    items, limits, kill_items = (40, (0, 4), 10) if quick else (1000, (0, 16), 100)
    window = min(WINDOW, items // 4)
    report = Report(
        "foreach",
        parameters={
            "items": items,
            "child": "OutputValues (item: {{ taskrun.value }})",
            "concurrency_limits": list(limits),
            "ratio_window_iterations": window,
            "kill_iterations": kill_items,
            "measured": "create → end from the state history; iterations ordered by the "
            "end of their child; ratio = rate of the last window / rate of the first "
            "(the first counted from the ForEach's start); sizes are pg_column_size",
        },
        targets={
            **{f"limit_{limit}_seconds": ("<=", 10) for limit in limits},
            **{f"limit_{limit}_last_first_ratio": (">=", 0.8) for limit in limits},
        },
    )
    flows = {f"foreach-{limit}": foreach_flow(f"foreach-{limit}", items, limit) for limit in limits}
    flows["foreach-kill"] = kill_flow("foreach-kill", kill_items)
    engine = engine_setup(flows)
    for limit in limits:
        drained = _wait_for_empty_queues()
        meter = CpuMeter(**processes)
        results = _loop(engine, f"foreach-{limit}", items, window)
        results["queue_drain_before_seconds"] = drained
        results["cpu_seconds"] = meter.spent()
        report.results.update({f"limit_{limit}_{key}": value for key, value in results.items()})
        log.write(
            f"[bench] foreach limit {limit}: {results['seconds']} s, "
            f"{results['task_runs_per_s']} task runs/s, ratio {results['last_first_ratio']}\n"
        )
        if results["state"] != State.SUCCESS:
            report.fail(f"foreach with limit {limit} ended {results['state']}")
    kill = _kill(engine, "foreach-kill", kill_items, log)
    report.results.update(kill)
    if kill.get("kill_state") != State.KILLED:
        report.fail(f"the killed execution ended {kill.get('kill_state')}")
    return report


def _wait_for_empty_queues(timeout: float = 120.0) -> float:
    """Each execution measured alone: the messages an earlier one left behind (for task runs
    a batch took meanwhile: each ends at once) are drained first. Returns the seconds it
    took, reported with the figures."""
    from config.celery import app

    started = time.perf_counter()
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        while time.perf_counter() - started < timeout:
            waiting = sum(_waiting(channel, queue) for queue in ("executor", "worker"))
            if waiting == 0:
                break
            time.sleep(0.05)
    time.sleep(0.3)  # what the workers had prefetched
    return round(time.perf_counter() - started, 3)


def _waiting(channel: Any, queue: str) -> int:
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:  # not declared yet: nothing was ever sent to it
        return 0


def _loop(engine: Engine, flow_id: str, items: int, window: int) -> dict[str, Any]:
    started = time.perf_counter()
    execution_id = engine.submit(flow_id)
    state = engine.wait(execution_id, poll=0.01, timeout=600)
    wall = time.perf_counter() - started
    server, running = engine.server_times(execution_id)
    runs = _runs(engine, execution_id)
    loop = next(run for run in runs if run["task_id"] == "each")
    ends = sorted(run["end"] for run in runs if run["task_id"] == "out" and run["end"])
    begin = loop["start"]
    first = window / max((ends[window - 1] - begin).total_seconds(), 1e-6)
    last = window / max((ends[-1] - ends[-window - 1]).total_seconds(), 1e-6)
    sizes = _sizes(execution_id)
    return {
        "state": state,
        "seconds": round(server, 3),
        "running_seconds": round(running, 3),
        "wall_seconds": round(wall, 3),
        "task_runs": len(runs),
        "task_runs_per_s": round(len(runs) / server, 1),
        "first_window_iterations_per_s": round(first, 1),
        "last_window_iterations_per_s": round(last, 1),
        "last_first_ratio": round(last / first, 3),
        **sizes,
    }


def _runs(engine: Engine, execution_id: str) -> list[dict[str, Any]]:
    rows = TaskRun.objects.for_tenant(engine.tenant).filter(execution_id=execution_id)
    result = []
    for task_id, state, histories in rows.values_list("task_id", "state", "histories"):
        dates = [datetime.fromisoformat(date) for _, date in histories]
        ended = State(state).terminated
        result.append({"task_id": task_id, "start": dates[0], "end": dates[-1] if ended else None})
    return result


def _sizes(execution_id: str) -> dict[str, int]:
    """Bytes as stored (pg_column_size of each row, TOAST-compressed where it applies)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(e.*) FROM executions_execution e WHERE e.id = %s",
            [execution_id],
        )
        (execution_bytes,) = cursor.fetchone()
        cursor.execute(
            "SELECT coalesce(sum(pg_column_size(t.*)), 0), coalesce(max(pg_column_size(t.*)), 0),"
            " count(*) FROM executions_taskrun t WHERE t.execution_id = %s",
            [execution_id],
        )
        total, largest, count = cursor.fetchone()
    return {
        "execution_row_bytes": int(execution_bytes),
        "task_runs_bytes": int(total),
        "largest_task_run_bytes": int(largest),
        "task_run_mean_bytes": int(total) // max(int(count), 1),
    }


def _kill(engine: Engine, flow_id: str, items: int, log: TextIO) -> dict[str, Any]:
    try:
        from executions.lifecycle import execution_kill
    except ImportError:  # the kill service is not there
        return {"kill_skipped": "executions.lifecycle.execution_kill is not available"}
    execution_id = engine.submit(flow_id)
    rows = TaskRun.objects.for_tenant(engine.tenant).filter(execution_id=execution_id)
    deadline = time.perf_counter() + 120
    while rows.filter(state=State.RUNNING.value, task_id="hold").count() < items:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{items} iterations were not all under way after 120 s")
        time.sleep(0.02)
    running = rows.filter(state=State.RUNNING.value).count()
    sleeping = rows.filter(state=State.RUNNING.value, task_id="nap").count()
    started = time.perf_counter()
    execution_kill(tenant=engine.tenant, execution_id=execution_id)
    state = engine.wait(execution_id, poll=0.002, timeout=60)
    killed = time.perf_counter() - started
    deadline = time.perf_counter() + 60
    while rows.exclude(state__in=[s.value for s in State if s.terminated]).exists():
        if time.perf_counter() > deadline:
            break
        time.sleep(0.01)
    settled = time.perf_counter() - started
    left = rows.exclude(state__in=[s.value for s in State if s.terminated]).count()
    states = list(rows.values_list("state", flat=True))
    log.write(f"[bench] kill: KILLED after {killed * 1000:.1f} ms, all ended {settled:.2f} s\n")
    return {
        "kill_state": state,
        "kill_running_task_runs": running,
        "kill_running_sleeps": sleeping,
        "kill_to_killed_ms": round(killed * 1000, 1),
        "kill_to_all_task_runs_ended_ms": round(settled * 1000, 1),
        "kill_task_runs_left_unfinished": left,
        "kill_task_run_states": dict(Counter(states)),
    }
