"""Bulk actions over executions: restart, replay, change status, delete, set labels, kill,
pause, resume, unqueue and force run, on a filter (Kestra's `.../by-query`) or a list of ids
(`.../by-ids`), from the API or the executions list.

Asking stores a `BulkAction` holding the ids it covers (those matching the filter at that
moment, as Kestra computes them) and sends a Celery task after commit. The task handles the
executions one by one, each in its own transaction together with the progress counter, so
that a failing one is recorded with its message and the others go on, the page can show
"N of M", and a task delivered again (a worker lost) resumes where the counter stopped
without handling an execution twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from executions import deletion, search
from executions.engine.labels import check_user_labels
from executions.engine.model import Label
from executions.engine.restart import STATUS_STATES, require_one_of
from executions.engine.states import State
from executions.labels import execution_labels_set
from executions.lifecycle import (
    execution_force_run,
    execution_kill,
    execution_pause,
    execution_resume,
    execution_unqueue,
)
from executions.models import BulkAction, Execution
from executions.reconnect import LOST, with_reconnect
from executions.restart import (
    execution_replay,
    execution_restart,
    execution_status_change,
    parse_state,
)
from flows.selectors import flow_get
from tenants.errors import AviaryError, NotFound, Unprocessable, Violation
from tenants.models import Tenant

log = logging.getLogger("aviary.executions")

MAX_EXECUTIONS = search.TOTAL_CAP
"""Executions one bulk action may cover: past it, the filter must be narrowed."""
MAX_ERRORS_KEPT = 1000
"""Per-execution errors stored with the action (the count of failures is always exact)."""


# --- what each action does to one execution -------------------------------------------------

Handler = Callable[[Tenant, str, Mapping[str, Any]], None]


def _restart(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    execution_restart(tenant=tenant, execution_id=execution_id)


def _delete(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    deletion.execution_delete(
        tenant=tenant,
        execution_id=execution_id,
        delete_storage=bool(parameters.get("deleteStorage", True)),
    )


def _labels(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    labels = [Label(item["key"], item["value"]) for item in parameters.get("labels", [])]
    execution_labels_set(tenant=tenant, execution_id=execution_id, labels=labels)


def _kill(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    execution_kill(tenant=tenant, execution_id=execution_id)


def _replay(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    """A new execution from the start of each; with `latestRevision`, of the flow's current
    revision (Kestra's flag), else of the revision it ran."""
    revision = None
    if parameters.get("latestRevision"):
        row = Execution.objects.for_tenant(tenant).filter(pk=execution_id).first()
        if row is None:
            raise NotFound(f"Execution {execution_id} not found")
        revision = flow_get(tenant=tenant, namespace=row.namespace, flow_id=row.flow_id).revision
    execution_replay(tenant=tenant, execution_id=execution_id, revision=revision)


def _status(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    status = State(parameters["status"])
    execution_status_change(tenant=tenant, execution_id=execution_id, status=status)


def _pause(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    execution_pause(tenant=tenant, execution_id=execution_id)


def _resume(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    """Without `onResume` values: a Pause whose form requires one refuses, and says which."""
    execution_resume(tenant=tenant, execution_id=execution_id)


def _unqueue(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    execution_unqueue(tenant=tenant, execution_id=execution_id)


def _force_run(tenant: Tenant, execution_id: str, parameters: Mapping[str, Any]) -> None:
    execution_force_run(tenant=tenant, execution_id=execution_id)


HANDLERS: dict[str, Handler] = {
    BulkAction.Action.RESTART: _restart,
    BulkAction.Action.REPLAY: _replay,
    BulkAction.Action.STATUS: _status,
    BulkAction.Action.DELETE: _delete,
    BulkAction.Action.LABELS: _labels,
    BulkAction.Action.KILL: _kill,
    BulkAction.Action.PAUSE: _pause,
    BulkAction.Action.RESUME: _resume,
    BulkAction.Action.UNQUEUE: _unqueue,
    BulkAction.Action.FORCE_RUN: _force_run,
}


# --- which executions ---------------------------------------------------------------------


def _capped_ids(rows: QuerySet[Execution]) -> list[str]:
    ids = list(
        rows.order_by("-start_date", "-id").values_list("id", flat=True)[: MAX_EXECUTIONS + 1]
    )
    if len(ids) > MAX_EXECUTIONS:
        raise Unprocessable(
            f"The filter matches more than {MAX_EXECUTIONS:,} executions: narrow it (a flow, a "
            "state, dates) and run the action on each part"
        )
    return ids


def ids_matching(*, tenant: Tenant, spec: search.ExecutionFilter) -> list[str]:
    """The ids of the executions matching Kestra's search parameters, newest first."""
    return _capped_ids(Execution.objects.for_tenant(tenant).filter(search.execution_filter_q(spec)))


def ids_of(*, rows: QuerySet[Execution]) -> list[str]:
    """The ids of an already filtered queryset of one tenant's executions (the list page's)."""
    return _capped_ids(rows)


def ids_existing(*, tenant: Tenant, ids: Iterable[Any]) -> list[str]:
    """`ids` (Kestra's by-ids body), each an id of this tenant's executions: every other
    item is named in one 422 and nothing is done."""
    given = list(ids)
    problems = [
        Violation(f"[{index}]", f"expected an execution id, got {value!r:.60}")
        for index, value in enumerate(given)
        if not isinstance(value, str) or not value
    ]
    if problems:
        raise Unprocessable("Expected a list of execution ids", violations=problems)
    unique = list(dict.fromkeys(given))
    if len(unique) > MAX_EXECUTIONS:
        raise Unprocessable(f"At most {MAX_EXECUTIONS:,} executions at once, got {len(unique):,}")
    found = set(
        Execution.objects.for_tenant(tenant).filter(pk__in=unique).values_list("id", flat=True)
    )
    missing = [
        Violation(execution_id, "execution not found")
        for execution_id in unique
        if execution_id not in found
    ]
    if missing:
        raise Unprocessable(
            f"{len(missing)} execution(s) not found; nothing was done", violations=missing
        )
    return unique


# --- asking, running, reading ---------------------------------------------------------------


def bulk_action_start(
    *,
    tenant: Tenant,
    user: User | None,
    action: str,
    execution_ids: list[str],
    parameters: Mapping[str, Any] | None = None,
) -> BulkAction:
    """Store the action over `execution_ids` and send it to a worker after commit."""
    from executions import tasks  # the Celery app stays out of model loading

    if action not in HANDLERS:
        raise Unprocessable(f"Unknown bulk action '{action}'", field="action")
    parameters = dict(parameters or {})
    if action == BulkAction.Action.LABELS:
        labels = [Label(item["key"], item["value"]) for item in parameters.get("labels", [])]
        if not labels:
            raise Unprocessable("Give at least one label to set", field="labels")
        check_user_labels(labels, ())
    if action == BulkAction.Action.STATUS:
        status = parse_state(parameters.get("status") or "", "newStatus", STATUS_STATES)
        message = "newStatus must be an end state ({allowed}), not {state}"
        require_one_of(status, STATUS_STATES, "newStatus", message)
        parameters["status"] = status.value
    nothing = not execution_ids
    bulk = BulkAction.objects.for_tenant(tenant).create(
        action=action,
        parameters=parameters,
        execution_ids=list(execution_ids),
        total=len(execution_ids),
        created_by=user if user is not None and user.is_authenticated else None,
        status=BulkAction.Status.DONE if nothing else BulkAction.Status.QUEUED,
        finished_at=timezone.now() if nothing else None,
    )
    if not nothing:
        transaction.on_commit(lambda: tasks.run_bulk_action.delay(tenant.pk, bulk.pk))
    return bulk


def bulk_action_run(*, tenant: Tenant, bulk_action_id: int) -> None:
    """The Celery task: handle every execution not handled yet, one transaction each."""
    while with_reconnect(_step, tenant, bulk_action_id):
        pass


def _step(tenant: Tenant, bulk_action_id: int) -> bool:
    """Handle the next execution of the action; False once none is left."""
    with transaction.atomic():
        bulk = (
            BulkAction.objects.for_tenant(tenant)
            .select_for_update()
            .filter(pk=bulk_action_id)
            .first()
        )
        if bulk is None:
            return False
        if bulk.done >= bulk.total:
            if bulk.status != BulkAction.Status.DONE:
                bulk.status, bulk.finished_at = BulkAction.Status.DONE, timezone.now()
                bulk.save(update_fields=["status", "finished_at"])
            return False
        execution_id = bulk.execution_ids[bulk.done]
        message = _handle(tenant, bulk, execution_id)
        if message is None:
            bulk.succeeded += 1
        elif len(bulk.errors) < MAX_ERRORS_KEPT:
            bulk.errors.append({"executionId": execution_id, "message": message})
        bulk.done += 1
        bulk.status = BulkAction.Status.RUNNING
        bulk.save(update_fields=["done", "succeeded", "errors", "status"])
        return True


def _handle(tenant: Tenant, bulk: BulkAction, execution_id: str) -> str | None:
    """Apply the action to one execution inside a savepoint: None when done, else why not
    (what it wrote is rolled back, the action goes on)."""
    handler = HANDLERS[bulk.action]
    try:
        with transaction.atomic():
            handler(tenant, execution_id, bulk.parameters)
    except AviaryError as error:
        return error.message
    except LOST:  # the database went away: this step runs again on a new connection
        raise
    except Exception:  # a bug on one execution must not leave the others undone; it is logged
        log.exception("bulk %s %s failed on execution %s", bulk.action, bulk.pk, execution_id)
        return "Internal error: this execution was not handled (the server log has the details)"
    return None


def bulk_action_get(*, tenant: Tenant, bulk_action_id: int | str) -> BulkAction:
    try:
        number = int(bulk_action_id)
    except (TypeError, ValueError):
        number = -1
    bulk = BulkAction.objects.for_tenant(tenant).filter(pk=number).first()
    if bulk is None:
        raise NotFound(f"Bulk action {str(bulk_action_id)[:40]} not found")
    return bulk


def bulk_action_as_json(bulk: BulkAction) -> dict[str, Any]:
    return {
        "id": bulk.pk,
        "action": bulk.action,
        "status": bulk.status,
        "count": bulk.total,
        "done": bulk.done,
        "succeeded": bulk.succeeded,
        "failed": bulk.failed,
        "errors": bulk.errors,
        "createdAt": bulk.created_at.isoformat(),
        "finishedAt": bulk.finished_at.isoformat() if bulk.finished_at else None,
    }
