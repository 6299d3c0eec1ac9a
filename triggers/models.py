"""The trigger rows: one per trigger of a flow's current revision (Kestra's trigger context),
the keys that find Flow triggers from an upstream execution, and precondition windows."""

from __future__ import annotations

from django.db import models

from flows.models import Flow
from tenants.models import TenantOwned

SCHEDULE = "schedule"
FLOW = "flow"
WEBHOOK = "webhook"
ANY = ""  # a match key field that accepts every value


class Trigger(TenantOwned):
    """A trigger of a flow and what the scheduler and evaluators know of it. Rewritten by
    `triggers.services.triggers_sync` on every flow save; its state (next tick, backfill,
    disabled by a user, last execution) survives saves that keep the trigger id and kind."""

    KINDS = ((SCHEDULE, "Schedule"), (FLOW, "Flow"), (WEBHOOK, "Webhook"))

    # the flow row (its namespace and id are copied below, the names executions use)
    flow_row = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="trigger_rows")
    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    trigger_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KINDS)
    type = models.CharField(max_length=200)
    spec = models.JSONField(default=dict)
    flow_revision = models.PositiveIntegerField(default=1)
    # `disabled: true` in the YAML, or the flow disabled: set by every sync
    spec_disabled = models.BooleanField(default=False)
    # disabled from the triggers page or API (Kestra's trigger context `disabled`): kept
    disabled = models.BooleanField(default=False)
    # Schedule: the next tick to evaluate (None: nothing due, e.g. stopped or disabled)
    next_date = models.DateTimeField(null=True, blank=True)
    # the last tick or evaluation, and the last execution it started
    last_date = models.DateTimeField(null=True, blank=True)
    execution_id = models.CharField(max_length=32, blank=True, default="")
    # Schedule: {start, end, currentDate, paused, inputs, labels, created} while one runs
    backfill = models.JSONField(null=True, blank=True)
    # the problem that keeps the trigger from running, shown on the triggers page
    warning = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["namespace", "flow_id", "trigger_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_row", "trigger_id"], name="trigger_unique_per_flow"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "namespace", "flow_id"], name="trigger_tenant_flow"),
            # the scheduler's claim: due Schedule triggers only
            models.Index(
                fields=["next_date"],
                name="trigger_schedule_due",
                condition=models.Q(kind=SCHEDULE, disabled=False, spec_disabled=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}.{self.trigger_id}"

    @property
    def active(self) -> bool:
        return not (self.disabled or self.spec_disabled)


class FlowTriggerKey(TenantOwned):
    """Which upstream executions may concern a Flow trigger: (namespace, flow id, state), each
    `ANY` when the trigger does not narrow it. An upstream transition finds its candidate
    triggers with one index lookup instead of reading every flow of the tenant; the
    candidates' conditions are then evaluated in full."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="keys")
    namespace = models.CharField(max_length=150, blank=True, default=ANY)
    flow_id = models.CharField(max_length=100, blank=True, default=ANY)
    state = models.CharField(max_length=12, blank=True, default=ANY)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "namespace", "flow_id", "state"], name="trigger_key_lookup"
            )
        ]


class PreconditionWindow(TenantOwned):
    """The current window of one multiple condition (`preconditions`, legacy
    `MultipleCondition`) of a Flow trigger: which of its sub-conditions were met, by which
    upstream execution and when. Replaced when it expires; deleted after firing unless
    `resetOnSuccess: false`."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="windows")
    condition_id = models.CharField(max_length=100)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # {sub-condition key: {"executionId", "namespace", "flowId", "state", "at" (ISO)}}
    results = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "condition_id"], name="precondition_window_unique"
            )
        ]
