"""The per-process cache of authentication lookups: entries expire, writers in this process
discard theirs at once, a revoked token stops working at once where it was revoked."""

from __future__ import annotations

import time

import pytest

from accounts.selectors import active_tokens, api_token_find_active
from accounts.services import api_token_create, api_token_revoke
from config.ttl_cache import TtlCache
from tenants.errors import NotFound
from tenants.selectors import member_tenants, tenant_get_for_member


def test_entries_expire_and_a_zero_lifetime_caches_nothing():
    seconds = [0.05]
    cache: TtlCache[str] = TtlCache(lambda: seconds[0])
    cache.put("k", "v")
    assert cache.get("k") == "v"
    time.sleep(0.06)
    assert cache.get("k") is None
    seconds[0] = 0
    cache.put("k", "v")
    assert cache.get("k") is None


def test_the_oldest_entry_makes_room():
    cache: TtlCache[int] = TtlCache(lambda: 60, max_entries=2)
    for n in range(3):
        cache.put(n, n)
    assert [cache.get(n) for n in range(3)] == [None, 1, 2]


@pytest.mark.django_db
def test_a_revoked_token_stops_at_once_in_the_revoking_process(alice, django_assert_num_queries):
    issued = api_token_create(user=alice, name="ci", expires_in_days=1)
    assert api_token_find_active(raw=issued.raw).pk == issued.token.pk
    with django_assert_num_queries(0):  # cached
        assert api_token_find_active(raw=issued.raw).pk == issued.token.pk
    api_token_revoke(user=alice, token_id=issued.token.pk)
    assert api_token_find_active(raw=issued.raw) is None


@pytest.mark.django_db
def test_a_token_cached_elsewhere_expires_with_its_entry(alice, settings):
    settings.AVIARY = {**settings.AVIARY, "AUTH_CACHE_SECONDS": 0.05}
    issued = api_token_create(user=alice, name="ci", expires_in_days=1)
    assert api_token_find_active(raw=issued.raw) is not None
    # revoked by another process: this one's entry still holds the row for a moment
    type(issued.token).objects.filter(pk=issued.token.pk).update(revoked_at="2026-01-01T00:00Z")
    time.sleep(0.06)
    assert api_token_find_active(raw=issued.raw) is None
    assert len(active_tokens._entries) <= 1


@pytest.mark.django_db
def test_membership_answers_are_cached_only_when_positive(acme, alice, mallory):
    assert tenant_get_for_member(slug="acme", user=alice) == acme
    assert (alice.pk, False, "acme") in member_tenants._entries
    with pytest.raises(NotFound):
        tenant_get_for_member(slug="acme", user=mallory)
    assert (mallory.pk, False, "acme") not in member_tenants._entries
