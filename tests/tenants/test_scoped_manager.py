"""The default manager of every tenant-owned model refuses an unscoped query."""

from __future__ import annotations

import pytest
from django.apps import apps

from tenants.errors import TenantScopeError
from tenants.models import TenantOwned

OWNED = [m for m in apps.get_models() if issubclass(m, TenantOwned)]


def test_it_finds_the_tenant_owned_models():
    names = {m.__name__ for m in OWNED}
    assert {"Namespace", "Flow", "FlowRevision", "FlowLabel", "Membership"} <= names


@pytest.mark.parametrize("model", OWNED, ids=[m.__name__ for m in OWNED])
@pytest.mark.parametrize("query", ["all", "filter", "count", "first"])
def test_it_refuses_unscoped_queries(model, query):
    with pytest.raises(TenantScopeError, match="for_tenant"):
        getattr(model.objects, query)()


@pytest.mark.django_db
def test_it_scopes_reads_and_creates_to_the_tenant(acme, globex):
    from tenants.models import Namespace

    Namespace.objects.for_tenant(acme).create(name="shared")
    Namespace.objects.for_tenant(globex).create(name="shared")
    Namespace.objects.for_tenant(globex).create(name="globex.only")
    assert list(Namespace.objects.for_tenant(acme).values_list("name", flat=True)) == ["shared"]
    created = Namespace.objects.for_tenant(acme).create(name="made")
    assert created.tenant == acme


@pytest.mark.django_db
def test_it_refuses_a_create_naming_another_tenant(acme, globex):
    from tenants.models import Namespace

    with pytest.raises(TenantScopeError):
        Namespace.objects.for_tenant(acme).create(name="x", tenant=globex)
