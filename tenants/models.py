"""Tenant, Namespace, and the base classes that make every tenant-owned query name its tenant."""

from __future__ import annotations

import re
from typing import Any, NoReturn, Self

from django.core.validators import RegexValidator
from django.db import models

from tenants.errors import TenantScopeError

TENANT_SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)


class Tenant(models.Model):
    """An isolated organisation. Its slug is the `{tenant}` of every URL."""

    slug = models.SlugField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(TENANT_SLUG_PATTERN, "lower-case letters, digits, - and _")],
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Has at least one Flow trigger (kept by triggers.services.triggers_sync): an execution's
    # state change then nudges the trigger evaluator at once, with no query to find out;
    # without one (or with a stale copy of the row), the scheduler's sweep evaluates it.
    has_flow_triggers = models.BooleanField(default=False)
    # Bumped in the transaction of every change of a Flow trigger (triggers.dispatch): the
    # evaluators keep each tenant's Flow-trigger index in memory while it is unchanged.
    flow_triggers_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class TenantQuerySet(models.QuerySet):
    """A queryset that remembers its tenant, so `create()` cannot put a row elsewhere."""

    _tenant: Tenant | None = None

    def _clone(self) -> Self:
        clone = super()._clone()
        clone._tenant = self._tenant
        return clone

    def create(self, **kwargs: Any) -> Any:
        if self._tenant is not None:
            given = kwargs.get("tenant")
            if given is not None and given.pk != self._tenant.pk:
                raise TenantScopeError("create() names another tenant than for_tenant()")
            kwargs["tenant"] = self._tenant
        return super().create(**kwargs)


class TenantScopedManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """`Model.objects`: fails closed. Every read starts with `.for_tenant(tenant)`."""

    def get_queryset(self) -> NoReturn:
        raise TenantScopeError(
            f"{self.model.__name__}.objects needs .for_tenant(tenant); "
            "all_tenants is for admin and sweepers only"
        )

    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        queryset = super().get_queryset().filter(tenant=tenant)
        queryset._tenant = tenant
        return queryset

    def for_tenant_id(self, tenant_id: int) -> TenantQuerySet:
        """For Celery tasks, whose messages carry ids only."""
        return self.for_tenant(Tenant.objects.get(pk=tenant_id))


class TenantOwned(models.Model):
    """Base of every tenant-owned table: a tenant column and the fail-closed manager."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedManager()
    # admin, migrations and sweepers only; review greps for it
    all_tenants = models.Manager()  # noqa: DJ012 - the second manager, not a field

    class Meta:
        abstract = True
        default_manager_name = "all_tenants"  # related managers and the admin keep working


class Namespace(TenantOwned):
    """A dot-separated namespace (`company.team.data`) of one tenant.

    Created when a flow is saved into it (with its ancestors, so the tree is complete) or by
    hand with a description and variables.
    """

    name = models.CharField(
        max_length=150,
        validators=[RegexValidator(NAMESPACE_PATTERN, "lower-case letters, digits, ., - and _")],
    )
    description = models.TextField(blank=True, default="")
    variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="namespace_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.name.count(".")

    @property
    def parent_name(self) -> str | None:
        return self.name.rpartition(".")[0] or None


def namespace_ancestors(name: str) -> list[str]:
    """`a.b.c` → `["a", "a.b", "a.b.c"]`."""
    parts = name.split(".")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


class KVEntry(TenantOwned):
    """A key of a namespace's KV store. `value` holds JSON (dates and durations as ISO text);
    `kv_type` says how to read it back. An entry past `expires_at` is gone for every reader."""

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="kv_entries")
    key = models.CharField(max_length=255)
    kv_type = models.CharField(max_length=10)
    value = models.JSONField(null=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "namespace", "key"], name="kv_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.namespace.name}/{self.key}"


class Secret(TenantOwned):
    """A secret of a namespace, readable by its flows and its children's. Only ciphertext is
    stored (see tenants/secrets/crypto.py)."""

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="secrets")
    key = models.CharField(max_length=255)
    ciphertext = models.TextField()
    description = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "namespace", "key"], name="secret_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.namespace.name}/{self.key}"
