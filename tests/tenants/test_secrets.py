"""Secrets: encrypted at rest, nearest namespace wins, values never leave through the API or
the page, and tenants stay apart."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.errors import NotFound, Unprocessable
from tenants.models import Secret
from tenants.secrets.services import secret_resolve, secret_set

pytestmark = pytest.mark.django_db

VALUE = "s3cr3t-value-9f8e7d"
API = "/api/v1/acme/namespaces/company.team/secrets"


def test_it_stores_only_ciphertext(acme):
    secret_set(tenant=acme, namespace="company.team", key="DB_PASSWORD", value=VALUE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM tenants_secret")
        (stored,) = cursor.fetchone()
    assert VALUE not in stored
    assert secret_resolve(tenant=acme, namespace="company.team", key="DB_PASSWORD") == VALUE


def test_it_resolves_the_nearest_namespace(acme):
    secret_set(tenant=acme, namespace="company", key="TOKEN", value="parent")
    secret_set(tenant=acme, namespace="company.team", key="TOKEN", value="child")
    assert secret_resolve(tenant=acme, namespace="company.team.data", key="TOKEN") == "child"
    assert secret_resolve(tenant=acme, namespace="company.other", key="TOKEN") == "parent"
    with pytest.raises(NotFound, match="Cannot find secret for key 'TOKEN'"):
        secret_resolve(tenant=acme, namespace="elsewhere", key="TOKEN")


def test_it_keeps_tenants_apart(acme, globex):
    secret_set(tenant=acme, namespace="company", key="TOKEN", value=VALUE)
    with pytest.raises(NotFound):
        secret_resolve(tenant=globex, namespace="company", key="TOKEN")


@pytest.mark.parametrize(("key", "value"), [("bad key", "x"), ("OK", ""), ("-x", "x")])
def test_it_refuses_bad_keys_and_values(acme, key, value):
    with pytest.raises(Unprocessable):
        secret_set(tenant=acme, namespace="company", key=key, value=value)
    assert not Secret.objects.for_tenant(acme).exists()


def test_it_sets_lists_and_deletes_through_the_api_without_returning_values(acme, alice_api):
    response = alice_api.put(
        f"{API}/API_KEY", {"value": VALUE, "description": "vendor"}, format="json"
    )
    assert response.status_code == 204
    listed = alice_api.get(API)
    assert listed.status_code == 200
    assert [s["key"] for s in listed.json()] == ["API_KEY"]
    assert VALUE.encode() not in listed.content
    assert alice_api.delete(f"{API}/API_KEY").json() is True
    assert alice_api.get(API).json() == []
    bad = alice_api.put(f"{API}/API_KEY", {"value": ""}, format="json")
    assert bad.status_code == 422


def test_it_manages_secrets_on_the_page_without_showing_values(acme, alice, client):
    client.force_login(alice)
    response = client.post(
        "/ui/acme/secrets/",
        {"namespace": "company.team", "key": "SMTP_PASSWORD", "value": VALUE, "description": ""},
    )
    assert response.status_code == 302
    page = client.get("/ui/acme/secrets/?namespace=company.team").content.decode()
    assert "SMTP_PASSWORD" in page
    assert VALUE not in page
    client.post("/ui/acme/secrets/company.team/SMTP_PASSWORD/delete")
    assert not Secret.objects.for_tenant(acme).exists()
