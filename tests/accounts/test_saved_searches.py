"""Saved searches: saved under a name per user, page and tenant; a taken name asks before
replacing; nobody else, in this tenant or another, ever lists or deletes them."""

from __future__ import annotations

import pytest

from accounts.models import SavedSearch
from accounts.selectors import saved_search_list
from accounts.services import saved_search_delete, saved_search_query, saved_search_save
from tenants.errors import Conflict, NotFound, Unprocessable

pytestmark = pytest.mark.django_db

EXECUTIONS = "executions"


def save(tenant, user, name="Failed", query="state=FAILED", **kwargs):
    return saved_search_save(
        tenant=tenant, user=user, page=EXECUTIONS, name=name, query=query, **kwargs
    )


def names(tenant, user) -> list[str]:
    return [s.name for s in saved_search_list(tenant=tenant, user=user, page=EXECUTIONS)]


def test_it_saves_a_search_under_a_name(acme, alice):
    search, created = save(acme, alice, name="  Failed   in prod ", query="?state=FAILED&page=3")

    assert created is True
    assert search.name == "Failed in prod"
    assert search.query == "state=FAILED"  # no "?", no paging
    assert search.tenant == acme
    assert names(acme, alice) == ["Failed in prod"]


def test_it_lists_only_the_users_own_searches_in_that_tenant(acme, globex, alice, bob):
    from accounts.services import membership_add

    membership_add(tenant=globex, user=alice)
    save(acme, alice, name="Alice in acme")
    save(acme, bob, name="Bob in acme")
    save(globex, alice, name="Alice in globex")

    assert names(acme, alice) == ["Alice in acme"]
    assert names(acme, bob) == ["Bob in acme"]
    assert names(globex, alice) == ["Alice in globex"]


def test_two_users_may_use_the_same_name(acme, alice, bob):
    save(acme, alice, name="Mine", query="state=FAILED")
    save(acme, bob, name="Mine", query="state=SUCCESS")

    queries = SavedSearch.objects.for_tenant(acme).order_by("user__email")
    assert list(queries.values_list("query", flat=True)) == ["state=FAILED", "state=SUCCESS"]


def test_a_taken_name_is_a_conflict_unless_replacing(acme, alice):
    first, _ = save(acme, alice, name="Nightly", query="q=nightly")

    with pytest.raises(Conflict) as caught:
        save(acme, alice, name="Nightly", query="q=other")
    assert caught.value.field == "name"
    assert "already have a saved search named 'Nightly'" in caught.value.message
    first.refresh_from_db()
    assert first.query == "q=nightly"

    replaced, created = save(acme, alice, name="Nightly", query="q=other", replace=True)
    assert created is False
    assert replaced.pk == first.pk
    assert replaced.query == "q=other"
    assert SavedSearch.objects.for_tenant(acme).count() == 1


@pytest.mark.parametrize(
    ("_case", "name", "query", "path", "message"),
    [
        ("no name", "   ", "state=FAILED", "name", "a name is required"),
        ("name too long", "x" * 101, "state=FAILED", "name", "at most 100 characters, got 101"),
        ("no filter", "Empty", "page=2&q=", "query", "set at least one filter"),
        ("filters too long", "Long", "q=" + "x" * 2000, "query", "at most 2000 characters"),
    ],
)
def test_it_refuses_a_bad_search_naming_the_field(acme, alice, _case, name, query, path, message):
    with pytest.raises(Unprocessable) as caught:
        save(acme, alice, name=name, query=query)

    assert [v.path for v in caught.value.violations] == [path]
    assert message in caught.value.violations[0].message
    assert not SavedSearch.objects.for_tenant(acme).exists()


def test_a_name_of_exactly_100_characters_is_fine(acme, alice):
    search, _ = save(acme, alice, name="x" * 100)
    assert len(search.name) == 100


def test_it_refuses_an_unknown_page(acme, alice):
    with pytest.raises(Unprocessable) as caught:
        saved_search_save(tenant=acme, user=alice, page="flows", name="A", query="q=a")
    assert caught.value.violations[0].path == "page"


def test_it_deletes_only_the_users_own_search(acme, globex, alice, bob, mallory):
    search, _ = save(acme, alice)

    with pytest.raises(NotFound):
        saved_search_delete(tenant=acme, user=bob, search_id=search.pk)
    with pytest.raises(NotFound):
        saved_search_delete(tenant=globex, user=mallory, search_id=search.pk)
    with pytest.raises(NotFound):  # alice's id, asked through another tenant
        saved_search_delete(tenant=globex, user=alice, search_id=search.pk)
    assert names(acme, alice) == ["Failed"]

    deleted = saved_search_delete(tenant=acme, user=alice, search_id=search.pk)
    assert deleted.name == "Failed"
    assert names(acme, alice) == []


def test_the_saved_query_keeps_repeated_filters_in_order():
    assert saved_search_query("state=FAILED&state=KILLED&labels=&page=2&q=etl") == (
        "state=FAILED&state=KILLED&q=etl"
    )
    labels = "labels=team%3Adata%2C+env%3Aprod"
    assert saved_search_query(labels) == labels
