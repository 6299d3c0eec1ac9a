"""Executions, their task runs and their logs, as rows.

The engine decides on an immutable snapshot (executions/engine/model.py); these tables hold
it: one row per execution (queried by the lists, so its filter columns are real columns) and
one row per task run (so a loop with thousands of iterations updates rows, not one ever
growing document). `executions/snapshots.py` converts both ways.
"""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class Execution(TenantOwned):
    id = models.CharField(primary_key=True, max_length=32)
    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    flow_revision = models.PositiveIntegerField()
    state = models.CharField(max_length=12)
    # Kestra's `state.histories`: [[state, ISO date], ...]
    histories = models.JSONField(default=list)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    outputs = models.JSONField(null=True, blank=True)
    labels = models.JSONField(default=list)  # [{key, value}]
    variables = models.JSONField(default=dict)
    trigger = models.JSONField(null=True, blank=True)
    parent_id = models.CharField(max_length=32, blank=True, default="")
    original_id = models.CharField(max_length=32, blank=True, default="")
    attempt_number = models.PositiveIntegerField(default=1)
    original_created_date = models.DateTimeField(null=True, blank=True)
    schedule_date = models.DateTimeField(null=True, blank=True)
    # When the executor must decide again (retry delay, timeout, sleep): read by the waker.
    wake_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every save of the engine (executions/snapshots.py), which stamps the task
    # runs it writes with it: a process that holds the snapshot of version n reads only the
    # task runs above n, and `task_run_count` tells it when some were deleted.
    version = models.BigIntegerField(default=0)
    task_run_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-start_date", "-id"], name="exec_tenant_start"),
            models.Index(
                fields=["tenant", "namespace", "flow_id", "-start_date"], name="exec_flow_start"
            ),
            models.Index(fields=["tenant", "state", "-start_date"], name="exec_state_start"),
            models.Index(fields=["wake_at"], name="exec_wake_at"),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id} {self.id}"


class TaskRun(TenantOwned):
    id = models.CharField(primary_key=True, max_length=32)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="task_runs")
    position = models.PositiveIntegerField()  # creation order within the execution
    task_id = models.CharField(max_length=100)
    parent_task_run_id = models.CharField(max_length=32, blank=True, default="")
    # None (no loop value) differs from "" (an empty loop value)
    value = models.TextField(null=True, blank=True)  # noqa: DJ001
    iteration = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=12)
    histories = models.JSONField(default=list)
    attempts = models.JSONField(default=list)  # [{"histories": [[state, date], ...]}]
    outputs = models.JSONField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    engine_state = models.JSONField(default=dict)
    # The worker running the current attempt renews `lease_until`; a lease that runs out
    # means the worker died, and the sweeper gives the task run a new attempt elsewhere.
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    version = models.BigIntegerField(default=0)  # the execution's version that wrote it

    class Meta:
        ordering = ["execution", "position"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "position"], name="taskrun_position")
        ]
        indexes = [
            models.Index(
                fields=["lease_until"],
                name="taskrun_running_lease",
                condition=models.Q(state="RUNNING"),
            ),
            models.Index(fields=["execution", "version"], name="taskrun_execution_version"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.id}"


class LogEntry(TenantOwned):
    """A log line of an execution (a task's, or the executor's when `task_run_id` is empty).
    Secret values are masked before a line is stored."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="logs")
    task_run_id = models.CharField(max_length=32, blank=True, default="")
    task_id = models.CharField(max_length=100, blank=True, default="")
    attempt_number = models.PositiveIntegerField(default=0)
    level = models.CharField(max_length=8)
    message = models.TextField()
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["execution", "timestamp", "id"]
        indexes = [
            models.Index(fields=["execution", "timestamp"], name="log_execution_time"),
            # tenant-wide log search, newest first (`/logs/search` without an execution)
            models.Index(fields=["tenant", "-timestamp", "-id"], name="log_tenant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.message[:60]}"


class BulkAction(TenantOwned):
    """One bulk action over executions (restart, replay, change status, delete, set labels,
    kill, pause, resume, unqueue, force run), run by a Celery task: the executions it covers
    are fixed when it is asked (the ids matching the filter then), and its progress is
    counted as each of them is handled, in its own transaction."""

    class Action(models.TextChoices):
        RESTART = "restart", "Restart"
        REPLAY = "replay", "Replay"
        STATUS = "status", "Change status"
        DELETE = "delete", "Delete"
        LABELS = "labels", "Set labels"
        KILL = "kill", "Kill"
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        UNQUEUE = "unqueue", "Unqueue"
        FORCE_RUN = "force-run", "Force run"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"

    action = models.CharField(max_length=10, choices=Action.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    parameters = models.JSONField(default=dict)  # {"labels": [{key, value}]}, {"status": ...}
    execution_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)  # handled so far, succeeded or not
    succeeded = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"executionId", "message"}]
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def failed(self) -> int:
        return self.done - self.succeeded

    def __str__(self) -> str:
        return f"{self.action} of {self.total} execution(s) ({self.status})"


class ExecutionTransition(TenantOwned):
    """An execution entered a state: written in the transaction that changed it (an outbox),
    read and deleted by the Flow-trigger evaluator in the transaction that acts on it, so
    every transition is evaluated exactly once, whatever the number of processes and
    whenever they crash."""

    id = models.BigAutoField(primary_key=True)
    execution_id = models.CharField(max_length=32)
    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    state = models.CharField(max_length=12)
    at = models.DateTimeField()  # when the execution entered the state

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id} {self.execution_id} → {self.state}"


class SlaMonitor(TenantOwned):
    """An SLA of an unfinished execution (executions/sla.py). With a `deadline`: a
    MAX_DURATION SLA, checked by the scheduler process (not the execution's own worker,
    which may be busy or dead) and deleted once handled. Without: an SLA already violated,
    which the engine must not apply again (a NONE one keeps the execution going). Every row
    of an execution is deleted when it ends."""

    id = models.BigAutoField(primary_key=True)
    execution_id = models.CharField(max_length=32)
    sla_id = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)  # in the flow's `sla` list
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution_id", "position"], name="sla_monitor_execution_position"
            )
        ]
        indexes = [models.Index(fields=["deadline"], name="sla_monitor_deadline")]

    def __str__(self) -> str:
        return f"SLA {self.sla_id} of {self.execution_id} due {self.deadline}"
