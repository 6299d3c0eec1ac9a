"""Flow triggers: an upstream execution's transitions start downstream executions.

Each `ExecutionTransition` (written with the state change, see executions/transitions.py)
is claimed with `FOR UPDATE SKIP LOCKED`, evaluated, and deleted in the transaction that
updates the precondition windows and creates the downstream executions: whatever the
number of processes evaluating, and whenever one dies, a transition is acted on exactly
once. Transitions of one upstream execution are evaluated in the order they happened.

Candidates come from the `FlowTriggerKey` index, (tenant, namespace, flow id, state) → the
triggers that may care, so the cost of a transition does not grow with the number of flows.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from executions import snapshots
from executions.engine.model import CORRELATION_ID
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.variables import base_variables
from executions.models import Execution, ExecutionTransition, TaskRun
from executions.services import engine_services, execution_create, flow_spec
from flows.spec import flow_labels
from tenants.errors import Violation
from tenants.models import Tenant
from triggers.engine import preconditions
from triggers.engine.conditions import (
    MULTIPLE,
    ConditionContext,
    ConditionError,
    condition_name,
    conditions_pass,
)
from triggers.engine.keys import ANY, trigger_states
from triggers.models import FLOW, FlowTriggerKey, PreconditionWindow, Trigger

log = logging.getLogger("aviary.triggers")

clock = timezone.now  # the time windows' clock (tests set it)

# Seconds spent finding and evaluating the candidates of each transition (not creating the
# downstream executions), for `bench triggers`; None when nobody measures.
matching_costs: list[float] | None = None


def transitions_process(*, limit: int = 50) -> int:
    """Evaluate up to `limit` pending transitions; return how many were handled."""
    with transaction.atomic():
        rows = list(
            ExecutionTransition.all_tenants.select_for_update(skip_locked=True)
            .select_related("tenant")
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        blocked = _held_elsewhere(rows)
        done = []
        for row in rows:
            if row.execution_id in blocked:
                continue
            if not row.tenant.has_flow_triggers:  # read with the claim: nothing to match
                done.append(row.pk)
                continue
            try:
                with transaction.atomic():
                    transition_evaluate(row.tenant, row, version=row.tenant.flow_triggers_version)
            except OperationalError:  # a deadlock, a lost connection: evaluated again later
                log.warning("Flow triggers of %s deferred", row, exc_info=True)
                continue
            except Exception:  # a defect: logged, not retried forever
                log.exception("Flow triggers of transition %s could not be evaluated", row)
            done.append(row.pk)
        ExecutionTransition.all_tenants.filter(pk__in=done).delete()
        return len(done)


def transitions_drain(*, seconds: float = 2.0) -> int:
    """Process until nothing is pending or `seconds` have passed (and, once a minute per
    process, forget the precondition windows that have expired)."""
    global _purge_at
    if time.monotonic() >= _purge_at:
        _purge_at = time.monotonic() + PURGE_SECONDS
        windows_purge_expired()
    handled = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        count = transitions_process()
        handled += count
        if count == 0:
            break
    return handled


PURGE_SECONDS = 60.0
_purge_at = 0.0


def windows_purge_expired() -> int:
    """Delete windows that ended: a new event opens a new one, and the triggers page shows
    only what can still count (Kestra purges them the same way)."""
    deleted, _ = PreconditionWindow.all_tenants.filter(end__lt=timezone.now()).delete()
    return deleted


def _held_elsewhere(rows: list[ExecutionTransition]) -> set[str]:
    """Executions of which another process holds an earlier transition than ours: theirs
    must be evaluated first (downstream executions start in the upstream's order)."""
    mine: dict[str, int] = {}
    for row in rows:
        mine.setdefault(row.execution_id, row.pk)
    firsts = (
        ExecutionTransition.all_tenants.filter(execution_id__in=list(mine))
        .values("execution_id")
        .annotate(first=Min("id"))
    )
    return {item["execution_id"] for item in firsts if item["first"] < mine[item["execution_id"]]}


def candidates(
    tenant: Tenant, namespace: str, flow_id: str, state: str, *, version: int | None = None
) -> list[Trigger]:
    """Enabled Flow triggers whose keys match, other than the upstream flow's own (a flow
    never triggers itself). With the tenant's `flow_triggers_version` as read with the
    transition's claim, from this process's copy of the tenant's index (loaded once per
    version, as Kestra keeps its flows with Flow triggers in memory); without it, or for a
    tenant with too many triggers to copy, one statement through the key index."""
    index = _tenant_index(tenant, version) if version is not None else None
    if index is None:
        found = _candidate_rows(tenant, namespace, flow_id, state)
    else:
        found = index.lookup(namespace, flow_id, state)
    return [
        Trigger(
            pk=row.pk,
            tenant=tenant,
            namespace=row.namespace,
            flow_id=row.flow_id,
            trigger_id=row.trigger_id,
            kind=FLOW,
            type=row.type,
            spec=row.spec,
        )
        for row in found
        if not (row.namespace == namespace and row.flow_id == flow_id)
    ]


@dataclass(frozen=True)
class _Candidate:
    """What evaluation reads of a Flow trigger row."""

    pk: int
    namespace: str
    flow_id: str
    trigger_id: str
    type: str
    spec: dict[str, Any]


_CANDIDATE_COLUMNS = "t.id, t.namespace, t.flow_id, t.trigger_id, t.type, t.spec"


def _candidate_of(row: Sequence[Any]) -> _Candidate:
    pk, namespace, flow_id, trigger_id, type_name, spec = row[:6]
    spec = json.loads(spec) if isinstance(spec, str) else spec
    return _Candidate(pk, namespace, flow_id, trigger_id, type_name, spec)


def _candidate_rows(tenant: Tenant, namespace: str, flow_id: str, state: str) -> list[_Candidate]:
    """One statement through the key index, written out: this runs for every transition,
    and the ORM spent more building it than the database running it."""
    keys, rows = FlowTriggerKey._meta.db_table, Trigger._meta.db_table
    statement = (
        f"SELECT {_CANDIDATE_COLUMNS} "  # noqa: S608 - model tables
        f"FROM {keys} k JOIN {rows} t ON t.id = k.trigger_id "
        "WHERE k.tenant_id = %s AND k.namespace IN (%s, %s) AND k.flow_id IN (%s, %s) "
        "AND k.state IN (%s, %s) AND t.tenant_id = %s AND t.kind = %s "
        "AND t.disabled = %s AND t.spec_disabled = %s "
        "AND NOT (t.namespace = %s AND t.flow_id = %s)"
    )
    params = [tenant.pk, namespace, ANY, flow_id, ANY, state, ANY, tenant.pk, FLOW]
    params += [False, False, namespace, flow_id]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    unique: dict[int, _Candidate] = {}
    for row in found:  # a trigger may match twice
        if row[0] not in unique:
            unique[row[0]] = _candidate_of(row)
    return list(unique.values())


# A tenant whose enabled Flow triggers have more keys than this is matched by the database.
INDEX_MAX_KEYS = 5000
# Keys a process keeps over all tenants (the least recently used tenant goes first): with
# their triggers' specs, some tens of megabytes at most.
INDEX_MAX_TOTAL_KEYS = 50_000


@dataclass
class _TenantIndex:
    """One tenant's enabled Flow triggers by key (namespace, flow id, state; each possibly
    ANY), as of `version`. `None` keys: too many to keep, match in the database."""

    version: int
    keys: dict[tuple[str, str, str], list[_Candidate]] | None
    size: int = field(init=False)  # keys held

    def __post_init__(self) -> None:
        self.size = sum(len(found) for found in self.keys.values()) if self.keys else 0

    def lookup(self, namespace: str, flow_id: str, state: str) -> list[_Candidate]:
        assert self.keys is not None
        found: dict[int, _Candidate] = {}
        for ns in (namespace, ANY):
            for fid in (flow_id, ANY):
                for st in (state, ANY):
                    for candidate in self.keys.get((ns, fid, st), ()):
                        found.setdefault(candidate.pk, candidate)
        return sorted(found.values(), key=lambda candidate: candidate.pk)


_indexes: OrderedDict[int, _TenantIndex] = OrderedDict()
_indexed_keys = 0  # the sum of their sizes
_indexes_lock = threading.Lock()  # a thread-pool worker evaluates from several threads


def _tenant_index(tenant: Tenant, version: int) -> _TenantIndex | None:
    """The tenant's index at `version` (loaded when this process has none or an older one);
    None when the tenant has too many keys to keep."""
    global _indexed_keys
    index = _indexes.get(tenant.pk)
    loaded = None
    if index is None or index.version != version:
        loaded = _TenantIndex(version, _load_keys(tenant))  # outside the lock: a query
    with _indexes_lock:
        if loaded is not None:
            replaced = _indexes.get(tenant.pk)
            _indexed_keys += loaded.size - (replaced.size if replaced is not None else 0)
            _indexes[tenant.pk] = index = loaded
        elif tenant.pk not in _indexes:  # another thread let it go meanwhile
            _indexes[tenant.pk] = index
            _indexed_keys += index.size
        _indexes.move_to_end(tenant.pk)
        while _indexed_keys > INDEX_MAX_TOTAL_KEYS and len(_indexes) > 1:  # never this one
            _, oldest = _indexes.popitem(last=False)
            _indexed_keys -= oldest.size
    return index if index.keys is not None else None


def _load_keys(tenant: Tenant) -> dict[tuple[str, str, str], list[_Candidate]] | None:
    keys, rows = FlowTriggerKey._meta.db_table, Trigger._meta.db_table
    statement = (
        f"SELECT {_CANDIDATE_COLUMNS}, k.namespace, k.flow_id, k.state "  # noqa: S608
        f"FROM {keys} k JOIN {rows} t ON t.id = k.trigger_id "
        "WHERE k.tenant_id = %s AND t.tenant_id = %s AND t.kind = %s "
        "AND t.disabled = %s AND t.spec_disabled = %s LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [tenant.pk, tenant.pk, FLOW, False, False, INDEX_MAX_KEYS + 1])
        found = cursor.fetchall()
    if len(found) > INDEX_MAX_KEYS:
        return None
    triggers: dict[int, _Candidate] = {}
    index: dict[tuple[str, str, str], list[_Candidate]] = {}
    for row in found:
        candidate = triggers.get(row[0])
        if candidate is None:
            candidate = triggers[row[0]] = _candidate_of(row)
        index.setdefault((row[6], row[7], row[8]), []).append(candidate)
    return index


def forget_indexes() -> None:
    """Drop every tenant's in-memory index (tests: a database flushed under a process)."""
    global _indexed_keys
    with _indexes_lock:
        _indexes.clear()
        _indexed_keys = 0


def transition_evaluate(
    tenant: Tenant, transition: ExecutionTransition, *, version: int | None = None
) -> list[str]:
    """Evaluate every candidate trigger for one transition; return the ids of the
    executions started. `version`: the tenant's `flow_triggers_version` read with the
    claim (see `candidates`)."""
    started = time.perf_counter()
    found = candidates(
        tenant, transition.namespace, transition.flow_id, transition.state, version=version
    )
    if not found:
        _measure(started)
        return []
    upstream = _UpstreamContext(tenant, transition)
    now = clock()
    try:
        firing = [trigger for trigger in found if _fires(tenant, trigger, upstream, now)]
    except _Gone:  # the upstream execution was deleted since
        firing = []
    _measure(started)
    return [_start(tenant, trigger, upstream) for trigger in firing]


def _measure(started: float) -> None:
    if matching_costs is not None:
        matching_costs.append(time.perf_counter() - started)


class _Gone(Exception):
    """The upstream execution no longer exists."""


@dataclass
class _UpstreamContext:
    """The upstream execution as conditions, filters and inputs see it. What the transition
    row tells (id, namespace, flow, state) is enough for most triggers; the execution row,
    its task runs and the template variables are read only when something needs them."""

    tenant: Tenant
    transition: ExecutionTransition
    _row: Execution | None = field(default=None, init=False)
    _variables: dict[str, Any] | None = field(default=None, init=False)
    _snapshot: Any = field(default=None, init=False)

    @property
    def row(self) -> Execution:
        if self._row is None:
            executions = Execution.objects.for_tenant(self.tenant)
            self._row = executions.filter(pk=self.transition.execution_id).first()
            if self._row is None:
                raise _Gone(self.transition.execution_id)
        return self._row

    @property
    def upstream(self) -> preconditions.Upstream:
        transition = self.transition
        return preconditions.Upstream(
            id=transition.execution_id,
            namespace=transition.namespace,
            flow_id=transition.flow_id,
            state=transition.state,
            labels=_LazyLabels(self),
        )

    def snapshot(self) -> Any:
        if self._snapshot is None:
            runs = list(TaskRun.objects.for_tenant(self.tenant).filter(execution=self.row))
            self._snapshot = snapshots.snapshot(self.row, runs)
        return self._snapshot

    def kestra_json(self) -> dict[str, Any]:
        data = self.snapshot().to_kestra_json()
        data["state"] = {**data["state"], "current": self.transition.state}
        return data

    def variables(self, flow: Trigger) -> dict[str, Any]:
        """The upstream's run variables seen from the downstream flow (Kestra renders with
        `runContextFactory.of(flow, upstreamExecution)`), plus `trigger.outputs`."""
        if self._variables is None:
            row = self.row
            spec = flow_spec(self.tenant, row.namespace, row.flow_id, row.flow_revision)
            self._variables = base_variables(spec, self.snapshot())
        variables = dict(self._variables)
        variables["flow"] = {"id": flow.flow_id, "namespace": flow.namespace}
        trigger = dict(variables.get("trigger") or {})
        trigger["outputs"] = self.row.outputs or {}
        variables["trigger"] = trigger
        return variables

    def renderer(self, flow: Trigger) -> Callable[[str], Any]:
        services = engine_services(
            tenant=self.tenant, namespace=self.row.namespace, execution_id=self.row.id
        )
        templates = expressions_renderer(self.variables(flow), services)
        return templates.render_typed

    def render_with(self, template: str, variables: Mapping[str, Any]) -> Any:
        services = engine_services(
            tenant=self.tenant, namespace=self.row.namespace, execution_id=self.row.id
        )
        return expressions_renderer(variables, services).render_typed(template)

    def render_value(self, flow: Trigger, value: Any) -> Any:
        services = engine_services(
            tenant=self.tenant, namespace=self.row.namespace, execution_id=self.row.id
        )
        return expressions_renderer(self.variables(flow), services).render_value(value)


def _fires(tenant: Tenant, trigger: Trigger, context: _UpstreamContext, now: datetime) -> bool:
    spec = trigger.spec
    if context.transition.state not in trigger_states(spec):
        return False
    plain = [c for c in spec.get("conditions") or [] if condition_name(c) != MULTIPLE]
    if plain and not _conditions_pass(trigger, plain, context):
        return False
    multiples = preconditions.multiples(spec)
    if not multiples:
        return True
    windows = []
    for multiple in multiples:
        window = _window(tenant, trigger, multiple, context, now)
        if window is None:
            return False
        windows.append((multiple, window))
    if not all(preconditions.complete(m, w.results) for m, w in windows):
        return False
    for multiple, window in windows:
        if multiple.reset_on_success:
            window.delete()
    return True


def _conditions_pass(trigger: Trigger, conditions: list[Any], context: _UpstreamContext) -> bool:
    condition_context = ConditionContext(
        execution=_UpstreamJson(context),
        flow={"namespace": trigger.namespace, "id": trigger.flow_id},
        variables=_LazyVariables(lambda: context.variables(trigger)),
        render=context.render_with,
    )
    try:
        return conditions_pass(conditions, condition_context)
    except ConditionError as error:
        log.warning("Flow trigger %s: condition not evaluated, %s", trigger, error)
        return False


def _lazy_render(trigger: Trigger, context: _UpstreamContext) -> Callable[[str], Any]:
    made: list[Callable[[str], Any]] = []

    def render(template: str) -> Any:
        if not made:
            made.append(context.renderer(trigger))
        return made[0](template)

    return render


def _window(
    tenant: Tenant,
    trigger: Trigger,
    multiple: preconditions.Multiple,
    context: _UpstreamContext,
    now: datetime,
) -> PreconditionWindow | None:
    """The multiple condition's current window with this upstream's results merged in and
    saved, locked until the transaction ends; None when no window is open now (e.g. after
    today's deadline)."""
    met = _met(trigger, multiple, context)
    if connection.vendor == "postgresql" and UPSERT_WINDOWS:
        return _window_upserted(tenant, trigger, multiple, met, context, now)
    return _window_locked(tenant, trigger, multiple, met, context, now)


# PostgreSQL merges a window in one statement; other databases (SQLite for `make run`) read
# it locked and write it back. Tests run both on PostgreSQL.
UPSERT_WINDOWS = True


def _window_upserted(
    tenant: Tenant,
    trigger: Trigger,
    multiple: preconditions.Multiple,
    met: dict[str, bool],
    context: _UpstreamContext,
    now: datetime,
) -> PreconditionWindow | None:
    start, end = preconditions.window_bounds(multiple.time_window, now)
    if not preconditions.window_valid(start, end, now):
        return None  # a daily window already closed today (an open one would be today's)
    windows = PreconditionWindow.objects.for_tenant(tenant)
    if not met:
        return (
            windows.filter(
                trigger_id=trigger.pk, condition_id=multiple.id, start__lte=now, end__gt=now
            )
            .only("id", "results")
            .first()
        )
    seen = _seen(context)
    quote = connection.ops.quote_name
    table = quote(PreconditionWindow._meta.db_table)
    valid = f"w.start <= %s AND w.{quote('end')} > %s"
    statement = (
        f"INSERT INTO {table} AS w (tenant_id, trigger_id, condition_id, start, "  # noqa: S608 - model table
        f"{quote('end')}, results, updated_at) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) "
        "ON CONFLICT (trigger_id, condition_id) DO UPDATE SET "
        f"results = CASE WHEN {valid} THEN w.results || EXCLUDED.results "
        "ELSE EXCLUDED.results END, "
        f"start = CASE WHEN {valid} THEN w.start ELSE EXCLUDED.start END, "
        f"{quote('end')} = CASE WHEN {valid} THEN w.{quote('end')} "
        f"ELSE EXCLUDED.{quote('end')} END, "
        "updated_at = EXCLUDED.updated_at RETURNING id, results"
    )
    results = json.dumps({key: seen for key in met})
    params = [tenant.pk, trigger.pk, multiple.id, start, end, results, now, *([now, now] * 3)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        pk, merged = cursor.fetchone()
    return PreconditionWindow(pk=pk, tenant=tenant, results=merged)


def _window_locked(
    tenant: Tenant,
    trigger: Trigger,
    multiple: preconditions.Multiple,
    met: dict[str, bool],
    context: _UpstreamContext,
    now: datetime,
) -> PreconditionWindow | None:
    windows = PreconditionWindow.objects.for_tenant(tenant)
    window = windows.select_for_update().filter(trigger=trigger, condition_id=multiple.id).first()
    if window is None or not preconditions.window_valid(window.start, window.end, now):
        start, end = preconditions.window_bounds(multiple.time_window, now)
        if not preconditions.window_valid(start, end, now):
            return None
        if window is None:
            windows.bulk_create(
                [
                    PreconditionWindow(
                        tenant=tenant,
                        trigger=trigger,
                        condition_id=multiple.id,
                        start=start,
                        end=end,
                        results={},
                    )
                ],
                ignore_conflicts=True,  # another process opened it: take theirs, locked
            )
            window = windows.select_for_update().get(trigger=trigger, condition_id=multiple.id)
            if not preconditions.window_valid(window.start, window.end, now):
                window.start, window.end, window.results = start, end, {}
        else:
            window.start, window.end, window.results = start, end, {}
    if met:
        seen = _seen(context)
        window.results = {**window.results, **{key: seen for key in met}}
        window.save()
    return window


def _seen(context: _UpstreamContext) -> dict[str, Any]:
    """What a window remembers of the upstream that met a condition."""
    transition = context.transition
    return {
        "executionId": transition.execution_id,
        "namespace": transition.namespace,
        "flowId": transition.flow_id,
        "state": transition.state,
        "at": transition.at.isoformat(),
    }


def _met(trigger: Trigger, multiple: preconditions.Multiple, context: _UpstreamContext) -> dict:
    render = _lazy_render(trigger, context)

    def safe_render(template: str) -> Any:
        try:
            return render(template)
        except RenderError as error:
            log.warning("Flow trigger %s: expression '%s' failed: %s", trigger, template, error)
            return None

    def legacy(condition: Any) -> bool:
        return _conditions_pass(trigger, [condition], context)

    return preconditions.met_now(multiple, context.upstream, safe_render, legacy)


def _start(tenant: Tenant, trigger: Trigger, context: _UpstreamContext) -> str:
    spec = trigger.spec
    problems: list[Violation] = []
    inputs: dict[str, Any] = {}
    for key, value in (spec.get("inputs") or {}).items():
        try:
            inputs[key] = context.render_value(trigger, value)
        except RenderError as error:
            problems.append(Violation(f"inputs.{key}", f"cannot be rendered: {error}"))
    labels = _labels(trigger, context)
    correlation = next(
        (item["value"] for item in context.row.labels if item["key"] == CORRELATION_ID),
        context.row.id,
    )
    row = context.row
    execution = execution_create(
        tenant=tenant,
        namespace=trigger.namespace,
        flow_id=trigger.flow_id,
        provided=inputs,
        labels=[*labels, (CORRELATION_ID, correlation)],
        trigger={
            "id": trigger.trigger_id,
            "type": trigger.type,
            "variables": {
                "executionId": row.id,
                "namespace": row.namespace,
                "flowId": row.flow_id,
                "flowRevision": row.flow_revision,
                "state": context.transition.state,
                "outputs": row.outputs or {},
            },
        },
        invalid_inputs_fail=True,
        problems=problems,
    )
    Trigger.objects.for_tenant(tenant).filter(pk=trigger.pk).update(
        last_date=timezone.now(), execution_id=execution.id
    )
    return execution.id


def _labels(trigger: Trigger, context: _UpstreamContext) -> list[tuple[str, str]]:
    """The trigger's own labels, rendered in the upstream's context; one that fails to
    render is left out (Kestra's LabelService.fromTrigger)."""
    labels = []
    for item in flow_labels(trigger.spec):
        key = item["key"]
        if key.startswith("system."):
            continue
        try:
            value = context.render_value(trigger, item["value"])
        except RenderError:
            continue
        labels.append((key, str(value)))
    return labels


class _LazyVariables(Mapping[str, Any]):
    """Template variables computed on first read: most conditions never render."""

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        self._load = load
        self._data: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class _UpstreamJson(_LazyVariables):
    """The upstream's execution JSON: what most conditions read comes from the execution
    row; the rest (task runs, for HasRetryAttempt) is loaded on first read."""

    def __init__(self, context: _UpstreamContext) -> None:
        super().__init__(context.kestra_json)
        transition = context.transition
        self._context = context
        self._light = {
            "id": transition.execution_id,
            "namespace": transition.namespace,
            "flowId": transition.flow_id,
            "state": {"current": transition.state},
        }

    def __getitem__(self, key: str) -> Any:
        if key in self._light:
            return self._light[key]
        if key == "labels":
            return list(self._context.row.labels)
        if key == "outputs":
            return self._context.row.outputs
        if key == "flowRevision":
            return self._context.row.flow_revision
        return super().__getitem__(key)


class _LazyLabels(Sequence[tuple[str, str]]):
    """The upstream's labels as (key, value) pairs, read with the execution row on first use."""

    def __init__(self, context: _UpstreamContext) -> None:
        self._context = context
        self._pairs: list[tuple[str, str]] | None = None

    def _get(self) -> list[tuple[str, str]]:
        if self._pairs is None:
            self._pairs = [(item["key"], item["value"]) for item in self._context.row.labels]
        return self._pairs

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default
