"""Helpers of the Schedule trigger tests: flows, the scheduler's process caches, and moving a
trigger's next tick by hand (the clock of those tests is the `now` they pass)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from executions.models import Execution
from flows.services import flow_create
from tenants.models import Tenant
from triggers import scheduler
from triggers.models import Trigger


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def scheduled_flow(flow_id: str, trigger: str, extra: str = "") -> str:
    """A one-task flow with one Schedule trigger `every` (its YAML lines after `type:`)."""
    lines = textwrap.indent(textwrap.dedent(trigger).strip(), "    ")
    return (
        f"id: {flow_id}\nnamespace: company.team\n{textwrap.dedent(extra)}"
        "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: 'tick {{ trigger.date }}'\n"
        "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        f"{lines}\n"
    )


def create_scheduled(tenant: Tenant, user, flow_id: str, trigger: str, extra: str = "") -> Trigger:
    flow_create(tenant=tenant, user=user, source=scheduled_flow(flow_id, trigger, extra))
    return Trigger.objects.for_tenant(tenant).get(flow_id=flow_id, trigger_id="every")


def due_at(trigger: Trigger, when: datetime) -> None:
    Trigger.objects.for_tenant(trigger.tenant).filter(pk=trigger.pk).update(next_date=when)


def executions_of(tenant: Tenant, flow_id: str) -> list[Execution]:
    rows = Execution.objects.for_tenant(tenant).filter(flow_id=flow_id)
    return sorted(rows, key=lambda row: row.trigger["variables"]["date"])


def dates_of(tenant: Tenant, flow_id: str) -> list[str]:
    return [row.trigger["variables"]["date"] for row in executions_of(tenant, flow_id)]


def end(tenant: Tenant, execution_id: str, state: str = "SUCCESS") -> None:
    """The execution ended (what the executor would write; these tests are about triggers)."""
    Execution.objects.for_tenant(tenant).filter(pk=execution_id).update(state=state)


@pytest.fixture(autouse=True)
def _fresh_scheduler_caches() -> None:
    """The scheduler keeps specs, flows and tenants per process; rows of earlier tests are
    rolled back, the process is not."""
    for cache in (scheduler._SCHEDULES, scheduler._FLOWS, scheduler._TENANTS):
        cache.clear()
