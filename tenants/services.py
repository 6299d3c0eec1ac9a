"""Writes of tenants and namespaces."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.errors import Conflict, Unprocessable, Violation
from tenants.models import NAMESPACE_RE, Namespace, Tenant, namespace_ancestors

TENANT_SLUG_MAX = 64


def tenant_create(*, slug: str, name: str) -> Tenant:
    tenant = Tenant(slug=slug, name=name or slug)
    _full_clean(tenant, exclude=["name"])
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"Tenant '{slug}' already exists", field="slug")
    tenant.save()
    return tenant


def namespace_validate_name(name: str, *, field: str = "namespace") -> None:
    if not name or len(name) > 150 or not NAMESPACE_RE.match(name) or ".." in name:
        raise Unprocessable(
            f"invalid namespace '{name}': lower-case letters, digits, '.', '-' and '_', "
            "starting with a letter or digit, at most 150 characters",
            violations=[Violation(path=field, message="must match ^[a-z0-9][a-z0-9._-]*$")],
        )


def namespace_ensure(*, tenant: Tenant, name: str) -> Namespace:
    """The namespace `name` and its ancestors, created if missing (a flow was saved in it)."""
    namespace_validate_name(name)
    namespaces = Namespace.objects.for_tenant(tenant)
    existing = {ns.name: ns for ns in namespaces.filter(name__in=namespace_ancestors(name))}
    for ancestor in namespace_ancestors(name):
        if ancestor not in existing:
            existing[ancestor], _ = namespaces.get_or_create(name=ancestor)
    return existing[name]


@transaction.atomic
def namespace_create(
    *, tenant: Tenant, name: str, description: str = "", variables: dict[str, Any] | None = None
) -> Namespace:
    namespace_validate_name(name, field="id")
    _validate_variables(variables)
    namespaces = Namespace.objects.for_tenant(tenant)
    if namespaces.filter(name=name).exists():
        raise Conflict(f"Namespace '{name}' already exists", field="id")
    namespace_ensure(tenant=tenant, name=name)
    namespaces.filter(name=name).update(description=description, variables=variables or {})
    return namespaces.get(name=name)


def namespace_update(
    *, namespace: Namespace, description: str, variables: dict[str, Any] | None
) -> Namespace:
    _validate_variables(variables)
    namespace.description = description
    namespace.variables = variables or {}
    namespace.save(update_fields=["description", "variables", "updated_at"])
    return namespace


def _validate_variables(variables: object) -> None:
    if variables is not None and not isinstance(variables, dict):
        raise Unprocessable(
            "namespace variables must be a mapping of names to values",
            violations=[Violation(path="variables", message="expected a mapping")],
        )


def _full_clean(instance: Tenant, *, exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        violations = [
            Violation(path=field, message=" ".join(str(m) for m in messages))
            for field, messages in error.message_dict.items()
        ]
        raise Unprocessable("invalid tenant", violations=violations) from None
    except IntegrityError:  # pragma: no cover - unique is checked by the caller
        raise Conflict("tenant already exists") from None
