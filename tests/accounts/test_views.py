"""Account pages: email login, logout, password change, the API tokens page."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_logs_in_with_email_and_out_with_post(acme, alice, client):
    page = client.get("/login")
    assert "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/login", {"username": "alice@acme.test", "password": "wrong"})
    assert response.status_code == 200
    assert "correct" in response.content.decode()
    response = client.post("/login", {"username": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/ui/acme/").status_code == 200
    client.post("/logout")
    assert client.get("/ui/acme/").status_code == 302


def test_it_changes_the_password(acme, alice, client):
    client.force_login(alice)
    response = client.post(
        "/account/password",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-much-better-pass-42")


def test_it_shows_a_new_token_once_and_it_works(acme, alice, client):
    client.force_login(alice)
    page = client.post(
        "/account/tokens", {"name": "laptop", "expires_in_days": 30}
    ).content.decode()
    raw = re.search(r"(avy_[A-Za-z0-9_-]{40,})", page).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/acme/flows/search").status_code == 200
    again = client.get("/account/tokens").content.decode()
    assert raw not in again
    assert "laptop" in again


def test_it_revokes_a_token(acme, alice, bob, client):
    client.force_login(alice)
    client.post("/account/tokens", {"name": "laptop", "expires_in_days": 30})
    token = ApiToken.objects.get(user=alice, name="laptop")
    client.force_login(bob)
    client.post(f"/account/tokens/{token.pk}/revoke")  # not bob's: nothing happens
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(alice)
    client.post(f"/account/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_refuses_an_invalid_token_form(acme, alice, client):
    client.force_login(alice)
    response = client.post("/account/tokens", {"name": "", "expires_in_days": 0})
    assert response.status_code == 422
    assert not ApiToken.objects.filter(user=alice).exists()
