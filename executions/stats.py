"""Execution statistics: how many executions started on each day, by state, with their
durations (Kestra's `DailyExecutionStatistics`). Reads only, tenant first.

Days are UTC calendar days. One aggregated query (GROUP BY day, state) over the executions
that started in the range; it reads `exec_tenant_start`, or `exec_flow_start` for one flow,
so its cost follows the rows in the range, not the table. Days without an execution are
filled in here with zeros, so a chart has one bar per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate

from executions.engine.inputs.temporal import format_duration
from executions.engine.states import State
from executions.models import Execution
from tenants.models import Tenant

MAX_DAYS = 366
"""Longest range, in days (a leap year): past it, a bar chart is unreadable anyway."""
STATES = [state.value for state in State]


@dataclass(frozen=True)
class DurationStats:
    """Durations of the day's ended executions (`count` of them); zero when none ended."""

    count: int = 0
    minimum: timedelta = timedelta(0)
    maximum: timedelta = timedelta(0)
    total: timedelta = timedelta(0)

    @property
    def average(self) -> timedelta:
        return self.total / self.count if self.count else timedelta(0)

    def merged(self, other: DurationStats) -> DurationStats:
        if not other.count:
            return self
        if not self.count:
            return other
        return DurationStats(
            count=self.count + other.count,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            total=self.total + other.total,
        )


@dataclass(frozen=True)
class DailyExecutionStats:
    day: date
    counts: dict[str, int]  # every state, zeros included (Kestra's shape)
    duration: DurationStats

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, object]:
        """Kestra's `DailyExecutionStatistics`, with the day as an ISO date."""
        duration = self.duration
        return {
            "startDate": self.day.isoformat(),
            "executionCounts": dict(self.counts),
            "duration": {
                "count": duration.count,
                "min": format_duration(duration.minimum),
                "avg": format_duration(duration.average),
                "max": format_duration(duration.maximum),
                "sum": format_duration(duration.total),
            },
            "groupBy": "day",
        }


def execution_daily_stats(
    *, tenant: Tenant, start: date, end: date, namespace: str = "", flow_id: str = ""
) -> list[DailyExecutionStats]:
    """One entry per UTC day from `start` to `end` (both included), oldest first, for the
    executions that started that day. `namespace` alone takes its children too; with
    `flow_id` it names the flow's own namespace exactly (a flow is namespace + id)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    rows = Execution.objects.for_tenant(tenant).filter(
        start_date__gte=datetime.combine(start, time.min, tzinfo=UTC),
        start_date__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )
    if flow_id:
        rows = rows.filter(flow_id=flow_id)
        if namespace:
            rows = rows.filter(namespace=namespace)
    elif namespace:
        rows = rows.filter(Q(namespace=namespace) | Q(namespace__startswith=namespace + "."))
    span = ExpressionWrapper(F("end_date") - F("start_date"), output_field=DurationField())
    grouped = (
        rows.order_by()
        .annotate(day=TruncDate("start_date", tzinfo=UTC))
        .values("day", "state")
        .annotate(
            executions=Count("id"),
            ended=Count("end_date"),
            shortest=Min(span),
            longest=Max(span),
            spent=Sum(span),
        )
    )
    counts: dict[date, dict[str, int]] = {}
    durations: dict[date, DurationStats] = {}
    for row in grouped:
        day = row["day"]
        day_counts = counts.setdefault(day, dict.fromkeys(STATES, 0))
        day_counts[row["state"]] = day_counts.get(row["state"], 0) + row["executions"]
        if row["ended"]:
            found = DurationStats(row["ended"], row["shortest"], row["longest"], row["spent"])
            durations[day] = durations.get(day, DurationStats()).merged(found)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    return [
        DailyExecutionStats(
            day=day,
            counts=counts.get(day) or dict.fromkeys(STATES, 0),
            duration=durations.get(day, DurationStats()),
        )
        for day in days
    ]


def last_days(*, days: int, today: date) -> tuple[date, date]:
    """The range of the last `days` UTC days, today included."""
    return today - timedelta(days=days - 1), today
