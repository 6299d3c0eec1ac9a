"""Tenant pages: dashboard, namespaces, administration, tenant switcher."""

from __future__ import annotations

import pytest

from flows.services import flow_create
from tenants.models import Namespace, Tenant
from tests.conftest import flow_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def test_it_sends_home_to_the_users_tenant(acme, alice_web):
    response = alice_web.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/ui/acme/"


def test_it_shows_counts_on_the_dashboard(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    page = alice_web.get("/ui/acme/").content.decode()
    assert "Recently changed flows" in page
    assert "hello" in page


def test_it_offers_a_tenant_switcher_with_only_my_tenants(acme, globex, alice, alice_web):
    from accounts.services import membership_add
    from tenants.services import tenant_create

    other = tenant_create(slug="initech", name="Initech")
    membership_add(tenant=other, user=alice)
    page = alice_web.get("/ui/acme/").content.decode()
    assert "data-tenant-switch" in page
    assert "/ui/initech/" in page
    assert "/ui/globex/" not in page


def test_it_creates_and_edits_a_namespace(acme, alice_web):
    response = alice_web.post(
        "/ui/acme/namespaces/new",
        {"name": "company.data", "description": "Data team", "variables": "region: eu\n"},
    )
    assert response.status_code == 302
    namespace = Namespace.objects.for_tenant(acme).get(name="company.data")
    assert namespace.variables == {"region": "eu"}
    assert Namespace.objects.for_tenant(acme).filter(name="company").exists()
    response = alice_web.post(
        "/ui/acme/namespaces/company.data", {"description": "new", "variables": "a: [1, 2"}
    )
    assert response.status_code == 422
    assert "Invalid YAML" in response.content.decode()
    page = alice_web.get("/ui/acme/namespaces/").content.decode()
    assert "company.data" in page


def test_it_refuses_a_bad_namespace_name(acme, alice_web):
    response = alice_web.post("/ui/acme/namespaces/new", {"name": "Bad Name"})
    assert response.status_code == 422
    assert not Namespace.objects.for_tenant(acme).exists()


def test_it_adds_a_member_and_lets_superadmins_create_tenants(acme, alice, bob, alice_web, client):
    from accounts.services import user_create

    carol = user_create(email="carol@acme.test", password="x" * 12)
    response = alice_web.post("/ui/acme/admin/", {"add_member": "1", "email": "carol@acme.test"})
    assert response.status_code == 302
    client.force_login(carol)
    assert client.get("/ui/acme/").status_code == 200
    response = alice_web.post("/ui/acme/admin/", {"create_tenant": "1", "slug": "x", "name": "X"})
    assert not Tenant.objects.filter(slug="x").exists()  # alice is no superadmin
    root = user_create(email="root@aviary.test", password="x" * 12, is_superuser=True)
    client.force_login(root)
    response = client.post(
        "/ui/acme/admin/", {"create_tenant": "1", "slug": "newco", "name": "NewCo"}
    )
    assert response.status_code == 302
    assert Tenant.objects.filter(slug="newco").exists()
