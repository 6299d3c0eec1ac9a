"""Writes of flows: create, update, delete and import, each all-or-nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from flows.models import Flow, FlowLabel, FlowRevision
from flows.spec import FlowValidation, flow_labels, parse_flow
from tenants.errors import Conflict, FlowSpecError, NotFound, Unprocessable, Violation
from tenants.models import Tenant
from tenants.services import namespace_ensure
from triggers.services import triggers_sync


@transaction.atomic
def flow_create(*, tenant: Tenant, user: User | None, source: str) -> Flow:
    """Store a new flow. A flow that exists (and is not deleted) is a 409; a deleted one is
    revived with the next revision number, as Kestra does."""
    parsed = parse_flow(source)
    namespace = namespace_ensure(tenant=tenant, name=parsed.namespace or "")
    flows = Flow.objects.for_tenant(tenant)
    flow = flows.select_for_update().filter(namespace=namespace, flow_id=parsed.flow_id).first()
    if flow is not None and not flow.deleted:
        raise Conflict(f"Flow id already exists: {parsed.namespace}.{parsed.flow_id}", field="id")
    if flow is None:
        flow = flows.create(namespace=namespace, flow_id=parsed.flow_id, revision=0)
    return _revision_append(tenant=tenant, flow=flow, parsed=parsed, user=user)


@transaction.atomic
def flow_update(
    *, tenant: Tenant, user: User | None, namespace: str, flow_id: str, source: str
) -> Flow:
    """Store a new revision. Identical YAML returns the current revision unchanged: clients
    retry after time-outs, and a retry must not create revision n+1."""
    flow = _flow_for_update(tenant=tenant, namespace=namespace, flow_id=flow_id)
    _refuse_read_only(flow, "edited")
    parsed = parse_flow(source)
    mismatches = []
    if parsed.flow_id != flow_id:
        mismatches.append(
            Violation(
                path="id",
                message=f"Illegal flow id update: '{flow_id}' → '{parsed.flow_id}'",
                line=_line(parsed, "id"),
            )
        )
    if parsed.namespace != namespace:
        mismatches.append(
            Violation(
                path="namespace",
                message=f"Illegal namespace update: '{namespace}' → '{parsed.namespace}'",
                line=_line(parsed, "namespace"),
            )
        )
    if mismatches:
        raise Unprocessable(
            "the flow id and namespace in the URL and in the YAML differ", violations=mismatches
        )
    if flow.source == source:
        return flow
    return _revision_append(tenant=tenant, flow=flow, parsed=parsed, user=user)


@transaction.atomic
def flow_delete(*, tenant: Tenant, user: User | None, namespace: str, flow_id: str) -> Flow:
    """Soft delete: the flow disappears from reads and a `deleted` revision is recorded."""
    flow = _flow_for_update(tenant=tenant, namespace=namespace, flow_id=flow_id)
    _refuse_read_only(flow, "deleted")
    flow.deleted = True
    flow.revision += 1
    flow.save(update_fields=["deleted", "revision", "updated_at"])
    FlowRevision.objects.for_tenant(tenant).create(
        flow=flow, revision=flow.revision, source=flow.source, deleted=True, created_by=user
    )
    FlowLabel.objects.for_tenant(tenant).filter(flow=flow).delete()
    triggers_sync(tenant=tenant, flow=flow)
    return flow


@dataclass(frozen=True)
class ImportedFile:
    name: str
    source: str


@transaction.atomic
def flow_import(*, tenant: Tenant, user: User | None, files: list[ImportedFile]) -> list[Flow]:
    """Create or update every flow in `files`. One invalid file refuses the whole import,
    with every file's problems named; nothing is saved. Read-only flows are replaced too:
    importing is how they are deployed."""
    violations: list[Violation] = []
    parsed_files: list[tuple[ImportedFile, FlowValidation]] = []
    seen: dict[tuple[str, str], str] = {}
    for file in files:
        try:
            parsed = parse_flow(file.source)
        except FlowSpecError as error:
            violations.extend(_prefixed(file.name, error.violations))
            continue
        key = (parsed.namespace or "", parsed.flow_id or "")
        if key in seen:
            violations.append(
                Violation(
                    path=file.name,
                    message=f"flow {key[0]}.{key[1]} is also in {seen[key]}",
                )
            )
        seen[key] = file.name
        parsed_files.append((file, parsed))
    if violations:
        raise FlowSpecError(
            f"{len(violations)} problem(s) in the imported flows; nothing was imported",
            violations=violations,
        )
    saved = []
    flows = Flow.objects.for_tenant(tenant)
    for file, parsed in parsed_files:
        namespace = namespace_ensure(tenant=tenant, name=parsed.namespace or "")
        flow = flows.select_for_update().filter(namespace=namespace, flow_id=parsed.flow_id).first()
        if flow is None:
            flow = flows.create(namespace=namespace, flow_id=parsed.flow_id, revision=0)
        elif flow.source == file.source and not flow.deleted:
            saved.append(flow)
            continue
        saved.append(_revision_append(tenant=tenant, flow=flow, parsed=parsed, user=user))
    return saved


def _flow_for_update(*, tenant: Tenant, namespace: str, flow_id: str) -> Flow:
    flow = (
        Flow.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("namespace")
        .filter(namespace__name=namespace, flow_id=flow_id, deleted=False)
        .first()
    )
    if flow is None:
        raise NotFound(f"Flow {namespace}.{flow_id} not found")
    return flow


def _refuse_read_only(flow: Flow, done: str) -> None:
    """A read-only flow (`system.readOnly: "true"`) is deployed from outside: the editor and
    the flow API refuse to change it; an import (what CI/CD tools upload) still replaces it,
    so that it is never stuck."""
    if flow.read_only:
        raise Conflict(
            f"Flow {flow.namespace.name}.{flow.flow_id} is read-only (label system.readOnly: "
            f'"true"): it cannot be {done} from the editor or the API. Deploy a new version '
            "through the flow import (POST /flows/import), which replaces read-only flows."
        )


def _revision_append(
    *, tenant: Tenant, flow: Flow, parsed: FlowValidation, user: User | None
) -> Flow:
    data = parsed.data or {}
    flow.revision += 1
    flow.source = parsed.source
    flow.spec = data
    flow.description = str(data.get("description") or "")
    flow.disabled = bool(data.get("disabled", False))
    flow.deleted = False
    flow.save()
    FlowRevision.objects.for_tenant(tenant).create(
        flow=flow, revision=flow.revision, source=parsed.source, created_by=user
    )
    labels = FlowLabel.objects.for_tenant(tenant)
    labels.filter(flow=flow).delete()
    labels.bulk_create(
        [
            FlowLabel(tenant=tenant, flow=flow, key=label["key"][:255], value=label["value"][:1000])
            for label in flow_labels(data)
        ]
    )
    triggers_sync(tenant=tenant, flow=flow)
    return flow


def _line(parsed: FlowValidation, path: str) -> int | None:
    return parsed.line_of(path) if hasattr(parsed, "line_of") else None


def _prefixed(name: str, violations: list[Violation]) -> list[Violation]:
    return [
        Violation(
            path=f"{name}:{v.path}" if v.path else name,
            message=v.message,
            line=v.line,
            column=v.column,
        )
        for v in violations
    ]
