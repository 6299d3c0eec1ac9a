"""Engine benchmarks: executions through the real Celery worker, Redis and PostgreSQL.

- latency: create → SUCCESS of a one-task Log flow, one execution at a time.
- throughput: a ten-task flow, executions kept in flight for a fixed time; task runs/s.
- overhead: 40 sequential tasks in one execution (Log; Python Script when implemented).

Executions are created with the service the API calls (`execution_create`) and observed by
polling their row; the server-side figures come from the execution's own state history.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from django.utils import timezone

from bench.environment import CpuMeter
from bench.report import Report, distribution_ms
from executions.engine.states import State
from executions.engine.tasks import tasks as task_registry
from executions.search import execution_states, task_run_end_dates
from executions.selectors import execution_get
from executions.services import execution_create
from flows.services import flow_create, flow_update
from tenants.errors import NotFound
from tenants.models import Tenant

if TYPE_CHECKING:
    from accounts.models import User

NAMESPACE = "bench"
ENGINE_TENANT = "bench-engine"
PYTHON_SCRIPT = "io.kestra.plugin.scripts.python.Script"
LOG_TASK = """\
  - id: log{n}
    type: io.kestra.plugin.core.log.Log
    message: "task {n} of {{{{ flow.id }}}}"
"""
SCRIPT_TASK = """\
  - id: fibo{n}
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    script: |
      def fibo(n):
          return n if n < 2 else fibo(n - 1) + fibo(n - 2)
      print(fibo(10))
"""


def sequential_flow(flow_id: str, count: int, task: str) -> str:
    tasks = "".join(task.format(n=n) for n in range(1, count + 1))
    return f"id: {flow_id}\nnamespace: {NAMESPACE}\ntasks:\n{tasks}"


@dataclass(frozen=True)
class Engine:
    tenant: Tenant

    def submit(self, flow_id: str) -> str:
        return execution_create(
            tenant=self.tenant, namespace=NAMESPACE, flow_id=flow_id, provided={}
        ).id

    def states(self, ids: list[str]) -> dict[str, str]:
        return execution_states(tenant=self.tenant, ids=ids)

    def wait(self, execution_id: str, *, poll: float = 0.002, timeout: float = 60) -> str:
        """Poll the row every `poll` seconds until the execution ends; its final state."""
        deadline = time.perf_counter() + timeout
        while True:
            state = self.states([execution_id]).get(execution_id)
            if state is not None and State(state).terminated:
                return state
            if time.perf_counter() > deadline:
                raise TimeoutError(f"execution {execution_id} still {state} after {timeout} s")
            time.sleep(poll)

    def server_times(self, execution_id: str) -> tuple[float, float]:
        """(CREATED → end, RUNNING → end) in seconds, from the execution's state history."""
        row = execution_get(tenant=self.tenant, execution_id=execution_id)
        dates = {state: datetime.fromisoformat(date) for state, date in row.histories}
        end = datetime.fromisoformat(row.histories[-1][1])
        created = dates.get("CREATED", row.start_date)
        running = dates.get("RUNNING", created)
        return (end - created).total_seconds(), (end - running).total_seconds()


def engine_setup(flows: dict[str, str]) -> Engine:
    """The engine benchmarks' tenant, its user and flows (idempotent; runs keep nothing else)."""
    from accounts.services import membership_add
    from tenants.selectors import tenant_find
    from tenants.services import tenant_create

    tenant = tenant_find(slug=ENGINE_TENANT) or tenant_create(slug=ENGINE_TENANT, name="Bench")
    user = bench_user()
    membership_add(tenant=tenant, user=user)
    for flow_id, source in flows.items():
        try:
            flow_update(
                tenant=tenant, user=user, namespace=NAMESPACE, flow_id=flow_id, source=source
            )
        except NotFound:
            flow_create(tenant=tenant, user=user, source=source)
    return Engine(tenant)


def bench_user() -> User:
    from accounts.selectors import user_find_by_email
    from accounts.services import user_create

    email = "bench@aviary.invalid"
    return user_find_by_email(email=email) or user_create(email=email, password=None)


# --- latency ----------------------------------------------------------------------------------


def latency(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    warmup, runs = (1, 5) if quick else (20, 200)
    report = Report(
        "latency",
        parameters={
            "flow": "1 Log task",
            "warmup_runs": warmup,
            "runs": runs,
            "poll_interval_ms": 2,
            "measured": "wall time from before execution_create() to the row seen terminal",
        },
        targets={"p50_ms": ("<=", 20), "p99_ms": ("<=", 60)},
    )
    engine = engine_setup({"latency": sequential_flow("latency", 1, LOG_TASK)})
    wall, server, states = [], [], []
    meter = None
    for index in range(warmup + runs):
        if index == warmup:
            meter = CpuMeter(**processes)
        started = time.perf_counter()
        execution_id = engine.submit("latency")
        state = engine.wait(execution_id)
        elapsed = time.perf_counter() - started
        if index >= warmup:
            wall.append(elapsed)
            server.append(engine.server_times(execution_id)[0])
            states.append(state)
    log.write(f"[bench] latency: {runs} runs, p50 {statistics.median(wall) * 1000:.1f} ms\n")
    report.results = {
        **distribution_ms(wall),
        **distribution_ms(server, prefix="server_"),
        "not_success": sum(state != State.SUCCESS for state in states),
        "cpu_seconds": meter.spent() if meter is not None else None,
    }
    if report.results["not_success"]:
        report.fail(f"{report.results['not_success']} execution(s) did not end in SUCCESS")
    return report


# --- throughput -------------------------------------------------------------------------------


def throughput(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    tasks_per_execution = 10
    seconds, warmup, in_flight = (1.5, 0.5, 4) if quick else (30.0, 5.0, 32)
    report = Report(
        "throughput",
        parameters={
            "flow": f"{tasks_per_execution} sequential Log tasks",
            "seconds": seconds,
            "warmup_seconds": warmup,
            "in_flight": in_flight,
            "method": "closed loop: a new execution is submitted as soon as one ends, so "
            f"{in_flight} are always queued or running; task runs/s = task runs whose "
            "history ends inside the measured window / window",
        },
        targets={"task_runs_per_s": (">=", 150)},
    )
    engine = engine_setup({"throughput": sequential_flow("throughput", 10, LOG_TASK)})
    pending: dict[str, float] = {}
    ended: list[tuple[float, float, str]] = []  # (ended at, latency, state)
    submitted: list[str] = []
    begin = time.perf_counter()
    meter = CpuMeter(**processes)
    window = (begin + warmup, begin + warmup + seconds)
    dates = (timezone.now() + timedelta(seconds=warmup),)
    dates += (dates[0] + timedelta(seconds=seconds),)
    while time.perf_counter() < window[1]:
        while len(pending) < in_flight:
            submitted.append(engine.submit("throughput"))
            pending[submitted[-1]] = time.perf_counter()
        _collect(engine, pending, ended)
        time.sleep(0.005)
    cpu = meter.spent()  # warm-up and window, before the drain
    drain_deadline = time.perf_counter() + (60 if quick else 300)
    while pending and time.perf_counter() < drain_deadline:
        _collect(engine, pending, ended)
        time.sleep(0.02)
    runs_in_window = sum(
        dates[0] <= end < dates[1]
        for end in task_run_end_dates(tenant=engine.tenant, execution_ids=submitted)
    )
    inside = [item for item in ended if window[0] <= item[0] < window[1]]
    not_success = sum(state != State.SUCCESS for _, _, state in ended)
    report.results = {
        "task_runs_per_s": round(runs_in_window / seconds, 1),
        "task_runs_in_window": runs_in_window,
        "executions_ended_per_s": round(len(inside) / seconds, 2),
        "executions_submitted": len(submitted),
        **distribution_ms([latency for _, latency, _ in ended], prefix="execution_"),
        "not_success": not_success,
        "unfinished_after_drain": len(pending),
        "cpu_seconds": cpu,
    }
    log.write(f"[bench] throughput: {report.results['task_runs_per_s']} task runs/s\n")
    if not_success or pending:
        report.fail(f"{not_success} execution(s) not SUCCESS, {len(pending)} never ended")
    return report


def _collect(engine: Engine, pending: dict[str, float], ended: list) -> None:
    now = time.perf_counter()
    for execution_id, state in engine.states(list(pending)).items():
        if State(state).terminated:
            ended.append((now, now - pending.pop(execution_id), state))


# --- overhead ---------------------------------------------------------------------------------


def overhead(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    count, warmup, runs = (5, 0, 1) if quick else (40, 1, 5)
    python_implemented = task_registry.get(PYTHON_SCRIPT) is not None
    log_flow, python_flow = f"overhead-log-{count}", f"overhead-python-{count}"
    flows = {log_flow: sequential_flow(log_flow, count, LOG_TASK)}
    if python_implemented:
        flows[python_flow] = sequential_flow(python_flow, count, SCRIPT_TASK)
    report = Report(
        "overhead",
        parameters={
            "tasks": count,
            "warmup_runs": warmup,
            "runs": runs,
            "measured": "the execution's RUNNING → end (state history) / tasks; median of runs",
            "python_script": "fibo(10) with the Process runner",
        },
        targets={"log_ms_per_task": ("<=", 10), "python_ms_per_task": ("<=", 50)},
    )
    engine = engine_setup(flows)
    report.results.update(_per_task(engine, log_flow, count, warmup, runs, "log_"))
    if python_implemented:
        report.results.update(_per_task(engine, python_flow, count, warmup, runs, "python_"))
    else:
        report.skipped["python_ms_per_task"] = "python Script not implemented"
        report.results["python_ms_per_task"] = None
    failed = report.results["log_not_success"] + (report.results.get("python_not_success") or 0)
    if failed:
        report.fail(f"{failed} execution(s) did not end in SUCCESS")
    log.write(f"[bench] overhead: {report.results['log_ms_per_task']} ms per Log task\n")
    return report


def _per_task(
    engine: Engine, flow_id: str, count: int, warmup: int, runs: int, prefix: str
) -> dict[str, Any]:
    per_task, wall_per_task, failed = [], [], 0
    for index in range(warmup + runs):
        started = time.perf_counter()
        execution_id = engine.submit(flow_id)
        state = engine.wait(execution_id, poll=0.005, timeout=300)
        elapsed = time.perf_counter() - started
        if index < warmup:
            continue
        failed += state != State.SUCCESS
        per_task.append(engine.server_times(execution_id)[1] * 1000 / count)
        wall_per_task.append(elapsed * 1000 / count)
    return {
        f"{prefix}ms_per_task": round(statistics.median(per_task), 2),
        f"{prefix}ms_per_task_min_max": [round(min(per_task), 2), round(max(per_task), 2)],
        f"{prefix}wall_ms_per_task": round(statistics.median(wall_per_task), 2),
        f"{prefix}not_success": failed,
    }
