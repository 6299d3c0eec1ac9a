"""API authentication: Bearer tokens (hashed, expiring, revocable) and HTTP Basic."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke, token_hash
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/acme/flows/search"


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_it_accepts_a_valid_token_and_records_its_use(alice):
    issued = api_token_create(user=alice, name="ci", expires_in_days=30)
    assert _bearer(issued.raw).get(URL).status_code == 200
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_it_stores_only_the_hash(alice):
    issued = api_token_create(user=alice, name="ci", expires_in_days=None)
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert stored.token_hash == token_hash(issued.raw)
    assert issued.raw not in {stored.token_hash, stored.prefix, stored.name}
    assert issued.raw.startswith(stored.prefix)


@pytest.mark.parametrize("header", ["Bearer avy_wrong", "Bearer", "Bearer a b"])
def test_it_refuses_a_wrong_token_with_401(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["message"]


def test_it_refuses_an_expired_token(alice):
    issued = api_token_create(user=alice, name="old", expires_in_days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _bearer(issued.raw).get(URL).status_code == 401


def test_it_refuses_a_revoked_token(alice):
    issued = api_token_create(user=alice, name="gone", expires_in_days=1)
    api_token_revoke(user=alice, token_id=issued.token.pk)
    assert _bearer(issued.raw).get(URL).status_code == 401


def test_it_refuses_anonymous_requests_with_401(acme):
    assert APIClient().get(URL).status_code == 401


def test_it_accepts_http_basic_with_email(alice):
    raw = base64.b64encode(f"alice@acme.test:{PASSWORD}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {raw}")
    assert client.get(URL).status_code == 200
    bad = base64.b64encode(b"alice@acme.test:nope").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {bad}")
    assert client.get(URL).status_code == 401


def test_it_hides_a_tenant_from_a_non_member_with_404(alice, mallory, api_for):
    assert api_for(mallory).get(URL).status_code == 404


def test_it_refuses_a_second_active_token_with_the_same_name(alice):
    from tenants.errors import Conflict

    api_token_create(user=alice, name="ci", expires_in_days=1)
    with pytest.raises(Conflict):
        api_token_create(user=alice, name="ci", expires_in_days=1)
