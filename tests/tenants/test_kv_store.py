"""The KV store: Kestra's API (typed values, TTL, bulk delete), the page, and the rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tenants import kv_services
from tenants.errors import Conflict, NotFound, Unprocessable
from tenants.models import KVEntry

pytestmark = pytest.mark.django_db

KV = "/api/v1/acme/namespaces/company.team/kv"


def _put(client, key: str, body: str, **headers):
    return client.put(f"{KV}/{key}", data=body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("body", "kv_type", "value"),
    [
        ('"hello"', "STRING", "hello"),
        ("42", "NUMBER", 42),
        ("3.5", "NUMBER", 3.5),
        ("true", "BOOLEAN", True),
        ('{"a": [1, 2]}', "JSON", {"a": [1, 2]}),
        ("[1, 2]", "JSON", [1, 2]),
        ("2024-05-01T10:00:00Z", "DATETIME", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01", "DATE", "2024-05-01"),
        ("PT1H30M", "DURATION", "PT1H30M"),
    ],
)
def test_it_keeps_the_type_of_each_value(acme, alice_api, body, kv_type, value):
    assert _put(alice_api, "k", body).status_code == 204
    got = alice_api.get(f"{KV}/k")
    assert got.status_code == 200
    assert got.json() == {"type": kv_type, "value": value}


def test_it_lists_updates_and_deletes_keys(acme, alice_api):
    _put(alice_api, "a", '"1"')
    _put(alice_api, "b", '"2"')
    _put(alice_api, "a", '"again"')
    listed = alice_api.get(KV).json()
    assert [e["key"] for e in listed] == ["a", "b"]
    assert set(listed[0]) == {"key", "creationDate", "updateDate", "expirationDate"}
    assert alice_api.get(f"{KV}/a").json()["value"] == "again"
    assert alice_api.delete(f"{KV}/a").json() is True
    assert alice_api.delete(f"{KV}/a").json() is False
    response = alice_api.delete(KV, data={"keys": ["b", "zzz"]}, format="json")
    assert response.json() == {"keys": ["b"]}
    assert alice_api.get(KV).json() == []


def test_it_expires_keys_after_their_ttl(acme, alice_api):
    assert _put(alice_api, "short", '"x"', HTTP_TTL="PT1H").status_code == 204
    entry = KVEntry.objects.for_tenant(acme).get(key="short")
    assert entry.expires_at > timezone.now() + timedelta(minutes=59)
    KVEntry.objects.for_tenant(acme).filter(pk=entry.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert alice_api.get(KV).json() == []
    response = alice_api.get(f"{KV}/short")
    assert response.status_code == 404
    assert response.json()["message"] == "The requested value has expired"
    assert not KVEntry.objects.for_tenant(acme).filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("key", "body", "headers", "field"),
    [
        ("-bad", '"x"', {}, "key"),
        ("ok", "not json", {}, "value"),
        ("ok", '"x"', {"HTTP_TTL": "soon"}, "ttl"),
    ],
)
def test_it_refuses_bad_keys_values_and_ttls_with_422(acme, alice_api, key, body, headers, field):
    response = _put(alice_api, key, body, **headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == field
    assert not KVEntry.objects.for_tenant(acme).exists()


def test_it_says_when_the_namespace_does_not_exist(acme, alice_api):
    response = alice_api.get("/api/v1/acme/namespaces/nowhere/kv")
    assert response.status_code == 404
    assert "The namespace 'nowhere' does not exist" in response.json()["message"]


def test_it_refuses_to_overwrite_when_asked_not_to(acme):
    kv_services.kv_set(tenant=acme, namespace="company", key="k", value=1)
    with pytest.raises(Conflict):
        kv_services.kv_set(tenant=acme, namespace="company", key="k", value=2, overwrite=False)
    with pytest.raises(Unprocessable):
        kv_services.kv_set(tenant=acme, namespace="company", key="k", value="x", kv_type="NUMBER")
    typed = kv_services.kv_get(tenant=acme, namespace="company", key="k")
    assert (typed.kv_type, typed.value) == ("NUMBER", 1)


def test_it_reads_typed_values_back(acme):
    kv_services.kv_set(
        tenant=acme, namespace="company", key="d", value="2024-01-02", kv_type="DATE"
    )
    assert kv_services.kv_get(tenant=acme, namespace="company", key="d").value == date(2024, 1, 2)


def test_it_keeps_tenants_apart(acme, globex, mallory_api):
    kv_services.kv_set(tenant=acme, namespace="company.team", key="secret-ish", value="acme")
    assert mallory_api.get(f"{KV}/secret-ish").status_code == 404
    response = mallory_api.get("/api/v1/globex/namespaces/company.team/kv/secret-ish")
    assert response.status_code == 404
    with pytest.raises(NotFound):
        kv_services.kv_get(tenant=globex, namespace="company.team", key="secret-ish")


def test_it_manages_keys_on_the_page(acme, alice, client):
    client.force_login(alice)
    page = client.get("/ui/acme/kv/").content.decode()
    assert "No key" in page
    response = client.post(
        "/ui/acme/kv/",
        {
            "namespace": "company.team",
            "key": "limit",
            "kv_type": "NUMBER",
            "value": "12",
            "ttl": "",
        },
    )
    assert response.status_code == 302
    page = client.get("/ui/acme/kv/?namespace=company.team").content.decode()
    assert "limit" in page
    assert "NUMBER" in page
    bad = client.post(
        "/ui/acme/kv/",
        {"namespace": "company.team", "key": "n", "kv_type": "NUMBER", "value": "twelve"},
    )
    assert bad.status_code == 422
    assert "not a valid NUMBER" in bad.content.decode()
    client.post("/ui/acme/kv/company.team/limit/delete")
    assert not KVEntry.objects.for_tenant(acme).exists()
