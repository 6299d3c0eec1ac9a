"""Reads of tenants and namespaces, with the membership check that hides other tenants."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import Membership, User
from tenants.errors import NotFound
from tenants.models import Namespace, Tenant


def user_is_member(*, tenant: Tenant, user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.for_tenant(tenant).filter(user=user).exists()


def tenant_get_for_member(*, slug: str, user: User | AnonymousUser) -> Tenant:
    """The tenant if `user` belongs to it. Missing and not-a-member raise the same NotFound,
    so probing slugs reveals nothing."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None or not user_is_member(tenant=tenant, user=user):
        raise NotFound(f"Tenant '{slug}' not found")
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
