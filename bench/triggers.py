"""`bench triggers`: Flow-trigger matching at scale.

10,000 flows with a Flow trigger across 100 tenants (100 per tenant: 80 listen to one
upstream flow each with an ExecutionFlow condition, 20 wait for two upstream flows with
`preconditions` in a one-hour SLIDING_WINDOW), plus 120 upstream flows per tenant. A driver
thread ends upstream executions at a fixed rate (each stored RUNNING then SUCCESS through
the engine's own save, so its transitions go to the outbox as in production) in random
tenants and flows; the evaluator (`triggers.flow_triggers`, the code the workers and the
scheduler run) drains the outbox meanwhile.

Figures: the matching cost of each terminal transition (finding the candidates through the
key index and evaluating them, precondition windows included; creating the downstream
executions is not matching), and a check of the outcome: every downstream execution the
event sequence calls for exists, none twice.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TextIO

from django.db import connection
from django.utils import timezone

from bench.report import Report, distribution_ms
from executions import snapshots, transitions
from executions.engine.model import new_execution
from executions.engine.states import EXECUTION_TRANSITIONS, State
from executions.models import Execution, ExecutionTransition
from flows.models import Flow
from flows.services import flow_create
from tenants.models import Tenant
from triggers import flow_triggers
from triggers.models import PreconditionWindow

TENANT_PREFIX = "trig"
NAMESPACE = "bench.triggers"


@dataclass(frozen=True)
class Layout:
    """Listeners per tenant: `simple` ones on one upstream flow each, `paired` ones on two;
    one upstream flow per simple listener and two per paired one."""

    simple: int
    paired: int

    @property
    def upstreams(self) -> int:
        return self.simple + 2 * self.paired

    @property
    def listeners(self) -> int:
        return self.simple + self.paired


FULL, QUICK = Layout(80, 20), Layout(8, 2)

UPSTREAM = """id: up_{n}
namespace: bench.triggers
tasks:
  - id: only
    type: io.kestra.plugin.core.log.Log
    message: up
"""

SIMPLE_LISTENER = """id: listen_{n}
namespace: bench.triggers
tasks:
  - id: only
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.executionId }}}}"
triggers:
  - id: on_up
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: bench.triggers
        flowId: up_{n}
"""

PAIRED_LISTENER = """id: listen_{n}
namespace: bench.triggers
tasks:
  - id: only
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.executionId }}}}"
triggers:
  - id: on_both
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: both
      timeWindow:
        type: SLIDING_WINDOW
        window: PT1H
      flows:
        - namespace: bench.triggers
          flowId: up_{a}
          states: [SUCCESS]
        - namespace: bench.triggers
          flowId: up_{b}
          states: [SUCCESS]
"""


def listeners_of(layout: Layout, upstream: int) -> list[tuple[int, str]]:
    """(listener number, kind) of the listeners an execution of `up_<upstream>` concerns."""
    if upstream < layout.simple:
        return [(upstream, "simple")]
    pair = (upstream - layout.simple) // 2
    return [(layout.simple + pair, "paired")]


def flow_sources(layout: Layout) -> list[str]:
    sources = [UPSTREAM.format(n=n) for n in range(layout.upstreams)]
    sources += [SIMPLE_LISTENER.format(n=n) for n in range(layout.simple)]
    for pair in range(layout.paired):
        a, b = layout.simple + 2 * pair, layout.simple + 2 * pair + 1
        sources.append(PAIRED_LISTENER.format(n=layout.simple + pair, a=a, b=b))
    return sources


def triggers(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    tenant_count, rate, seconds = (2, 20, 5) if quick else (100, 50, 60)
    layout = QUICK if quick else FULL
    report = Report(
        "triggers",
        parameters={
            "tenants": tenant_count,
            "flow_triggers": tenant_count * layout.listeners,
            "paired_share": layout.paired / layout.listeners,
            "upstream_per_second": rate,
            "seconds": seconds,
        },
        targets={"matching_p50_ms": ("<=", 1.0), "matching_p99_ms": ("<=", 5.0)},
    )
    tenants = _ensure_flows(tenant_count, layout, log)
    ExecutionTransition.all_tenants.all().delete()
    for tenant in tenants:  # what an earlier run left: executions and open windows
        Execution.objects.for_tenant(tenant).delete()
        PreconditionWindow.objects.for_tenant(tenant).delete()
    flow_triggers.matching_costs = costs = []
    states: list[str] = []
    original = flow_triggers.transition_evaluate

    def measured(tenant: Tenant, transition: ExecutionTransition, **options: Any) -> list[str]:
        before = len(costs)
        started = original(tenant, transition, **options)
        states.extend([transition.state] * (len(costs) - before))
        return started

    flow_triggers.transition_evaluate = measured
    # this process is the only evaluator: no nudge to a Celery worker (`bench all` runs one),
    # so transitions are evaluated in the order the sequence is checked in
    listeners = list(transitions.listeners)
    transitions.listeners.clear()
    try:
        sequence = _drive_and_evaluate(tenants, layout, rate, seconds, log)
    finally:
        transitions.listeners.extend(listeners)
        flow_triggers.transition_evaluate = original
        flow_triggers.matching_costs = None
    terminal = [cost for cost, state in zip(costs, states, strict=True) if state == "SUCCESS"]
    report.results.update(distribution_ms(terminal, "matching_"))
    report.results["terminal_transitions"] = len(terminal)
    report.results["all_transitions"] = len(costs)
    report.results.update(_check(tenants, layout, sequence, report))
    return report


def _ensure_flows(count: int, layout: Layout, log: TextIO) -> list[Tenant]:
    """The tenants and their flows, kept from an earlier run when complete."""
    from tenants.selectors import tenant_find
    from tenants.services import tenant_create

    tenants = []
    sources = flow_sources(layout)
    started = time.monotonic()
    for index in range(count):
        slug = f"{TENANT_PREFIX}{'q' if layout == QUICK else ''}{index:03d}"
        tenant = tenant_find(slug=slug) or tenant_create(slug=slug, name=slug)
        tenants.append(tenant)
        have = Flow.objects.for_tenant(tenant).filter(deleted=False).count()
        if have == len(sources):
            continue
        existing = set(Flow.objects.for_tenant(tenant).values_list("flow_id", flat=True))
        for source in sources:
            flow_id = source.split("\n", 1)[0].removeprefix("id: ")
            if flow_id not in existing:
                flow_create(tenant=tenant, user=None, source=source)
        if index % 10 == 9:
            log.write(
                f"[bench] flows of {index + 1} tenants ({time.monotonic() - started:.0f} s)\n"
            )
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum keeps them
        cursor.execute(
            "ANALYZE triggers_trigger, triggers_flowtriggerkey, triggers_preconditionwindow"
        )
    return tenants


def _drive_and_evaluate(
    tenants: list[Tenant], layout: Layout, rate: int, seconds: int, log: TextIO
) -> list[tuple[int, int, str]]:
    """End `rate` upstream executions a second for `seconds` in another process (as the
    workers of a real deployment would) while this process evaluates; return the sequence
    (tenant index, upstream number, execution id)."""
    results: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    connection.close()  # the child opens its own
    driver = multiprocessing.get_context("fork").Process(
        target=_drive, args=(tenants, layout, rate, seconds, results), name="bench-driver"
    )
    driver.start()
    sequence = None
    while sequence is None:
        if flow_triggers.transitions_process(limit=100) == 0:
            time.sleep(0.005)
        try:
            sequence = results.get_nowait()
        except queue.Empty:
            if not driver.is_alive() and results.empty():
                raise RuntimeError("the driver process ended without its sequence") from None
    driver.join()
    _evaluate_rest(tenants)
    log.write(f"[bench] {len(sequence)} upstream executions ended and evaluated\n")
    return sequence


def _evaluate_rest(tenants: list[Tenant], *, seconds: float = 60.0) -> None:
    """Evaluate what is pending until none of the tenants' transitions is left. Another
    evaluator may hold some (a Celery worker drains every tenant when any nudges it): the
    ones it holds are skipped here, so an empty pass does not mean they are done."""
    pending = ExecutionTransition.all_tenants.filter(tenant__in=tenants)
    deadline = time.monotonic() + seconds
    while pending.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"transitions still pending after {seconds:.0f} s")
        if flow_triggers.transitions_process(limit=100) == 0:
            time.sleep(0.01)


def _drive(
    tenants: list[Tenant],
    layout: Layout,
    rate: int,
    seconds: int,
    results: multiprocessing.Queue,
) -> None:
    pick = random.Random(20261130)  # noqa: S311 - a benchmark's workload, not a secret
    sequence = []
    interval = 1 / rate
    start = time.monotonic()
    try:
        for index in range(rate * seconds):
            time.sleep(max(0.0, start + index * interval - time.monotonic()))
            which = pick.randrange(len(tenants))
            upstream = pick.randrange(layout.upstreams)
            sequence.append((which, upstream, _ended_upstream(tenants[which], upstream)))
    finally:
        connection.close()
        results.put(sequence)


def _ended_upstream(tenant: Tenant, upstream: int) -> str:
    """An upstream execution stored as the engine stores one that ran: created, RUNNING,
    SUCCESS, through `snapshots.save`, which writes its transitions."""
    now = timezone.now()
    created = new_execution(
        namespace=NAMESPACE,
        flow_id=f"up_{upstream}",
        flow_revision=1,
        now=now - timedelta(milliseconds=2),
        tenant_id=tenant.slug,
    )
    running = created.state.moved_to(
        State.RUNNING, now - timedelta(milliseconds=1), EXECUTION_TRANSITIONS
    )
    ended = running.moved_to(State.SUCCESS, now, EXECUTION_TRANSITIONS)
    snapshots.save(tenant=tenant, before=None, after=replace(created, state=ended), wake_at=None)
    return created.id


def _check(
    tenants: list[Tenant], layout: Layout, sequence: list[tuple[int, int, str]], report: Report
) -> dict[str, Any]:
    """Every downstream execution the events call for, none twice. A simple listener fires
    once per execution of its upstream flow, exactly. A paired one fires when both of its
    flows were seen since its last firing, which depends on the order the evaluators took
    the events in (`bench all` runs a Celery worker that evaluates too): it must fire at
    least once when both flows ran, at most as often as the rarer one ran, never twice for
    one upstream execution, and only for executions of its two flows."""
    simple: Counter[tuple[int, int, str]] = Counter()
    paired_events: dict[tuple[int, int], Counter[int]] = {}
    upstream_of: dict[str, int] = {}
    for which, upstream, execution_id in sequence:
        upstream_of[execution_id] = upstream
        for listener, kind in listeners_of(layout, upstream):
            if kind == "simple":
                simple[(which, listener, execution_id)] += 1
            else:
                paired_events.setdefault((which, listener), Counter())[upstream] += 1
    got: Counter[tuple[int, int, str]] = Counter()
    for which, tenant in enumerate(tenants):
        rows = Execution.objects.for_tenant(tenant).filter(flow_id__startswith="listen_")
        for flow_id, trigger in rows.values_list("flow_id", "trigger"):
            listener = int(flow_id.removeprefix("listen_"))
            got[(which, listener, trigger["variables"]["executionId"])] += 1
    duplicated = sum(count - 1 for count in got.values() if count > 1)
    got_simple = Counter({key: n for key, n in got.items() if key[1] < layout.simple})
    missed = sum((simple - got_simple).values())
    unexpected = sum((got_simple - simple).values()) - sum(
        n - 1 for n in got_simple.values() if n > 1
    )
    paired_fires = 0
    for (which, listener), events in paired_events.items():
        fires = [key for key in got if key[:2] == (which, listener)]
        paired_fires += len(fires)
        pair = {listener * 2 - layout.simple, listener * 2 - layout.simple + 1}
        if len(events) == 2 and not fires:
            missed += 1
        if len(fires) > (min(events.values()) if len(events) == 2 else 0):
            unexpected += 1
        unexpected += sum(1 for key in fires if upstream_of.get(key[2]) not in pair)
    if missed or duplicated or unexpected:
        report.fail(
            f"downstream executions: {missed} missed, {duplicated} duplicated, "
            f"{unexpected} unexpected"
        )
    return {
        "downstream_simple_expected": sum(simple.values()),
        "downstream_started": sum(got.values()),
        "paired_fires": paired_fires,
        "missed": missed,
        "duplicated": duplicated,
        "unexpected": unexpected,
    }
