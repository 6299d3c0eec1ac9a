"""The triggers API (`/api/v1/{tenant}/triggers/...`): search and a flow's triggers in
Kestra's JSON, disable and enable (one and in bulk), unlock, the preconditions' state of a
Flow trigger; 422s naming the field, 404 for unknown and another tenant's triggers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flows.services import flow_create
from tests.conftest import flow_yaml
from tests.triggers.support import DOWNSTREAM, SCHEDULED
from triggers.models import PreconditionWindow, Trigger

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/acme/triggers/search"


@pytest.fixture
def triggers(acme, alice) -> dict[str, Trigger]:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return {row.trigger_id: row for row in Trigger.objects.for_tenant(acme)}


def _row(acme, trigger_id: str) -> Trigger:
    return Trigger.objects.for_tenant(acme).get(trigger_id=trigger_id)


def _key(trigger_id: str, flow_id: str = "nightly") -> dict[str, str]:
    return {"namespace": "company.team", "flowId": flow_id, "triggerId": trigger_id}


# --- search and a flow's triggers -------------------------------------------------------------


def test_it_searches_every_trigger_in_kestras_shape(alice_api, triggers):
    response = alice_api.get(SEARCH, {"size": 50})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    ids = [item["triggerContext"]["triggerId"] for item in body["results"]]
    assert ids == ["daily", "after-loads", "hook"]  # namespace, flow id, trigger id
    daily = body["results"][0]
    assert daily["abstractTrigger"] == {
        "id": "daily",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "cron": "0 0 * * *",
    }
    context = daily["triggerContext"]
    assert context["namespace"] == "company.team"
    assert context["flowId"] == "nightly"
    assert context["nextExecutionDate"] == triggers["daily"].next_date.isoformat()
    assert context["date"] is None
    assert context["executionId"] is None
    assert context["disabled"] is False
    assert context["backfill"] is None
    assert context["kind"] == "schedule"
    assert context["enabled"] is True
    assert context["locked"] is False
    assert context["preconditions"] == []


@pytest.mark.parametrize(
    ("_case", "params", "expected"),
    [
        ("text in the trigger id", {"q": "LOAD"}, ["after-loads"]),
        ("text in the flow id", {"q": "night"}, ["daily"]),
        ("namespace prefix", {"namespace": "company"}, ["daily", "after-loads", "hook"]),
        ("not a prefix of a segment", {"namespace": "comp"}, []),
        ("flow id", {"flowId": "report"}, ["after-loads", "hook"]),
        ("kind", {"kind": "webhook"}, ["hook"]),
        ("type", {"type": "io.kestra.plugin.core.trigger.Flow"}, ["after-loads"]),
        ("sort", {"sort": "triggerId:desc"}, ["hook", "daily", "after-loads"]),
        ("page size", {"size": 2, "page": 2}, ["hook"]),
    ],
)
def test_it_filters_sorts_and_pages_the_search(alice_api, triggers, _case, params, expected):
    response = alice_api.get(SEARCH, params)
    assert response.status_code == 200, response.json()
    assert [r["triggerContext"]["triggerId"] for r in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("_case", "params", "field"),
    [
        ("unknown kind", {"kind": "cron"}, "kind"),
        ("unknown sort field", {"sort": "color:asc"}, "sort"),
        ("bad direction", {"sort": "triggerId:up"}, "sort"),
        ("bad namespace", {"namespace": "Not A Namespace!"}, "namespace"),
        ("page zero", {"page": 0}, "page"),
        ("size too large", {"size": 5000}, "size"),
    ],
)
def test_it_names_the_bad_search_parameter(alice_api, triggers, _case, params, field):
    response = alice_api.get(SEARCH, params)
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == [field]


def test_it_lists_a_flows_triggers(alice_api, triggers):
    response = alice_api.get("/api/v1/acme/triggers/company.team/report")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert [t["triggerId"] for t in body["results"]] == ["after-loads", "hook"]
    assert {t["kind"] for t in body["results"]} == {"flow", "webhook"}


def test_it_answers_404_for_the_triggers_of_an_unknown_flow(alice_api, triggers):
    response = alice_api.get("/api/v1/acme/triggers/company.team/nothing")
    assert response.status_code == 404
    assert response.json()["message"] == "Flow company.team.nothing not found"


def test_it_shows_the_warning_of_a_trigger(acme, alice_api, triggers):
    Trigger.objects.for_tenant(acme).filter(trigger_id="after-loads").update(
        warning="preconditions.flows[0]: flow company.team.load-a does not exist"
    )
    body = alice_api.get(SEARCH, {"kind": "flow"}).json()
    context = body["results"][0]["triggerContext"]
    assert context["warning"] == "preconditions.flows[0]: flow company.team.load-a does not exist"


# --- preconditions ----------------------------------------------------------------------------


def test_it_shows_which_preconditions_are_met_in_the_current_window(acme, alice_api, triggers):
    now = timezone.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1) - timedelta(milliseconds=1)
    met_at = (now - timedelta(minutes=5)).isoformat()
    PreconditionWindow.objects.for_tenant(acme).create(
        trigger=triggers["after-loads"],
        condition_id="loads",
        start=start,
        end=end,
        results={
            "condition_1": {
                "executionId": "4Xk2Lw0a",
                "namespace": "company.team",
                "flowId": "load-a",
                "state": "SUCCESS",
                "at": met_at,
            }
        },
    )
    body = alice_api.get("/api/v1/acme/triggers/company.team/report").json()
    [state] = body["results"][0]["preconditions"]
    assert state["id"] == "loads"
    assert state["windowStart"] == start.isoformat()
    assert state["windowEnd"] == end.isoformat()
    assert (state["met"], state["total"]) == (1, 3)
    assert state["timeWindow"] == "DURATION_WINDOW PT24H"
    assert state["conditions"] == [
        {
            "key": "condition_1",
            "description": "company.team.load-a in SUCCESS",
            "met": True,
            "executionId": "4Xk2Lw0a",
            "namespace": "company.team",
            "flowId": "load-a",
            "state": "SUCCESS",
            "at": met_at,
        },
        {
            "key": "condition_2",
            "description": "company.team.load-b",
            "met": False,
            "executionId": None,
            "namespace": None,
            "flowId": None,
            "state": None,
            "at": None,
        },
        {
            "key": "condition_3_prod",
            "description": "NAMESPACE STARTS_WITH company",
            "met": False,
            "executionId": None,
            "namespace": None,
            "flowId": None,
            "state": None,
            "at": None,
        },
    ]


def test_it_ignores_an_expired_window(acme, alice_api, triggers):
    yesterday = timezone.now() - timedelta(days=1, hours=1)
    PreconditionWindow.objects.for_tenant(acme).create(
        trigger=triggers["after-loads"],
        condition_id="loads",
        start=yesterday,
        end=yesterday + timedelta(hours=1),
        results={"condition_2": {"executionId": "old", "state": "SUCCESS"}},
    )
    body = alice_api.get("/api/v1/acme/triggers/company.team/report").json()
    [state] = body["results"][0]["preconditions"]
    assert state["windowStart"] is None
    assert state["met"] == 0


def test_it_keys_a_legacy_multiple_condition_by_its_map(acme, alice, alice_api):
    flow_create(
        tenant=acme,
        user=alice,
        source=flow_yaml(
            "legacy",
            extra="""\
            triggers:
              - id: both
                type: io.kestra.plugin.core.trigger.Flow
                conditions:
                  - type: io.kestra.plugin.core.condition.MultipleCondition
                    id: pair
                    window: PT1H
                    conditions:
                      first:
                        type: io.kestra.plugin.core.condition.ExecutionFlow
                        namespace: company.team
                        flowId: one
                      second:
                        type: io.kestra.plugin.core.condition.ExecutionFlow
                        namespace: company.team
                        flowId: two
            """,
        ),
    )
    body = alice_api.get("/api/v1/acme/triggers/company.team/legacy").json()
    [state] = body["results"][0]["preconditions"]
    assert state["id"] == "pair"
    assert state["timeWindow"] == "DURATION_WINDOW PT1H"
    assert [(c["key"], c["description"]) for c in state["conditions"]] == [
        ("first", "company.team.one"),
        ("second", "company.team.two"),
    ]


# --- update, unlock, bulk ---------------------------------------------------------------------


def test_it_disables_and_enables_a_trigger(acme, alice_api, triggers):
    response = alice_api.put("/api/v1/acme/triggers", {**_key("daily"), "disabled": True}, "json")
    assert response.status_code == 200
    assert response.json()["disabled"] is True
    assert response.json()["enabled"] is False
    assert _row(acme, "daily").disabled is True
    response = alice_api.put("/api/v1/acme/triggers", {**_key("daily"), "disabled": False}, "json")
    assert response.json()["disabled"] is False
    assert _row(acme, "daily").disabled is False


def test_it_leaves_disabled_alone_when_the_body_does_not_say(acme, alice_api, triggers):
    Trigger.objects.for_tenant(acme).filter(trigger_id="daily").update(disabled=True)
    sent_back = alice_api.get(SEARCH, {"kind": "schedule"}).json()["results"][0]["triggerContext"]
    del sent_back["disabled"]
    response = alice_api.put("/api/v1/acme/triggers", sent_back, "json")
    assert response.status_code == 200
    assert _row(acme, "daily").disabled is True


@pytest.mark.parametrize(
    ("_case", "policy", "moves"),
    [("all missed ticks", "ALL", False), ("none", "NONE", True), ("the last", "LAST", True)],
)
def test_it_recovers_missed_schedules_when_enabled_again(
    acme, alice, alice_api, _case, policy, moves
):
    flow_create(
        tenant=acme,
        user=alice,
        source=flow_yaml(
            "hourly",
            extra=f"""\
            triggers:
              - id: every-hour
                type: io.kestra.plugin.core.trigger.Schedule
                cron: "0 * * * *"
                recoverMissedSchedules: {policy}
            """,
        ),
    )
    missed = (timezone.now() - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    rows = Trigger.objects.for_tenant(acme).filter(trigger_id="every-hour")
    rows.update(disabled=True, next_date=missed)
    key = {"namespace": "company.team", "flowId": "hourly", "triggerId": "every-hour"}
    response = alice_api.put("/api/v1/acme/triggers", {**key, "disabled": False}, "json")
    assert response.status_code == 200
    next_date = rows.get().next_date
    now = timezone.now()
    if not moves:
        assert next_date == missed
    elif policy == "NONE":
        assert now < next_date <= now + timedelta(hours=1)
    else:
        assert now - timedelta(hours=1) <= next_date <= now
        assert next_date.minute == 0


@pytest.mark.parametrize(
    ("_case", "body", "fields"),
    [
        ("no trigger id", {"namespace": "company.team", "flowId": "nightly"}, ["triggerId"]),
        ("nothing", {}, ["namespace", "flowId", "triggerId"]),
        ("disabled not a boolean", {**_key("daily"), "disabled": "maybe"}, ["disabled"]),
    ],
)
def test_it_names_the_bad_field_of_an_update(acme, alice_api, triggers, _case, body, fields):
    response = alice_api.put("/api/v1/acme/triggers", body, "json")
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == fields
    assert _row(acme, "daily").disabled is False


def test_it_answers_404_for_an_unknown_trigger(alice_api, triggers):
    response = alice_api.put("/api/v1/acme/triggers", {**_key("weekly"), "disabled": True}, "json")
    assert response.status_code == 404
    assert response.json()["message"] == "Trigger weekly of flow company.team.nightly not found"


def test_it_unlocks_a_locked_trigger(acme, alice_api, triggers):
    Trigger.objects.for_tenant(acme).filter(trigger_id="daily").update(execution_id="5aYc0xRun")
    response = alice_api.post("/api/v1/acme/triggers/company.team/nightly/daily/unlock")
    assert response.status_code == 200
    assert response.json()["executionId"] is None
    assert response.json()["locked"] is False
    assert _row(acme, "daily").execution_id == ""


def test_it_refuses_to_unlock_a_trigger_that_is_not_locked(alice_api, triggers):
    response = alice_api.post("/api/v1/acme/triggers/company.team/nightly/daily/unlock")
    assert response.status_code == 409
    assert response.json()["message"] == (
        "Trigger daily of flow company.team.nightly is not locked: "
        "no execution it started is running"
    )


def test_it_answers_404_when_unlocking_an_unknown_trigger(alice_api, triggers):
    response = alice_api.post("/api/v1/acme/triggers/company.team/nightly/nope/unlock")
    assert response.status_code == 404


def test_it_disables_triggers_in_bulk(acme, alice_api, triggers):
    body = {"triggers": [_key("daily"), _key("hook", "report")], "disabled": True}
    response = alice_api.post("/api/v1/acme/triggers/set-disabled/by-triggers", body, "json")
    assert response.status_code == 200
    assert response.json() == {"count": 2}
    disabled = Trigger.objects.for_tenant(acme).filter(disabled=True)
    assert sorted(disabled.values_list("trigger_id", flat=True)) == ["daily", "hook"]
    body = {"triggers": [_key("daily")], "disabled": False}
    alice_api.post("/api/v1/acme/triggers/set-disabled/by-triggers", body, "json")
    assert _row(acme, "daily").disabled is False


def test_it_changes_nothing_in_bulk_when_one_trigger_is_unknown(acme, alice_api, triggers):
    body = {"triggers": [_key("daily"), _key("ghost", "report")], "disabled": True}
    response = alice_api.post("/api/v1/acme/triggers/set-disabled/by-triggers", body, "json")
    assert response.status_code == 404
    assert response.json()["message"] == "Trigger ghost of flow company.team.report not found"
    assert not Trigger.objects.for_tenant(acme).filter(disabled=True).exists()


@pytest.mark.parametrize(
    ("_case", "body", "fields"),
    [
        ("empty list", {"triggers": []}, ["triggers"]),
        ("item without flow", {"triggers": [{"namespace": "a", "triggerId": "b"}]}, None),
        ("disabled not a boolean", {"triggers": [_key("daily")], "disabled": "x"}, ["disabled"]),
    ],
)
def test_it_names_the_bad_field_of_a_bulk_request(alice_api, triggers, _case, body, fields):
    response = alice_api.post("/api/v1/acme/triggers/set-disabled/by-triggers", body, "json")
    assert response.status_code == 422
    paths = [error["path"] for error in response.json()["errors"]]
    assert paths == (fields or ["triggers.0.flowId"])


# --- tenancy and authentication ---------------------------------------------------------------


def test_it_shows_nothing_of_another_tenant(acme, triggers, globex, mallory_api):
    response = mallory_api.get("/api/v1/globex/triggers/search")
    assert response.json() == {"results": [], "total": 0}
    for call in (
        lambda: mallory_api.put(
            "/api/v1/globex/triggers", {**_key("daily"), "disabled": True}, "json"
        ),
        lambda: mallory_api.post("/api/v1/globex/triggers/company.team/nightly/daily/unlock"),
        lambda: mallory_api.post(
            "/api/v1/globex/triggers/set-disabled/by-triggers",
            {"triggers": [_key("daily")]},
            "json",
        ),
        lambda: mallory_api.get("/api/v1/acme/triggers/search"),
        lambda: mallory_api.put(
            "/api/v1/acme/triggers", {**_key("daily"), "disabled": True}, "json"
        ),
    ):
        response = call()
        assert response.status_code == 404, response.content
    assert not Trigger.objects.for_tenant(acme).filter(disabled=True).exists()


def test_it_asks_for_credentials(acme, triggers, client):
    response = client.get(SEARCH)
    assert response.status_code == 401
    response = client.put(
        "/api/v1/acme/triggers",
        data={**_key("daily"), "disabled": True},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not Trigger.objects.for_tenant(acme).filter(disabled=True).exists()


def test_a_member_who_did_not_write_the_flow_may_disable_its_trigger(acme, bob, api_for, triggers):
    response = api_for(bob).put(
        "/api/v1/acme/triggers", {**_key("daily"), "disabled": True}, "json"
    )
    assert response.status_code == 200
    assert _row(acme, "daily").disabled is True
