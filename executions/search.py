"""Search of one tenant's executions and logs (Kestra's `/executions/search`, `/logs/search`).

Every search is ONE SQL statement: the page (offset, or keyset after a cursor) joined
laterally to a count that stops at `TOTAL_CAP + 1` rows, so a tenant with millions of
executions never pays for an exact COUNT and an empty page still reports its total. The
execution page follows the index `exec_tenant_start (tenant, -start_date, -id)`; a cursor is
the last row's `(start_date, id)`, so paging never skips nor repeats a row while new
executions arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet

from executions.engine.inputs.temporal import format_duration
from executions.engine.model import iso
from executions.engine.states import State
from executions.models import Execution, LogEntry, TaskRun
from tenants.models import Tenant

TOTAL_CAP = 10_000
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")

# The columns of the light execution JSON; the heavy ones (inputs, outputs, variables,
# trigger) stay on disk.
SUMMARY_COLUMNS = (
    "id",
    "namespace",
    "flow_id",
    "flow_revision",
    "parent_id",
    "original_id",
    "state",
    "histories",
    "start_date",
    "end_date",
    "labels",
)
LOG_COLUMNS = (
    "id",
    "execution_id",
    "execution__namespace",
    "execution__flow_id",
    "task_id",
    "task_run_id",
    "attempt_number",
    "level",
    "message",
    "timestamp",
)


class BadCursor(ValueError):
    """An `after` value that this API did not issue (or issued for the other direction)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the last row's sort date and id, and the direction of the sort."""

    date: datetime
    id: str
    descending: bool

    def encode(self) -> str:
        raw = json.dumps([self.date.isoformat(), self.id, "d" if self.descending else "a"])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, numeric_id: bool = False) -> Cursor:
        """`numeric_id`: the rows have integer ids (log lines), so the cursor's must be one."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            date, row_id, direction = json.loads(raw)
            parsed = datetime.fromisoformat(date)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
            raise BadCursor("not a cursor returned as `next` by this API") from error
        if (
            parsed.tzinfo is None
            or not isinstance(row_id, str)
            or not 0 < len(row_id) <= 32
            or (numeric_id and not (row_id.isascii() and row_id.isdigit()))
            or direction not in ("a", "d")
        ):
            raise BadCursor("not a cursor returned as `next` by this API")
        return cls(parsed, row_id, direction == "d")


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    """Kestra's search parameters, validated by the API. `namespace` includes its children."""

    namespace: str = ""
    flow_id: str = ""
    states: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    start_date: datetime | None = None
    end_date: datetime | None = None
    q: str = ""


@dataclass(frozen=True, slots=True)
class LogFilter:
    q: str = ""
    min_level: str = "TRACE"
    namespace: str = ""
    flow_id: str = ""
    execution_id: str = ""
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """`page` and `size` (1-based), or a keyset cursor (`after`) that replaces the offset."""

    size: int
    page: int = 1
    descending: bool = True
    after: Cursor | None = None

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.page - 1) * self.size


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[dict[str, Any]]
    total: int
    total_capped: bool
    next: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "results": self.results,
            "total": self.total,
            "totalCapped": self.total_capped,
            "next": self.next,
        }


# --- executions ---------------------------------------------------------------------------


def _namespace_q(field: str, namespace: str) -> Q:
    return Q(**{field: namespace}) | Q(**{f"{field}__startswith": namespace + "."})


def execution_filter_q(spec: ExecutionFilter) -> Q:
    where = Q()
    if spec.namespace:
        where &= _namespace_q("namespace", spec.namespace)
    if spec.flow_id:
        where &= Q(flow_id=spec.flow_id)
    if spec.states:
        where &= Q(state__in=spec.states)
    for key, value in spec.labels:
        where &= Q(labels__contains=[{"key": key, "value": value}])
    if spec.start_date is not None:
        where &= Q(start_date__gte=spec.start_date)
    if spec.end_date is not None:
        where &= Q(end_date__lte=spec.end_date)
    if spec.q:
        where &= Q(id__startswith=spec.q) | Q(flow_id__icontains=spec.q)
    return where


def _after_q(date_field: str, cursor: Cursor) -> Q:
    """Rows strictly past the cursor in (date, id) order. The first term bounds the index
    range; the second breaks ties on the date by id."""
    if cursor.descending:
        return Q(**{f"{date_field}__lte": cursor.date}) & (
            Q(**{f"{date_field}__lt": cursor.date}) | Q(id__lt=cursor.id)
        )
    return Q(**{f"{date_field}__gte": cursor.date}) & (
        Q(**{f"{date_field}__gt": cursor.date}) | Q(id__gt=cursor.id)
    )


def _ordering(date_field: str, descending: bool) -> tuple[str, str]:
    sign = "-" if descending else ""
    return f"{sign}{date_field}", f"{sign}id"


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement (the page next to its capped count) and its parameters."""

    sql: str
    params: tuple[Any, ...]
    database: str


def _statement(
    filtered: QuerySet, columns: Sequence[str], date_field: str, request: PageRequest
) -> Statement:
    rows = filtered
    if request.after is not None:
        rows = rows.filter(_after_q(date_field, request.after))
    rows = rows.order_by(*_ordering(date_field, request.descending)).values(*columns)
    # one row more than the page says whether a next page exists
    rows = rows[request.offset : request.offset + request.size + 1]
    counted = filtered.order_by().values("pk")[: TOTAL_CAP + 1]
    page_sql, page_params = rows.query.sql_with_params()
    count_sql, count_params = counted.query.sql_with_params()
    # Both parts are SQL compiled by the ORM from validated values, passed as parameters.
    sql = (
        f"SELECT capped.n AS total__, page.* FROM (SELECT count(*) AS n FROM ({count_sql}) AS c)"  # noqa: S608
        f" AS capped LEFT JOIN LATERAL ({page_sql}) AS page ON TRUE"
    )
    return Statement(sql, (*count_params, *page_params), filtered.db)


def _run(statement: Statement) -> tuple[int, list[dict[str, Any]]]:
    with connections[statement.database].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        names = [column.name for column in cursor.description]
        fetched = cursor.fetchall()
    total = fetched[0][0] if fetched else 0
    rows = [dict(zip(names, row, strict=True)) for row in fetched if row[1] is not None]
    return total, rows


def _page(
    statement: Statement,
    request: PageRequest,
    date_field: str,
    as_json: Callable[[dict[str, Any]], dict[str, Any]],
) -> SearchPage:
    total, rows = _run(statement)
    # a LATERAL join keeps the page's order in practice; sorting 101 rows makes it certain
    rows.sort(key=lambda row: (row[date_field], row["id"]), reverse=request.descending)
    more = len(rows) > request.size
    rows = rows[: request.size]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = Cursor(last[date_field], str(last["id"]), request.descending).encode()
    return SearchPage(
        results=[as_json(row) for row in rows],
        total=min(total, TOTAL_CAP),
        total_capped=total > TOTAL_CAP,
        next=cursor,
    )


def execution_search_statement(
    *, tenant: Tenant, spec: ExecutionFilter, request: PageRequest
) -> Statement:
    """The SQL of `execution_search` (the bench EXPLAINs it)."""
    filtered = Execution.objects.for_tenant(tenant).filter(execution_filter_q(spec))
    return _statement(filtered, SUMMARY_COLUMNS, "start_date", request)


def execution_search(*, tenant: Tenant, spec: ExecutionFilter, request: PageRequest) -> SearchPage:
    """A page of light execution JSON (no task runs), its capped total and the next cursor."""
    statement = execution_search_statement(tenant=tenant, spec=spec, request=request)
    return _page(statement, request, "start_date", execution_summary_json)


def _json(value: Any) -> Any:
    """jsonb columns read through a raw cursor arrive as text (Django decodes them itself)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _iso_text(stored: str) -> str:
    """A stored history date (`isoformat()` of a UTC date) as Kestra writes it (`...Z`),
    without parsing it when it is already in UTC (a list renders hundreds of them)."""
    if stored.endswith("+00:00"):
        return stored[:-6] + "Z"
    return iso(datetime.fromisoformat(stored)) or stored


def _state_json(
    current: str, histories: Sequence[Sequence[str]], start: datetime, end: datetime | None
) -> dict[str, Any]:
    last = end
    if last is None:
        last = datetime.fromisoformat(histories[-1][1]) if histories else start
    return {
        "current": current,
        "histories": [{"state": state, "date": _iso_text(date)} for state, date in histories],
        "startDate": _iso_text(start.isoformat()),
        "endDate": _iso_text(end.isoformat()) if end is not None else None,
        "duration": format_duration(last - start),
    }


def execution_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    """Kestra's execution JSON without `taskRunList`, inputs, outputs and variables: what a
    list shows. The duration of an unfinished execution runs to its last state change."""
    state = _state_json(row["state"], _json(row["histories"]), row["start_date"], row["end_date"])
    return {
        "id": row["id"],
        "namespace": row["namespace"],
        "flowId": row["flow_id"],
        "flowRevision": row["flow_revision"],
        "parentId": row["parent_id"] or None,
        "originalId": row["original_id"] or row["id"],
        "state": state,
        "labels": _json(row["labels"]),
    }


def execution_states(*, tenant: Tenant, ids: Iterable[str]) -> dict[str, str]:
    """The current state of each execution among `ids` (for pollers such as the bench)."""
    rows = Execution.objects.for_tenant(tenant).filter(pk__in=list(ids))
    return dict(rows.values_list("id", "state"))


def task_run_end_dates(*, tenant: Tenant, execution_ids: Iterable[str]) -> list[datetime]:
    """When each ended task run of these executions ended (the last date of its history)."""
    runs = TaskRun.objects.for_tenant(tenant).filter(execution_id__in=list(execution_ids))
    return [
        datetime.fromisoformat(histories[-1][1])
        for state, histories in runs.values_list("state", "histories")
        if histories and State(state).terminated
    ]


# --- logs -----------------------------------------------------------------------------------


def log_filter_q(spec: LogFilter) -> Q:
    where = Q()
    if spec.min_level != "TRACE":
        where &= Q(level__in=LOG_LEVELS[LOG_LEVELS.index(spec.min_level) :])
    if spec.q:
        where &= Q(message__icontains=spec.q)
    if spec.namespace:
        where &= _namespace_q("execution__namespace", spec.namespace)
    if spec.flow_id:
        where &= Q(execution__flow_id=spec.flow_id)
    if spec.execution_id:
        where &= Q(execution_id=spec.execution_id)
    if spec.start_date is not None:
        where &= Q(timestamp__gte=spec.start_date)
    if spec.end_date is not None:
        where &= Q(timestamp__lte=spec.end_date)
    return where


def log_search_statement(*, tenant: Tenant, spec: LogFilter, request: PageRequest) -> Statement:
    filtered = LogEntry.objects.for_tenant(tenant).filter(log_filter_q(spec))
    return _statement(filtered, LOG_COLUMNS, "timestamp", request)


def log_search(*, tenant: Tenant, spec: LogFilter, request: PageRequest) -> SearchPage:
    """A page of log lines in Kestra's LogEntry JSON, newest first unless asked otherwise."""
    statement = log_search_statement(tenant=tenant, spec=spec, request=request)
    return _page(statement, request, "timestamp", log_row_json)


def log_row_json(row: dict[str, Any]) -> dict[str, Any]:
    """The same JSON as `executions.selectors.log_as_json`, from a search row."""
    return {
        "executionId": row["execution_id"],
        "namespace": row["execution__namespace"],
        "flowId": row["execution__flow_id"],
        "taskId": row["task_id"] or None,
        "taskRunId": row["task_run_id"] or None,
        "attemptNumber": row["attempt_number"],
        "level": row["level"],
        "message": row["message"],
        "timestamp": row["timestamp"].isoformat(),
    }
