"""`bench schedule`: 1,000 flows with a Schedule trigger each, all due on the same minute.

The real `manage.py scheduler` process runs the ticks (as `manage.py up` starts it) and the
benchmark's Celery worker runs the executions. After a warm-up tick (the scheduler reads the
specs once per revision), each measured tick T is observed from outside:

- stored: when each execution of T is committed, i.e. visible to another connection (the
  benchmark counts them every 10 ms; the k-th execution counts as stored at the first count
  that reached k), minus T. Its message to the executor leaves right after that commit. This
  is the start delay the target is about;
- created: the execution's creation date (set by the scheduler before its batch is
  written) minus T;
- running: the execution's RUNNING date (its state history, written by the executor that
  took the message) minus T;
- free_stored: `stored` for the triggers that were free at T. A Schedule waits for the
  execution it started (Kestra's trigger lock), so a trigger whose previous execution had
  not ended at T is stored when it ends (`held_at_tick` per tick): `stored` counts that
  wait, `free_stored` is the scheduler's own delay (the first executions counted are those
  of the free triggers, which the scheduler runs at T);
- every trigger gives exactly one execution per tick, and every execution ends SUCCESS (a
  missing, repeated or failed one makes the run invalid); `all_ended_s` is when the last
  one of a tick ended. A Schedule waits for its running execution, so a drain slower than
  the interval would delay the next tick: it shows in the next tick's figures.

The counting query runs every 10 ms while a tick's executions are being stored: it costs
the machine a little of what it measures.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from django.db.models import Count
from django.utils import timezone

from bench.engine import bench_user
from bench.environment import BenchError, CpuMeter, Service
from bench.report import Report, distribution_ms
from executions.engine.states import State
from executions.models import Execution
from flows.models import Flow
from flows.services import flow_create, flow_update
from tenants.models import Tenant
from triggers.engine.cron import Cron
from triggers.models import Trigger

TENANT = "bench-schedule"
NAMESPACE = "bench.schedule"
POLL_SECONDS = 0.01

FLOW = """id: every_{n:04d}
namespace: bench.schedule
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "tick {{{{ trigger.date }}}}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{cron}"
    withSeconds: {seconds}
"""


def schedule(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    count, cron, with_seconds, measured = (
        (20, "*/10 * * * * *", True, 2) if quick else (1000, "* * * * *", False, 3)
    )
    report = Report(
        "schedule",
        parameters={
            "flows": count,
            "cron": cron,
            "flow": "1 Log task, 1 Schedule trigger",
            "warmup_ticks": 1,
            "measured_ticks": measured,
            "poll_interval_ms": POLL_SECONDS * 1000,
            "measured": "stored = execution committed (seen by another connection, counted "
            "every 10 ms) - tick; created = execution's creation date - tick; running = "
            "RUNNING date in its state history - tick",
        },
        targets={"stored_p99_ms": ("<=", 1000)},
    )
    tenant = _setup(count, cron, with_seconds, log)
    ticks = Cron({"cron": cron, "withSeconds": with_seconds})
    first = _reset(tenant, ticks)  # before the scheduler starts: its waker would race
    scheduler = Service(
        "scheduler", [sys.executable, "manage.py", "scheduler"], "Scheduler running", log
    )
    try:
        all_ticks = [first]
        while len(all_ticks) < 1 + measured:
            all_ticks.append(ticks.next(all_ticks[-1]))  # type: ignore[arg-type]
        meter = None
        seen: dict[datetime, list[float]] = {tick: [] for tick in all_ticks}
        deadline = all_ticks[-1] + timedelta(seconds=60 if quick else 120)
        while timezone.now() < deadline and any(len(v) < count for v in seen.values()):
            if meter is None and timezone.now() >= all_ticks[1] - timedelta(seconds=0.5):
                meter = CpuMeter(**processes, scheduler=scheduler.process.pid)
            _observe(tenant, seen, count)
            # every 10 ms while a tick's executions are being stored, then every 100 ms
            # (triggers held by their previous execution come one by one, for minutes)
            recent = any(
                timedelta(0) <= timezone.now() - tick <= timedelta(seconds=5) for tick in seen
            )
            time.sleep(POLL_SECONDS if recent else 0.1)
        cpu = meter.spent() if meter is not None else None
        stored: list[float] = []
        free_stored: list[float] = []
        created: list[float] = []
        running: list[float] = []
        per_tick: list[dict[str, Any]] = []
        previous_ends: dict[str, datetime | None] = {}
        for index, tick in enumerate(all_ticks):
            finished = _finish(tenant, tick, count, timeout=60 if quick else 120)
            # triggers whose previous execution was still running at the tick wait for it
            free = sum(
                1
                for row in finished["rows"]
                if (end := previous_ends.get(row["flow_id"])) is not None and end <= tick
            )
            previous_ends = {row["flow_id"]: row["ended"] for row in finished["rows"]}
            log.write(
                f"[bench] schedule tick {tick.isoformat()}: {len(seen[tick])} stored, last "
                f"after {max(seen[tick], default=0):.3f} s, all ended after "
                f"{finished['drained']:.1f} s\n"
            )
            for problem in finished["problems"]:
                report.fail(f"tick {tick.isoformat()}: {problem}")
            if index == 0:
                continue  # the warm-up
            stored += seen[tick]
            free_stored += sorted(seen[tick])[:free]  # the free ones are stored first
            created += [row["created"] for row in finished["rows"]]
            running += [row["running"] for row in finished["rows"] if row["running"]]
            per_tick.append(
                {**_tick_summary(tick, seen[tick], finished), "held_at_tick": count - free}
            )
        report.results = {
            **distribution_ms(stored, prefix="stored_"),
            **distribution_ms(free_stored, prefix="free_stored_"),
            **distribution_ms(created, prefix="created_"),
            **distribution_ms(running, prefix="running_"),
            "executions_per_tick": [item["executions"] for item in per_tick],
            "ticks": per_tick,
            "cpu_seconds": cpu,
        }
    finally:
        scheduler.stop()
    return report


def _setup(count: int, cron: str, with_seconds: bool, log: TextIO) -> Tenant:
    """The tenant and its flows (kept between runs; only what differs is written)."""
    from accounts.services import membership_add
    from tenants.selectors import tenant_find
    from tenants.services import tenant_create

    tenant = tenant_find(slug=TENANT) or tenant_create(slug=TENANT, name="Bench schedule")
    user = bench_user()
    membership_add(tenant=tenant, user=user)
    existing = dict(
        Flow.objects.for_tenant(tenant).filter(deleted=False).values_list("flow_id", "source")
    )
    wanted = {
        f"every_{n:04d}": FLOW.format(n=n, cron=cron, seconds=str(with_seconds).lower())
        for n in range(count)
    }
    written = 0
    for flow_id, source in wanted.items():
        if flow_id not in existing:
            flow_create(tenant=tenant, user=user, source=source)
        elif existing[flow_id] != source:
            flow_update(
                tenant=tenant, user=user, namespace=NAMESPACE, flow_id=flow_id, source=source
            )
        else:
            continue
        written += 1
    for flow_id in existing.keys() - wanted.keys():  # a quick run's flows, a full run's
        Trigger.objects.for_tenant(tenant).filter(flow_id=flow_id).update(disabled=True)
    Trigger.objects.for_tenant(tenant).filter(flow_id__in=list(wanted)).update(disabled=False)
    if written:
        log.write(f"[bench] schedule: {written} flow(s) written\n")
    return tenant


def _reset(tenant: Tenant, ticks: Cron) -> datetime:
    """No execution left from an earlier run (an interrupted one leaves some unfinished,
    which the executor would run alongside this run's), every trigger unlocked and due at
    the same coming tick, at least 8 s away (the scheduler starts meanwhile): the warm-up."""
    Execution.objects.for_tenant(tenant).delete()
    first = ticks.next(timezone.now() + timedelta(seconds=8))
    if first is None:
        raise BenchError(f"the cron {ticks.expression!r} has no next tick")
    Trigger.objects.for_tenant(tenant).filter(disabled=False).update(
        next_date=first, execution_id="", backfill=None
    )
    return first


def _iso(tick: datetime) -> str:
    return tick.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _tick_rows(tenant: Tenant, tick: datetime) -> Any:
    """The tick's executions (created after it; the date in their trigger variables)."""
    return Execution.objects.for_tenant(tenant).filter(
        start_date__gte=tick - timedelta(seconds=1), trigger__variables__date=_iso(tick)
    )


def _observe(tenant: Tenant, seen: dict[datetime, list[float]], count: int) -> None:
    """Count the committed executions of every tick that has come and is not complete, in
    one query: the k-th one counts as stored at the first count that reached k (see the
    module doc)."""
    now = datetime.now(UTC)
    open_ticks = [
        tick
        for tick, delays in seen.items()
        if tick - timedelta(seconds=0.2) <= now and len(delays) < count
    ]
    if not open_ticks:
        return
    counts = dict(
        Execution.objects.for_tenant(tenant)
        .filter(start_date__gte=min(open_ticks) - timedelta(seconds=1))
        .values_list("trigger__variables__date")
        .annotate(visible=Count("id"))
        .values_list("trigger__variables__date", "visible")
    )
    at = (datetime.now(UTC) - min(open_ticks)).total_seconds()
    for tick in open_ticks:
        delays = seen[tick]
        offset = (tick - min(open_ticks)).total_seconds()
        delays += [at - offset] * (counts.get(_iso(tick), 0) - len(delays))


def _finish(tenant: Tenant, tick: datetime, count: int, *, timeout: float) -> dict[str, Any]:
    """Wait for the tick's executions to end; their creation and RUNNING delays, and what
    is wrong with the tick (missing, repeated or failed executions)."""
    rows = _tick_rows(tenant, tick)
    deadline = time.monotonic() + timeout
    terminated = [state.value for state in State if state.terminated]
    while rows.exclude(state__in=terminated).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    result: dict[str, Any] = {"rows": [], "problems": [], "drained": 0.0}
    triggers: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for flow_id, start, histories, trigger, state in rows.values_list(
        "flow_id", "start_date", "histories", "trigger", "state"
    ):
        triggers[flow_id] += 1
        states[state] += 1
        dates = {entry[0]: datetime.fromisoformat(entry[1]) for entry in histories}
        ended = datetime.fromisoformat(histories[-1][1])
        result["drained"] = max(result["drained"], (ended - tick).total_seconds())
        ended_at = ended if State(state).terminated else None
        if trigger["variables"]["date"] != _iso(tick):
            result["problems"].append(f"{flow_id}: tick date {trigger['variables']['date']}")
        result["rows"].append(
            {
                "flow_id": flow_id,
                "ended": ended_at,
                "created": (start - tick).total_seconds(),
                "running": (dates["RUNNING"] - tick).total_seconds()
                if "RUNNING" in dates
                else None,
            }
        )
    if len(triggers) != count:
        result["problems"].append(f"{count - len(triggers)} trigger(s) did not run")
    repeated = [flow_id for flow_id, seen in triggers.items() if seen > 1]
    if repeated:
        result["problems"].append(f"ran twice: {', '.join(sorted(repeated)[:5])}")
    if states.keys() - {State.SUCCESS.value}:
        result["problems"].append(f"states {dict(states)}")
    result["states"] = dict(states)
    return result


def _tick_summary(tick: datetime, seen: list[float], finished: dict[str, Any]) -> dict[str, Any]:
    return {
        "tick": tick.isoformat(),
        "executions": len(finished["rows"]),
        "last_stored_ms": round(max(seen, default=0) * 1000, 1),
        "all_ended_s": round(finished["drained"], 2),
        "states": finished["states"],
    }
