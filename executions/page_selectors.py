"""Reads behind the execution pages, shaped for templates: the filtered list (a page of rows
and whether one more exists, never a COUNT over every execution), and one execution's
dynamic parts (task-run tree, Gantt bars, flow outputs, logs). Reads only, tenant first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from executions import stats
from executions.engine.sealed_inputs import mask_sealed
from executions.engine.states import State, final_state
from executions.engine.subflows import SUBFLOWS, parent_from_trigger
from executions.files import FileLink, file_links
from executions.models import Execution, LogEntry, TaskRun
from executions.selectors import SECRET_MASK, execution_get
from executions.services import flow_spec
from tenants.errors import NotFound
from tenants.models import Tenant

STATES = [state.value for state in State]
LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
PAGE_SIZE = 25
MAX_PAGE = 200
"""Deepest page reachable by number: past it, narrow the filters (the offset stays small)."""
LOG_LIMIT = 1000
"""Log lines shown at once: the newest ones, oldest first."""
MIN_BAR = 0.4
"""Narrowest Gantt bar, in percent of the execution, so instant tasks stay visible."""


@dataclass(frozen=True)
class ExecutionQuery:
    q: str = ""  # part of the execution id or of the flow id
    namespace: str = ""  # the namespace and its children
    flow_id: str = ""
    states: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # all must match
    since: timedelta | None = None  # started within this long before now
    day: date | None = None  # started on this UTC day


def execution_search(*, tenant: Tenant, query: ExecutionQuery, now: datetime) -> QuerySet:
    """Executions matching every filter, newest first (the `exec_*_start` indexes)."""
    rows = Execution.objects.for_tenant(tenant)
    if query.q:
        rows = rows.filter(Q(id__icontains=query.q) | Q(flow_id__icontains=query.q))
    if query.namespace:
        rows = rows.filter(
            Q(namespace=query.namespace) | Q(namespace__startswith=query.namespace + ".")
        )
    if query.flow_id:
        rows = rows.filter(flow_id=query.flow_id)
    if query.states:
        rows = rows.filter(state__in=query.states)
    for key, value in query.labels:
        rows = rows.filter(labels__contains=[{"key": key, "value": value}])
    if query.since is not None:
        rows = rows.filter(start_date__gte=now - query.since)
    if query.day is not None:
        midnight = datetime.combine(query.day, time.min, tzinfo=UTC)
        rows = rows.filter(start_date__gte=midnight, start_date__lt=midnight + timedelta(days=1))
    return rows.order_by("-start_date", "-id")


@dataclass(frozen=True)
class ExecutionRow:
    execution: Execution
    duration: str


@dataclass(frozen=True)
class ExecutionPage:
    rows: list[ExecutionRow]
    number: int
    has_previous: bool
    has_next: bool
    capped: bool  # a Next page exists but lies past MAX_PAGE


def execution_page(
    *, tenant: Tenant, query: ExecutionQuery, page: int, now: datetime
) -> ExecutionPage:
    """One page of `execution_search`: PAGE_SIZE + 1 rows are read, the extra one only says
    that a next page exists."""
    number = min(max(page, 1), MAX_PAGE)
    start = (number - 1) * PAGE_SIZE
    found = list(
        execution_search(tenant=tenant, query=query, now=now).defer(
            "inputs", "outputs", "variables", "trigger", "histories"
        )[start : start + PAGE_SIZE + 1]
    )
    more = len(found) > PAGE_SIZE
    rows = [ExecutionRow(e, human_duration(_span(e, now))) for e in found[:PAGE_SIZE]]
    return ExecutionPage(
        rows=rows,
        number=number,
        has_previous=number > 1,
        has_next=more and number < MAX_PAGE,
        capped=more and number >= MAX_PAGE,
    )


# ---------- executions per day (the dashboard's and a flow's chart) ----------

CHART_RANGES = (7, 30, 90)
CHART_DAYS = 30


@dataclass(frozen=True)
class DailyChart:
    """What `executions/_daily_chart.html` needs: the first range's data (no request for
    it), where to ask for another range, and the list a bar links to."""

    days: int
    data: list[dict[str, object]]  # DailyExecutionStats.as_json(), oldest day first
    api_url: str  # the stats API, with this chart's filters; the script adds the dates
    list_url: str  # executions list; the script adds `day` and `state`
    ranges: tuple[int, ...] = CHART_RANGES


def daily_chart(
    *, tenant: Tenant, now: datetime, list_url: str, namespace: str = "", flow_id: str = ""
) -> DailyChart:
    """The last CHART_DAYS UTC days of the tenant's executions, or of one flow's."""
    start, end = stats.last_days(days=CHART_DAYS, today=now.astimezone(UTC).date())
    found = stats.execution_daily_stats(
        tenant=tenant, start=start, end=end, namespace=namespace, flow_id=flow_id
    )
    api_url = reverse("api-execution-daily-stats", kwargs={"tenant": tenant.slug})
    filters = {"namespace": namespace, "flowId": flow_id} if flow_id else {}
    return DailyChart(
        days=CHART_DAYS,
        data=[day.as_json() for day in found],
        api_url=f"{api_url}?{urlencode(filters)}" if filters else api_url,
        list_url=list_url,
    )


# ---------- one execution ----------


@dataclass
class TaskRunNode:
    """A task run with what the tree and the Gantt chart show; `children` are the task runs
    whose parentTaskRunId is this one's."""

    run: TaskRun
    depth: int
    attempts: int
    duration: str
    outputs_json: str | None
    bar_left: str  # percent of the execution's span, formatted for a style attribute
    bar_width: str
    children: list[TaskRunNode] = field(default_factory=list)
    files: list[FileLink] = field(default_factory=list)  # output files: download, preview
    # a loop's children grouped by iteration (ForEach value, WaitFor loop count); empty
    # when the children all belong to this task run's own iteration (Parallel, If...)
    iterations: list[IterationGroup] = field(default_factory=list)

    @property
    def subflow_ids(self) -> list[str]:
        """The executions this Subflow or ForEachItem task run started, in start order."""
        return list((self.run.engine_state or {}).get(SUBFLOWS) or {})


@dataclass
class IterationGroup:
    """One iteration of a loop on the execution page: its value (or loop count), the state
    of its task runs taken together, and the task runs themselves."""

    label: str
    value: str | None
    iteration: int | None
    state: str
    children: list[TaskRunNode]
    task_runs: int
    attempts: int

    @property
    def open(self) -> bool:
        """Shown expanded unless every task run of it succeeded."""
        return self.state not in (State.SUCCESS, State.SKIPPED)


@dataclass(frozen=True)
class InputItem:
    key: str
    value: str
    secret: bool
    files: tuple[FileLink, ...] = ()  # a FILE input stored with the execution


@dataclass(frozen=True)
class ExecutionLive:
    """Everything on the execution page that changes while it runs."""

    execution: Execution
    terminated: bool
    duration: str
    tree: list[TaskRunNode]  # roots, in creation order
    gantt: list[TaskRunNode]  # every node, depth first: one bar each
    outputs_json: str | None
    output_files: list[FileLink]
    logs: list[LogEntry]
    logs_truncated: bool
    subflow_of: SubflowParent | None = None


@dataclass(frozen=True)
class SubflowParent:
    """The execution whose Subflow or ForEachItem task started this one."""

    execution_id: str
    task_id: str
    flow: str


def subflow_parent(execution: Execution) -> SubflowParent | None:
    trigger = execution.trigger
    parent_id = parent_from_trigger(trigger)
    if parent_id is None:
        return None
    variables = trigger["variables"]
    flow = f"{variables.get('namespace', '')}.{variables.get('flowId', '')}"
    return SubflowParent(parent_id, str(trigger.get("id") or ""), flow)


def execution_live(
    *, tenant: Tenant, execution_id: str, min_level: str, q: str, now: datetime
) -> ExecutionLive:
    execution = execution_get(tenant=tenant, execution_id=execution_id)
    runs = list(TaskRun.objects.for_tenant(tenant).filter(execution=execution).order_by("position"))
    end = execution.end_date or now
    tree, flat = _tree(execution, runs, end, now)
    logs, truncated = _logs(tenant, execution, min_level, q)
    return ExecutionLive(
        execution=execution,
        terminated=State(execution.state).terminated,
        duration=human_duration(_span(execution, now)),
        tree=tree,
        gantt=flat,
        outputs_json=_json(execution.outputs) if execution.outputs else None,
        output_files=file_links(execution, execution.outputs or {}),
        logs=logs,
        logs_truncated=truncated,
        subflow_of=subflow_parent(execution),
    )


def execution_input_items(*, execution: Execution, definitions: list[Any]) -> list[InputItem]:
    """The execution's inputs as rows; SECRET inputs (per the revision's definitions) are
    masked, here and in every nested key of theirs."""
    secret_ids = {
        str(d.get("id") or d.get("name"))
        for d in definitions
        if isinstance(d, Mapping) and d.get("type") == "SECRET"
    }
    items = []
    for key, value in (execution.inputs or {}).items():
        secret = key in secret_ids or any(s.startswith(key + ".") for s in secret_ids)
        text = value if isinstance(value, str) else _json(value)
        if secret:
            items.append(InputItem(key, "********", secret))
        else:
            items.append(InputItem(key, text, secret, tuple(file_links(execution, value, key))))
    return items


def execution_input_definitions(*, tenant: Tenant, execution: Execution) -> list[Any]:
    """The `inputs:` of the revision the execution runs (empty when it is gone)."""
    try:  # flow_spec is cached per revision
        spec = flow_spec(tenant, execution.namespace, execution.flow_id, execution.flow_revision)
    except NotFound:
        return []
    return list(spec.inputs)


def _tree(
    execution: Execution, runs: list[TaskRun], end: datetime, now: datetime
) -> tuple[list[TaskRunNode], list[TaskRunNode]]:
    start = execution.start_date
    total = max((end - start).total_seconds(), 0.001)
    nodes: dict[str, TaskRunNode] = {}
    roots: list[TaskRunNode] = []
    for run in runs:
        run_start, run_end = _run_span(run, now)
        left = min(max((run_start - start).total_seconds() / total * 100, 0.0), 100.0 - MIN_BAR)
        width = max((run_end - run_start).total_seconds() / total * 100, MIN_BAR)
        parent = nodes.get(run.parent_task_run_id) if run.parent_task_run_id else None
        node = TaskRunNode(
            run=run,
            depth=parent.depth + 1 if parent else 0,
            attempts=len(run.attempts or []),
            duration=human_duration(run_end - run_start),
            outputs_json=_json(mask_sealed(run.outputs, SECRET_MASK)) if run.outputs else None,
            bar_left=f"{left:.2f}",
            bar_width=f"{min(width, 100.0 - left):.2f}",
            files=file_links(execution, run.outputs) if run.outputs else [],
        )
        nodes[run.id] = node
        (parent.children if parent else roots).append(node)
    flat: list[TaskRunNode] = []

    def walk(level: list[TaskRunNode]) -> None:
        for node in level:
            flat.append(node)
            walk(node.children)

    walk(roots)
    for node in flat:
        node.iterations = iteration_groups(node)
    return roots, flat


def iteration_groups(node: TaskRunNode) -> list[IterationGroup]:
    """The children of a loop's task run, grouped by iteration in creation order: a child
    whose value (or WaitFor loop count) is its own, not its parent's, belongs to one.
    Empty when no child does (the children of a Parallel, an If, a Sequential...)."""
    own = (node.run.value, node.run.iteration)
    groups: dict[tuple[str | None, int | None], list[TaskRunNode]] = {}
    for child in node.children:  # a child without a value or count is in its parent's
        value = child.run.value if child.run.value is not None else own[0]
        iteration = child.run.iteration if child.run.iteration is not None else own[1]
        groups.setdefault((value, iteration), []).append(child)
    if set(groups) <= {own}:
        return []
    result = []
    for (value, iteration), children in groups.items():
        if value is not None and value != own[0]:
            label = value
        elif iteration is not None and iteration != own[1]:
            label = f"Iteration {iteration}"
        else:  # the loop's own, e.g. its errors branch
            label = "Outside the iterations"
        result.append(
            IterationGroup(
                label=label,
                value=value,
                iteration=iteration,
                state=_together([State(child.run.state) for child in children]),
                children=children,
                task_runs=len(children),
                attempts=sum(child.attempts for child in children),
            )
        )
    return result


def _together(states: list[State]) -> str:
    """The state of task runs taken together: the first still moving (running, paused,
    created...), else the final state Kestra derives from them (KILLED, FAILED, WARNING,
    else SUCCESS)."""
    moving = [state for state in states if not state.terminated]
    if moving:
        return next((s for s in moving if s.running), moving[0]).value
    return final_state(states).value


def _run_span(run: TaskRun, now: datetime) -> tuple[datetime, datetime]:
    dates = [datetime.fromisoformat(date) for _, date in run.histories or []]
    if not dates:
        return now, now
    ended = State(run.state).terminated or State(run.state).paused
    return dates[0], dates[-1] if ended else now


def _logs(
    tenant: Tenant, execution: Execution, min_level: str, q: str
) -> tuple[list[LogEntry], bool]:
    wanted = LEVELS[LEVELS.index(min_level) :] if min_level in LEVELS else LEVELS
    entries = LogEntry.objects.for_tenant(tenant).filter(execution=execution, level__in=wanted)
    if q:
        entries = entries.filter(Q(message__icontains=q) | Q(task_id__icontains=q))
    newest = list(entries.order_by("-timestamp", "-id")[: LOG_LIMIT + 1])
    return list(reversed(newest[:LOG_LIMIT])), len(newest) > LOG_LIMIT


def _span(execution: Execution, now: datetime) -> timedelta:
    return (execution.end_date or now) - execution.start_date


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def human_duration(span: timedelta) -> str:
    """`0.42s`, `12.3s`, `4m 05s`, `2h 03m`, `3d 04h` (Kestra shows durations this short)."""
    seconds = max(span.total_seconds(), 0.0)
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"
