"""The KV store of a namespace: writes and reads (a read may delete an expired key, as
Kestra's does, so both live here). The engine's kv tasks and `kv()` call these too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from tenants.errors import Conflict, NotFound, Unprocessable, Violation
from tenants.kv_values import KVValueError, check_key, coerce, from_json, kv_type_of, to_json
from tenants.models import KVEntry, Namespace, Tenant
from tenants.selectors import namespace_get
from tenants.services import namespace_ensure

EXPIRED = "The requested value has expired"


@dataclass(frozen=True)
class TypedValue:
    kv_type: str
    value: Any  # typed: datetime, date, timedelta for those types


def _entries(tenant: Tenant, namespace: Namespace) -> QuerySet[KVEntry]:
    return KVEntry.objects.for_tenant(tenant).filter(namespace=namespace)


def _live(queryset: QuerySet[KVEntry]) -> QuerySet[KVEntry]:
    return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


@transaction.atomic
def kv_set(
    *,
    tenant: Tenant,
    namespace: str,
    key: str,
    value: Any,
    kv_type: str | None = None,
    ttl: timedelta | None = None,
    overwrite: bool = True,
) -> KVEntry:
    """Store `value` under `key` (typed by `kv_type`, else by the value itself); `ttl` sets
    an expiry; `overwrite=False` refuses a key that exists and has not expired."""
    try:
        check_key(key)
        typed = coerce(value, kv_type) if kv_type else value
    except KVValueError as error:
        raise Unprocessable(
            str(error),
            violations=[Violation("key" if "Key" in str(error) else "value", str(error))],
        ) from None
    if ttl is not None and ttl < timedelta(0):
        raise Unprocessable("ttl must not be negative", violations=[Violation("ttl", "negative")])
    ns = namespace_ensure(tenant=tenant, name=namespace)
    entries = _entries(tenant, ns)
    existing = entries.select_for_update().filter(key=key).first()
    if existing is not None and existing.expires_at and existing.expires_at <= timezone.now():
        existing.delete()
        existing = None
    if existing is not None and not overwrite:
        raise Conflict(f"The key '{key}' already exists in namespace '{namespace}'", field="key")
    fields = {
        "kv_type": kv_type or kv_type_of(typed),
        "value": to_json(typed),
        "expires_at": timezone.now() + ttl if ttl is not None else None,
    }
    if existing is None:
        return entries.create(namespace=ns, key=key, **fields)
    for name, field_value in fields.items():
        setattr(existing, name, field_value)
    existing.save()
    return existing


def kv_get(*, tenant: Tenant, namespace: str, key: str) -> TypedValue:
    """The typed value; a missing key is NotFound, an expired one is deleted and NotFound with
    Kestra's message."""
    ns = _namespace(tenant, namespace)
    entry = _entries(tenant, ns).filter(key=key).first()
    if entry is None:
        raise NotFound(f"No value found for key '{key}' in namespace '{namespace}'")
    if entry.expires_at is not None and entry.expires_at <= timezone.now():
        entry.delete()
        raise NotFound(EXPIRED)
    return TypedValue(entry.kv_type, from_json(entry.value, entry.kv_type))


def kv_list(*, tenant: Tenant, namespace: str) -> QuerySet[KVEntry]:
    """Live keys only, as Kestra's listing hides expired ones."""
    return _live(_entries(tenant, _namespace(tenant, namespace))).order_by("key")


def kv_delete(*, tenant: Tenant, namespace: str, keys: list[str]) -> list[str]:
    """Delete `keys`; returns those that existed (and had not expired)."""
    entries = _live(_entries(tenant, _namespace(tenant, namespace))).filter(key__in=keys)
    found = list(entries.values_list("key", flat=True))
    entries.delete()
    return [key for key in keys if key in set(found)]


def _namespace(tenant: Tenant, name: str) -> Namespace:
    try:
        return namespace_get(tenant=tenant, name=name)
    except NotFound:
        raise NotFound(
            f"Cannot access the KV store. The namespace '{name}' does not exist."
        ) from None
