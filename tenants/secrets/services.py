"""Writes and the one clear-text read of secrets (database backend)."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import QuerySet

from tenants.errors import NotFound, Unprocessable, Violation
from tenants.models import Secret, Tenant, namespace_ancestors
from tenants.secrets.crypto import decrypt, encrypt
from tenants.selectors import namespace_get
from tenants.services import namespace_ensure, namespace_validate_name

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
MAX_VALUE_BYTES = 64 * 1024


def _check(key: str, value: str | None) -> None:
    problems = []
    if not KEY_PATTERN.fullmatch(key or ""):
        problems.append(
            Violation(
                "key",
                "must start with a letter or digit and contain only letters, "
                "digits, '_', '.' and '-' (at most 255 characters)",
            )
        )
    if value is not None and (not value or len(value.encode()) > MAX_VALUE_BYTES):
        problems.append(Violation("value", f"must be 1 byte to {MAX_VALUE_BYTES} bytes"))
    if problems:
        raise Unprocessable("invalid secret", violations=problems)


@transaction.atomic
def secret_set(
    *, tenant: Tenant, namespace: str, key: str, value: str, description: str = ""
) -> Secret:
    """Create or replace the secret `key` of `namespace` (created if missing)."""
    _check(key, value)
    ns = namespace_ensure(tenant=tenant, name=namespace)
    secrets = Secret.objects.for_tenant(tenant)
    secret = secrets.select_for_update().filter(namespace=ns, key=key).first()
    if secret is None:
        return secrets.create(
            namespace=ns, key=key, ciphertext=encrypt(value), description=description[:500]
        )
    secret.ciphertext = encrypt(value)
    secret.description = description[:500]
    secret.save(update_fields=["ciphertext", "description", "updated_at"])
    return secret


def secret_delete(*, tenant: Tenant, namespace: str, key: str) -> bool:
    deleted, _ = secret_list(tenant=tenant, namespace=namespace).filter(key=key).delete()
    return bool(deleted)


def secret_list(*, tenant: Tenant, namespace: str) -> QuerySet[Secret]:
    """Keys and descriptions of one namespace (ciphertexts are deferred: never shown)."""
    ns = namespace_get(tenant=tenant, name=namespace)
    return Secret.objects.for_tenant(tenant).filter(namespace=ns).defer("ciphertext")


def secret_resolve(*, tenant: Tenant, namespace: str, key: str) -> str:
    """The clear value of `key` for a flow of `namespace`: the nearest namespace that defines
    it wins, climbing to the parents (`a.b.c`, then `a.b`, then `a`), as Kestra EE does."""
    namespace_validate_name(namespace)
    candidates = (
        Secret.objects.for_tenant(tenant)
        .filter(key=key, namespace__name__in=namespace_ancestors(namespace))
        .select_related("namespace")
    )
    nearest = max(candidates, key=lambda s: len(s.namespace.name), default=None)
    if nearest is None:
        raise NotFound(
            f"Cannot find secret for key '{key}' in namespace '{namespace}' or its parents"
        )
    return decrypt(nearest.ciphertext)
