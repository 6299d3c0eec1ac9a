"""The engine's ports (executions/engine/ports.py) over Django: the KV store and secrets.
Each is bound to one tenant, so task logic cannot leave it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tenants import kv_services
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.secrets.services import secret_resolve


@dataclass
class TenantKV:
    tenant: Tenant
    namespace: str

    def get(self, key: str, namespace: str | None = None) -> Any:
        try:
            return kv_services.kv_get(
                tenant=self.tenant, namespace=namespace or self.namespace, key=key
            ).value
        except NotFound:
            return None

    def set(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> None:
        kv_services.kv_set(
            tenant=self.tenant,
            namespace=namespace or self.namespace,
            key=key,
            value=value,
            ttl=ttl,
            overwrite=overwrite,
        )

    def delete(self, key: str, namespace: str | None = None) -> bool:
        try:
            return bool(
                kv_services.kv_delete(
                    tenant=self.tenant, namespace=namespace or self.namespace, keys=[key]
                )
            )
        except NotFound:
            return False

    def keys(self, prefix: str = "", namespace: str | None = None) -> list[str]:
        try:
            entries = kv_services.kv_list(tenant=self.tenant, namespace=namespace or self.namespace)
        except NotFound:
            return []
        return [e.key for e in entries if e.key.startswith(prefix)]


def secret_lookup(tenant: Tenant):  # type: ignore[no-untyped-def]
    def lookup(namespace: str, key: str) -> str | None:
        return secret_resolve(tenant=tenant, namespace=namespace, key=key)

    return lookup
