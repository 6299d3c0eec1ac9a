"""Actions on executions, Kestra's paths: restart, replay, change a task run's state or the
execution's end state, set labels (`/executions/{id}/...`), and the bulk variants (restart,
delete, set labels, kill) over a search filter (`/by-query`) or a list of ids (`/by-ids`),
which run in the background: they answer 202 with the bulk action (`count`, as Kestra's
`BulkResponse`, plus its id), whose progress and per-execution errors
`GET /executions/bulk/{id}` reports.

Thin: read the request, call executions/restart.py, labels.py or bulk.py, render.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import bulk, selectors
from executions.api_search import ExecutionSearchQuerySerializer, LabelSerializer
from executions.engine.restart import STATUS_STATES
from executions.labels import execution_labels_set, labels_from_json
from executions.models import BulkAction
from executions.restart import (
    execution_replay,
    execution_restart,
    execution_status_change,
    parse_state,
    task_run_state_set,
)
from tenants.api_base import TenantApi, query_flag
from tenants.errors import Unprocessable, Violation

EXECUTION_ID = OpenApiParameter("execution_id", str, OpenApiParameter.PATH)
REVISION = OpenApiParameter(
    "revision", int, description="run this revision of the flow instead of the execution's"
)
FILTERS = [
    OpenApiParameter("q", str, description="id prefix, or text in the flow id"),
    OpenApiParameter("namespace", str, description="a namespace and its children"),
    OpenApiParameter("flowId", str, description="exact flow id"),
    OpenApiParameter("startDate", str, description="ISO date-time, lower bound (≥)"),
    OpenApiParameter("endDate", str, description="ISO date-time (end date ≤)"),
    OpenApiParameter("state", str, many=True, description="repeatable"),
    OpenApiParameter("labels", str, many=True, description="key:value, repeatable (AND)"),
]
IDS_BODY = {"application/json": {"type": "array", "items": {"type": "string"}}}
LABELS_BODY = {"application/json": LabelSerializer(many=True)}


class BulkActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=BulkAction.Action.choices)
    status = serializers.ChoiceField(choices=BulkAction.Status.choices)
    count = serializers.IntegerField(help_text="executions covered")
    done = serializers.IntegerField(help_text="executions handled so far")
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = inline_serializer(
        "BulkActionError",
        {"executionId": serializers.CharField(), "message": serializers.CharField()},
        many=True,
    )
    createdAt = serializers.CharField()
    finishedAt = serializers.CharField(allow_null=True)


class ActionApi(TenantApi):
    parser_classes = [JSONParser]


def _revision(request: Request) -> int | None:
    raw = request.query_params.get("revision")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise Unprocessable(
            f"revision must be a revision number (1, 2...), got '{raw[:40]}'",
            field="revision",
        )
    return int(raw)


def _execution(row: Any) -> Response:
    return Response(selectors.execution_as_json(row))


class ExecutionRestartApi(ActionApi):
    @extend_schema(
        operation_id="execution_restart",
        summary="Restart an ended execution from its failed task runs, or a paused one",
        description="The same execution runs again (state RESTARTED, then RUNNING) with a new "
        "attempt of each FAILED task run; a PAUSED execution's paused task runs go on (a Pause "
        "as if resumed, without `onResume` values); with `revision`, a new execution of that "
        "revision is created from it instead (Kestra's behaviour).",
        parameters=[EXECUTION_ID, REVISION],
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        row = execution_restart(
            tenant=self.tenant, execution_id=execution_id, revision=_revision(request)
        )
        return _execution(row)


class ExecutionReplayApi(ActionApi):
    @extend_schema(
        operation_id="execution_replay",
        summary="A new execution from this one, from its start or from a task run",
        parameters=[
            EXECUTION_ID,
            OpenApiParameter("taskRunId", str, description="replay from this task run"),
            REVISION,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        task_run_id = request.query_params.get("taskRunId") or None
        row = execution_replay(
            tenant=self.tenant,
            execution_id=execution_id,
            task_run_id=task_run_id,
            revision=_revision(request),
        )
        return _execution(row)


class ExecutionStateApi(ActionApi):
    @extend_schema(
        operation_id="execution_task_run_state",
        summary="Force an ended task run to SUCCESS, WARNING or FAILED",
        parameters=[EXECUTION_ID],
        request=inline_serializer(
            "TaskRunStateRequest",
            {"taskRunId": serializers.CharField(), "state": serializers.CharField()},
        ),
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        task_run_id, state = body.get("taskRunId"), body.get("state")
        problems = []
        if not isinstance(task_run_id, str) or not task_run_id:
            problems.append(Violation("taskRunId", "a task run id is required"))
        if not isinstance(state, str) or not state:
            problems.append(Violation("state", "a state is required (SUCCESS, WARNING, FAILED)"))
        if problems:
            raise Unprocessable("Expected {taskRunId, state}", violations=problems)
        row = task_run_state_set(
            tenant=self.tenant,
            execution_id=execution_id,
            task_run_id=str(task_run_id),
            state=parse_state(state),
        )
        return _execution(row)


class ExecutionStatusApi(ActionApi):
    @extend_schema(
        operation_id="execution_change_status",
        summary="Give an ended execution another end state",
        description="Only the execution's state changes (its task runs stay as they are, "
        "nothing runs again).",
        parameters=[
            EXECUTION_ID,
            OpenApiParameter("status", str, required=True, enum=[s.value for s in STATUS_STATES]),
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        status = parse_state(request.query_params.get("status", ""), "status", STATUS_STATES)
        row = execution_status_change(tenant=self.tenant, execution_id=execution_id, status=status)
        return _execution(row)


class ExecutionLabelsApi(ActionApi):
    @extend_schema(
        operation_id="execution_labels_set",
        summary="Add or update labels of an ended execution",
        description="The labels given replace those with the same key; the others stay. "
        "System labels (`system.` prefix) cannot be added or changed.",
        parameters=[EXECUTION_ID],
        request=LABELS_BODY,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        row = execution_labels_set(
            tenant=self.tenant, execution_id=execution_id, labels=labels_from_json(request.data)
        )
        return _execution(row)


# --- bulk -----------------------------------------------------------------------------------


def _matching(api: TenantApi, request: Request) -> list[str]:
    query = ExecutionSearchQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return bulk.ids_matching(tenant=api.tenant, spec=query.spec())


def _started(
    api: TenantApi, request: Request, action: str, ids: list[str], **params: Any
) -> Response:
    started = bulk.bulk_action_start(
        tenant=api.tenant, user=request.user, action=action, execution_ids=ids, parameters=params
    )
    location = reverse(
        "api-execution-bulk", kwargs={"tenant": api.tenant.slug, "bulk_id": started.pk}
    )
    return Response(bulk.bulk_action_as_json(started), status=202, headers={"Location": location})


def _delete_parameters(request: Request) -> dict[str, Any]:
    """Kestra's delete flags: logs go with an execution (deleteLogs=false is refused, see
    executions/deletion.py) and only ended executions are deleted."""
    if not query_flag(request, "deleteLogs", True):
        raise Unprocessable(
            "deleteLogs=false is not supported: an execution's log lines are deleted with it",
            field="deleteLogs",
        )
    if query_flag(request, "includeNonTerminated", False):
        raise Unprocessable(
            "includeNonTerminated=true is not supported: kill the executions first, then "
            "delete them once they have ended",
            field="includeNonTerminated",
        )
    query_flag(request, "deleteMetrics", True)  # Aviary records no metrics
    return {"deleteStorage": query_flag(request, "deleteStorage", True)}


def _label_parameters(labels: Any, field: str = "labels") -> dict[str, Any]:
    given = labels_from_json(labels, field)
    return {"labels": [label.to_kestra_json() for label in given]}


def _ids_body(request: Request) -> list[Any]:
    if not isinstance(request.data, list):
        raise Unprocessable(
            "Expected a list of execution ids", violations=[Violation("", "expected a list")]
        )
    return request.data


BULK_RESPONSES = {202: BulkActionSerializer, **error_responses(422)}


class RestartByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_restart_by_query",
        summary="Restart every execution matching the filters (in the background)",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.RESTART, _matching(self, request))


class RestartByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_restart_by_ids",
        summary="Restart these executions (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.RESTART, ids)


class DeleteByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_delete_by_query",
        summary="Delete every ended execution matching the filters (in the background)",
        parameters=[
            *FILTERS,
            OpenApiParameter("deleteStorage", bool, default=True),
            OpenApiParameter("deleteLogs", bool, default=True, description="false is refused"),
            OpenApiParameter(
                "includeNonTerminated", bool, default=False, description="true is refused"
            ),
        ],
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str) -> Response:
        parameters = _delete_parameters(request)
        ids = _matching(self, request)
        return _started(self, request, BulkAction.Action.DELETE, ids, **parameters)


class DeleteByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_delete_by_ids",
        summary="Delete these ended executions (in the background)",
        parameters=[
            OpenApiParameter("deleteStorage", bool, default=True),
            OpenApiParameter("deleteLogs", bool, default=True, description="false is refused"),
        ],
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str) -> Response:
        parameters = _delete_parameters(request)
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.DELETE, ids, **parameters)


class LabelsByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_labels_by_query",
        summary="Set labels on every ended execution matching the filters (in the background)",
        parameters=FILTERS,
        request=LABELS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        parameters = _label_parameters(request.data)
        ids = _matching(self, request)
        return _started(self, request, BulkAction.Action.LABELS, ids, **parameters)


class LabelsByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_labels_by_ids",
        summary="Set labels on these ended executions (in the background)",
        request=inline_serializer(
            "SetLabelsByIdsRequest",
            {
                "executionsId": serializers.ListField(child=serializers.CharField()),
                "executionLabels": LabelSerializer(many=True),
            },
        ),
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        if not isinstance(body.get("executionsId"), list):
            raise Unprocessable(
                "Expected {executionsId: [...], executionLabels: [{key, value}]}",
                violations=[Violation("executionsId", "expected a list of execution ids")],
            )
        parameters = _label_parameters(body.get("executionLabels"), "executionLabels")
        ids = bulk.ids_existing(tenant=self.tenant, ids=body["executionsId"])
        return _started(self, request, BulkAction.Action.LABELS, ids, **parameters)


class KillByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_kill_by_query",
        summary="Kill every unfinished execution matching the filters (in the background)",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.KILL, _matching(self, request))


class KillByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_kill_by_ids",
        summary="Kill these unfinished executions (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.KILL, ids)


NEW_STATUS = OpenApiParameter(
    "newStatus", str, required=True, enum=[state.value for state in STATUS_STATES]
)
LATEST_REVISION = OpenApiParameter(
    "latestRevision", bool, default=False, description="replay on the flow's current revision"
)


def _replay_parameters(request: Request) -> dict[str, Any]:
    return {"latestRevision": query_flag(request, "latestRevision", default=False)}


def _status_parameters(request: Request) -> dict[str, Any]:
    return {"status": request.query_params.get("newStatus", "")}


class ReplayByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_replay_by_query",
        summary="Replay every execution matching the filters, each as a new execution",
        parameters=[*FILTERS, LATEST_REVISION],
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        parameters = _replay_parameters(request)
        ids = _matching(self, request)
        return _started(self, request, BulkAction.Action.REPLAY, ids, **parameters)


class ReplayByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_replay_by_ids",
        summary="Replay these executions, each as a new execution (in the background)",
        parameters=[LATEST_REVISION],
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        parameters = _replay_parameters(request)
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.REPLAY, ids, **parameters)


class StatusByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_change_status_by_query",
        summary="Give every ended execution matching the filters another end state",
        parameters=[*FILTERS, NEW_STATUS],
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        parameters = _status_parameters(request)
        ids = _matching(self, request)
        return _started(self, request, BulkAction.Action.STATUS, ids, **parameters)


class StatusByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_change_status_by_ids",
        summary="Give these ended executions another end state (in the background)",
        parameters=[NEW_STATUS],
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        parameters = _status_parameters(request)
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.STATUS, ids, **parameters)


class PauseByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_pause_by_query",
        summary="Pause every running execution matching the filters (in the background)",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.PAUSE, _matching(self, request))


class PauseByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_pause_by_ids",
        summary="Pause these running executions (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.PAUSE, ids)


class ResumeByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_resume_by_query",
        summary="Resume every paused execution matching the filters (in the background)",
        description="No `onResume` values are given: a Pause whose form requires one is "
        "recorded as an error of the action.",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.RESUME, _matching(self, request))


class ResumeByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_resume_by_ids",
        summary="Resume these paused executions (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.RESUME, ids)


class UnqueueByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_unqueue_by_query",
        summary="Start every queued execution matching the filters now (in the background)",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.UNQUEUE, _matching(self, request))


class UnqueueByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_unqueue_by_ids",
        summary="Start these queued executions now (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.UNQUEUE, ids)


class ForceRunByQueryApi(ActionApi):
    @extend_schema(
        operation_id="execution_force_run_by_query",
        summary="Force every unfinished execution matching the filters to run",
        parameters=FILTERS,
        request=None,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        return _started(self, request, BulkAction.Action.FORCE_RUN, _matching(self, request))


class ForceRunByIdsApi(ActionApi):
    @extend_schema(
        operation_id="execution_force_run_by_ids",
        summary="Force these unfinished executions to run (in the background)",
        request=IDS_BODY,
        responses=BULK_RESPONSES,
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        ids = bulk.ids_existing(tenant=self.tenant, ids=_ids_body(request))
        return _started(self, request, BulkAction.Action.FORCE_RUN, ids)


class BulkActionApi(ActionApi):
    @extend_schema(
        operation_id="execution_bulk_get",
        summary="Progress of a bulk action: executions handled, errors",
        parameters=[OpenApiParameter("bulk_id", int, OpenApiParameter.PATH)],
        responses={200: BulkActionSerializer, **error_responses()},
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, bulk_id: str) -> Response:
        found = bulk.bulk_action_get(tenant=self.tenant, bulk_action_id=bulk_id)
        return Response(bulk.bulk_action_as_json(found))
