"""The executions list's saved searches, through the pages: save the filters shown under a
name (errors at the name, 422; a taken name offers "Replace it", 409), re-apply one from its
link, delete one; another member or another tenant never sees or deletes them."""

from __future__ import annotations

import re

import pytest

from accounts.models import SavedSearch
from accounts.services import saved_search_save

pytestmark = pytest.mark.django_db

LIST = "/ui/acme/executions/"
SAVE = "/ui/acme/executions/saved-searches"


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def saved(tenant, user=None) -> list[tuple[str, str]]:
    rows = SavedSearch.objects.for_tenant(tenant)
    if user is not None:
        rows = rows.filter(user=user)
    return list(rows.order_by("name").values_list("name", "query"))


def test_the_list_offers_to_save_the_filters_shown(acme, alice_web):
    page = alice_web.get(LIST + "?state=FAILED&range=all&q=&page=2").content.decode()

    assert 'name="query" value="state=FAILED"' in page
    assert "Save search" in page
    unfiltered = alice_web.get(LIST).content.decode()
    assert "Save search" not in unfiltered
    assert "save the filters under a name" in unfiltered


def test_it_saves_a_search_and_goes_to_its_filters(acme, alice, alice_web):
    response = alice_web.post(
        SAVE, {"name": "Failed ETL", "query": "q=etl&state=FAILED&state=KILLED&page=4"}
    )

    assert response.status_code == 302
    assert response["Location"] == LIST + "?q=etl&state=FAILED&state=KILLED"
    assert saved(acme, alice) == [("Failed ETL", "q=etl&state=FAILED&state=KILLED")]
    page = alice_web.get(response["Location"]).content.decode()
    assert "Search “Failed ETL” saved." in page
    assert '<a href="?q=etl&amp;state=FAILED&amp;state=KILLED"' in page
    assert 'aria-current="true">Failed ETL</a>' in page


@pytest.mark.parametrize(
    ("_case", "name", "message"),
    [
        ("empty", "  ", "Give the search a name."),
        ("too long", "x" * 101, "A name has at most 100 characters (this one has 101)."),
    ],
)
def test_it_shows_a_bad_name_at_the_name_input(acme, alice_web, _case, name, message):
    response = alice_web.post(SAVE, {"name": name, "query": "state=FAILED"})

    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(r'id="saved-search-error" role="alert">' + re.escape(message), page)
    assert 'aria-invalid="true"' in page
    assert 'name="query" value="state=FAILED"' in page  # the filters are kept
    assert saved(acme) == []


def test_it_refuses_to_save_no_filter(acme, alice_web):
    response = alice_web.post(SAVE, {"name": "Everything", "query": "range=all&page=2"})

    assert response.status_code == 422
    assert "Set at least one filter to save." in response.content.decode()
    assert saved(acme) == []


def test_it_refuses_to_save_broken_filters(acme, alice_web):
    response = alice_web.post(SAVE, {"name": "Broken", "query": "day=someday"})

    assert response.status_code == 422
    assert "Fix the filters before saving them." in response.content.decode()
    assert saved(acme) == []


def test_a_taken_name_asks_before_replacing(acme, alice, alice_web):
    saved_search_save(tenant=acme, user=alice, page="executions", name="Mine", query="q=old")

    response = alice_web.post(SAVE, {"name": "Mine", "query": "q=new"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "You already have a saved search named &#x27;Mine&#x27;." in page
    assert 'name="replace" value="on"' in page
    assert saved(acme) == [("Mine", "q=old")]

    response = alice_web.post(SAVE, {"name": "Mine", "query": "q=new", "replace": "on"})
    assert response.status_code == 302
    assert saved(acme) == [("Mine", "q=new")]
    assert "Search “Mine” replaced." in alice_web.get(response["Location"]).content.decode()


def test_it_deletes_a_search_and_keeps_the_list_as_it_was(acme, alice, alice_web):
    search, _ = saved_search_save(
        tenant=acme, user=alice, page="executions", name="Old", query="q=old"
    )

    response = alice_web.post(
        f"{SAVE}/{search.pk}/delete", {"shown": "state=SUCCESS&page=3"}
    )

    assert response.status_code == 302
    assert response["Location"] == LIST + "?state=SUCCESS"
    assert saved(acme) == []
    assert "Saved search “Old” deleted." in alice_web.get(response["Location"]).content.decode()


def test_another_member_neither_sees_nor_deletes_my_searches(acme, alice, bob, client):
    search, _ = saved_search_save(
        tenant=acme, user=alice, page="executions", name="Alice only", query="q=secret"
    )
    client.force_login(bob)

    page = client.get(LIST + "?q=secret").content.decode()
    assert "Alice only" not in page
    response = client.post(f"{SAVE}/{search.pk}/delete")
    assert response.status_code == 404
    assert saved(acme) == [("Alice only", "q=secret")]


def test_another_tenant_cannot_reach_them(acme, globex, alice, mallory, client):
    search, _ = saved_search_save(
        tenant=acme, user=alice, page="executions", name="Acme", query="q=a"
    )
    client.force_login(mallory)

    assert client.post(SAVE, {"name": "Sneaky", "query": "q=a"}).status_code == 404
    assert client.post(f"{SAVE}/{search.pk}/delete").status_code == 404
    response = client.post(f"/ui/globex/executions/saved-searches/{search.pk}/delete")
    assert response.status_code == 404
    assert saved(acme) == [("Acme", "q=a")]
    assert saved(globex) == []


def test_saving_needs_a_post(acme, alice_web):
    assert alice_web.get(SAVE).status_code == 405
