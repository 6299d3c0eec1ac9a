"""Trigger pages rendered by the server: the Triggers page (filters, next and last
evaluation, the preconditions' state, warnings), a flow's Triggers tab with the executions
each trigger started, and the row actions (enable or disable, unlock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.services import execution_create
from flows.services import flow_create
from tests.triggers.support import DOWNSTREAM, SCHEDULED
from triggers.models import PreconditionWindow, Trigger

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def triggers(acme, alice) -> dict[str, Trigger]:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return {row.trigger_id: row for row in Trigger.objects.for_tenant(acme)}


def test_it_lists_every_trigger_from_the_main_navigation(alice_web, triggers):
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert '<a href="/ui/acme/triggers/" class="active" aria-current="page">Triggers</a>' in page
    for label in ("Trigger daily of company.team.nightly", "Trigger after-loads of", "hook"):
        assert label in page
    next_date = triggers["daily"].next_date.strftime("%Y-%m-%d %H:%M:%S")
    assert next_date in page
    assert "<code>0 0 * * *</code>" in page
    assert 'href="/ui/acme/flows/company.team/nightly/triggers"' in page
    assert "on each upstream state change" in page
    assert page.count('role="switch" aria-checked="true"') == 3


@pytest.mark.parametrize(
    ("_case", "query", "shown", "hidden"),
    [
        ("text", "q=loads", ["after-loads"], ["daily"]),
        ("kind", "kind=schedule", ["daily"], ["after-loads", "of company.team.report"]),
        ("flow", "flow_id=report", ["after-loads", "hook"], ["daily"]),
        ("namespace", "namespace=other", [], ["daily", "after-loads"]),
    ],
)
def test_it_filters_the_triggers_page(alice_web, triggers, _case, query, shown, hidden):
    page = alice_web.get(f"/ui/acme/triggers/?{query}").content.decode()
    for text in shown:
        assert f"Trigger {text} of" in page
    for text in hidden:
        assert f"Trigger {text} of" not in page
    if not shown:
        assert "No trigger matches these filters." in page


def test_it_names_a_bad_filter(alice_web, triggers):
    response = alice_web.get("/ui/acme/triggers/?namespace=Bad Namespace!")
    assert response.status_code == 422
    assert "Expected a namespace such as company.team" in response.content.decode()


def test_it_says_what_to_do_when_there_is_no_trigger(alice_web, acme):
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "No trigger yet." in page


def test_it_shows_the_warning_and_the_preconditions_state(acme, alice_web, triggers):
    Trigger.objects.for_tenant(acme).filter(trigger_id="after-loads").update(
        warning="flow company.team.load-b does not exist"
    )
    now = timezone.now()
    start = now - timedelta(hours=1)
    PreconditionWindow.objects.for_tenant(acme).create(
        trigger=triggers["after-loads"],
        condition_id="loads",
        start=start,
        end=start + timedelta(days=1),
        results={
            "condition_2": {
                "executionId": "7upStream",
                "namespace": "company.team",
                "flowId": "load-b",
                "state": "SUCCESS",
                "at": now.isoformat(),
            }
        },
    )
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "flow company.team.load-b does not exist" in page
    assert "1 of 3 met" in page
    assert start.strftime("%Y-%m-%d %H:%M:%S") in page
    assert 'href="/ui/acme/executions/7upStream"' in page
    assert "company.team.load-a in SUCCESS" in page
    assert "NAMESPACE STARTS_WITH company" in page


def test_it_disables_and_enables_a_trigger_from_its_switch(acme, alice_web, triggers):
    url = "/ui/acme/triggers/company.team/nightly/daily/disabled"
    back = "/ui/acme/triggers/?kind=schedule"
    response = alice_web.post(url, {"disabled": "true", "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert Trigger.objects.for_tenant(acme).get(trigger_id="daily").disabled is True
    page = alice_web.get(back).content.decode()
    assert "Trigger daily of company.team.nightly disabled." in page
    assert 'role="switch" aria-checked="false"' in page
    assert "none while disabled" in page
    alice_web.post(url, {"disabled": "false"})
    assert Trigger.objects.for_tenant(acme).get(trigger_id="daily").disabled is False


def test_it_goes_back_only_to_this_tenants_pages(alice_web, triggers):
    url = "/ui/acme/triggers/company.team/nightly/daily/disabled"
    for evil in ("https://evil.test/ui/acme/", "//evil.test/", "/ui/globex/triggers/"):
        response = alice_web.post(url, {"disabled": "true", "next": evil})
        assert response["Location"] == "/ui/acme/triggers/"


def test_it_unlocks_a_locked_trigger(acme, alice_web, triggers):
    Trigger.objects.for_tenant(acme).filter(trigger_id="daily").update(execution_id="9lockRun")
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "locked by" in page
    assert "Unlock trigger daily? Its next tick runs even though execution 9lockRun" in page
    response = alice_web.post("/ui/acme/triggers/company.team/nightly/daily/unlock")
    assert response.status_code == 302
    assert Trigger.objects.for_tenant(acme).get(trigger_id="daily").execution_id == ""
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Trigger daily unlocked: its next tick will run." in page
    assert "locked by" not in page


def test_it_says_when_there_was_nothing_to_unlock(alice_web, triggers):
    alice_web.post("/ui/acme/triggers/company.team/nightly/daily/unlock")
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "is not locked: no execution it started is running." in page


def test_the_flow_page_has_a_triggers_tab_with_each_triggers_history(acme, alice_web, triggers):
    tick = "2026-11-01T00:00:00Z"
    started = execution_create(
        tenant=acme,
        namespace="company.team",
        flow_id="nightly",
        provided={},
        trigger={
            "id": "daily",
            "type": "io.kestra.plugin.core.trigger.Schedule",
            "variables": {"date": tick},
        },
    )
    manual = execution_create(tenant=acme, namespace="company.team", flow_id="nightly", provided={})
    editor = alice_web.get("/ui/acme/flows/company.team/nightly").content.decode()
    assert 'href="/ui/acme/flows/company.team/nightly/triggers"' in editor
    page = alice_web.get("/ui/acme/flows/company.team/nightly/triggers").content.decode()
    assert 'aria-current="page">Triggers</a>' in page
    assert "Executions started by daily" in page
    assert f'href="/ui/acme/executions/{started.id}"' in page
    assert f'href="/ui/acme/executions/{manual.id}"' not in page
    assert tick in page
    listed = alice_web.get("/ui/acme/triggers/").content.decode()
    assert f'href="/ui/acme/executions/{started.id}"' in listed  # as the last execution


def test_a_flow_without_triggers_says_how_to_add_one(acme, alice, alice_web):
    from tests.conftest import flow_yaml

    flow_create(tenant=acme, user=alice, source=flow_yaml("plain"))
    page = alice_web.get("/ui/acme/flows/company.team/plain/triggers").content.decode()
    assert "This flow has no trigger." in page


def test_it_hides_another_tenants_triggers(acme, triggers, client, mallory, globex):
    client.force_login(mallory)
    assert client.get("/ui/acme/triggers/").status_code == 404
    assert client.get("/ui/acme/flows/company.team/nightly/triggers").status_code == 404
    response = client.post(
        "/ui/globex/triggers/company.team/nightly/daily/disabled", {"disabled": "true"}
    )
    assert response.status_code == 404
    assert client.post("/ui/acme/triggers/company.team/nightly/daily/unlock").status_code == 404
    assert not Trigger.objects.for_tenant(acme).filter(disabled=True).exists()
    assert "daily" not in client.get("/ui/globex/triggers/").content.decode()


def test_it_asks_to_log_in(acme, triggers, client):
    response = client.post(
        "/ui/acme/triggers/company.team/nightly/daily/disabled", {"disabled": "true"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
    assert not Trigger.objects.for_tenant(acme).filter(disabled=True).exists()
