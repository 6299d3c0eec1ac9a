"""Reads of flows: get, search, revisions, export. Deleted flows are invisible here."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from flows.models import Flow, FlowRevision
from flows.spec import flow_labels
from tenants.errors import NotFound
from tenants.models import Tenant

SORT_FIELDS = {
    "id": "flow_id",
    "namespace": "namespace__name",
    "revision": "revision",
    "updated": "updated_at",
}


def flow_list(*, tenant: Tenant) -> QuerySet[Flow]:
    return Flow.objects.for_tenant(tenant).filter(deleted=False).select_related("namespace")


def flow_get(*, tenant: Tenant, namespace: str, flow_id: str) -> Flow:
    """The flow of this tenant. Missing, deleted and another tenant's raise the same NotFound."""
    flow = flow_list(tenant=tenant).filter(namespace__name=namespace, flow_id=flow_id).first()
    if flow is None:
        raise NotFound(f"Flow {namespace}.{flow_id} not found")
    return flow


@dataclass(frozen=True)
class FlowQuery:
    q: str = ""
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    sort: tuple[str, str] = ("id", "asc")


def flow_search(*, tenant: Tenant, query: FlowQuery) -> QuerySet[Flow]:
    """Flows matching text (id, namespace, description), a namespace and its children, and
    every `key:value` label; ordered by `sort`."""
    flows = flow_list(tenant=tenant)
    if query.q:
        flows = flows.filter(
            Q(flow_id__icontains=query.q)
            | Q(namespace__name__icontains=query.q)
            | Q(description__icontains=query.q)
        )
    if query.namespace:
        flows = flows.filter(
            Q(namespace__name=query.namespace)
            | Q(namespace__name__startswith=query.namespace + ".")
        )
    for key, value in query.labels:
        flows = flows.filter(label_rows__key=key, label_rows__value=value)
    field, direction = query.sort
    order = SORT_FIELDS[field]
    prefix = "-" if direction == "desc" else ""
    return flows.distinct().order_by(f"{prefix}{order}", "namespace__name", "flow_id")


def flow_revision_list(*, tenant: Tenant, flow: Flow) -> QuerySet[FlowRevision]:
    return FlowRevision.objects.for_tenant(tenant).filter(flow=flow).order_by("revision")


def flow_revision_get(*, tenant: Tenant, flow: Flow, revision: int) -> FlowRevision:
    found = flow_revision_list(tenant=tenant, flow=flow).filter(revision=revision).first()
    if found is None:
        raise NotFound(f"Revision {revision} of flow {flow} not found")
    return found


def flow_as_json(flow: Flow, *, source: bool = False) -> dict[str, Any]:
    """Kestra's Flow JSON: the parsed document with server-owned fields on top."""
    body: dict[str, Any] = {key: value for key, value in flow.spec.items() if key != "revision"}
    body.update(
        {
            "id": flow.flow_id,
            "namespace": flow.namespace.name,
            "revision": flow.revision,
            "disabled": flow.disabled,
            "deleted": flow.deleted,
            "updated": flow.updated_at.isoformat(),
        }
    )
    if "labels" in body:
        body["labels"] = flow_labels(flow.spec)
    if source:
        body["source"] = flow.source
    return body


def flow_export_zip(*, flows: QuerySet[Flow]) -> bytes:
    """A ZIP with one `<namespace>.<id>.yml` per flow, each its YAML byte for byte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for flow in flows.iterator(chunk_size=500):
            archive.writestr(f"{flow.namespace.name}.{flow.flow_id}.yml", flow.source)
    return buffer.getvalue()


def flow_revision_source(*, tenant: Tenant, namespace: str, flow_id: str, revision: int) -> str:
    """The YAML of one revision (executions run the revision they started with)."""
    source = (
        FlowRevision.objects.for_tenant(tenant)
        .filter(flow__namespace__name=namespace, flow__flow_id=flow_id, revision=revision)
        .values_list("source", flat=True)
        .first()
    )
    if source is None:
        raise NotFound(f"Revision {revision} of flow {namespace}.{flow_id} not found")
    return source
