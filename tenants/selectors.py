"""Reads of tenants and namespaces, with the membership check that hides other tenants."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from accounts.models import Membership, User
from config.ttl_cache import TtlCache
from tenants.errors import NotFound
from tenants.models import Namespace, Tenant


def user_is_member(*, tenant: Tenant, user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.for_tenant(tenant).filter(user=user).exists()


def _auth_cache_seconds() -> float:
    return float(settings.AVIARY["AUTH_CACHE_SECONDS"])


# (user id, superuser?, slug) -> the tenant the user may enter, for a few seconds
member_tenants: TtlCache[Tenant] = TtlCache(_auth_cache_seconds)


def tenant_get_for_member(*, slug: str, user: User | AnonymousUser) -> Tenant:
    """The tenant if `user` belongs to it, in one query (every API request pays it, so a
    process reuses the answer for a few seconds: `AVIARY_AUTH_CACHE_SECONDS`). Missing and
    not-a-member raise the same NotFound, so probing slugs reveals nothing."""
    if not user.is_authenticated:
        raise NotFound(f"Tenant '{slug}' not found")
    key = (user.pk, user.is_superuser, slug)
    tenant = member_tenants.get(key)
    if tenant is not None:
        return tenant
    if user.is_superuser:
        tenant = Tenant.objects.filter(slug=slug).first()
    else:
        # The user's memberships across tenants, narrowed to this slug: hence all_tenants.
        membership = (
            Membership.all_tenants.filter(user=user, tenant__slug=slug)
            .select_related("tenant")
            .first()
        )
        tenant = membership.tenant if membership is not None else None
    if tenant is None:
        raise NotFound(f"Tenant '{slug}' not found")
    member_tenants.put(key, tenant)
    return tenant


def tenant_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Tenant]:
    if not user.is_authenticated:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(pk__in=Membership.all_tenants.filter(user=user).values("tenant"))


def namespace_list(*, tenant: Tenant, query: str = "") -> QuerySet[Namespace]:
    namespaces = Namespace.objects.for_tenant(tenant)
    if query:
        namespaces = namespaces.filter(name__icontains=query)
    return namespaces.order_by("name")


def namespace_get(*, tenant: Tenant, name: str) -> Namespace:
    namespace = Namespace.objects.for_tenant(tenant).filter(name=name).first()
    if namespace is None:
        raise NotFound(f"Namespace '{name}' not found")
    return namespace


def namespace_list_with_counts(*, tenant: Tenant, query: str = "") -> QuerySet[Namespace]:
    """Namespaces with the number of their (non-deleted) flows, for the namespaces page."""
    return namespace_list(tenant=tenant, query=query).annotate(
        flow_count=Count("flows", filter=Q(flows__deleted=False))
    )


def namespace_children(*, tenant: Tenant, name: str) -> QuerySet[Namespace]:
    """Direct and indirect children of `name` (`a.b` → `a.b.c`, `a.b.c.d`)."""
    return namespace_list(tenant=tenant).filter(name__startswith=name + ".")


def tenant_find(*, slug: str) -> Tenant | None:
    """A tenant by slug, with no membership check: for commands and the superadmin only."""
    return Tenant.objects.filter(slug=slug).first()


def tenant_by_id(*, tenant_id: int) -> Tenant | None:
    """For Celery tasks, whose messages carry ids; no membership check (no user there)."""
    return Tenant.objects.filter(pk=tenant_id).first()
