"""Backfills through the triggers API: `PUT /triggers` with a `backfill` starts one (its
progress in the trigger JSON), `PUT /triggers/backfill/pause|unpause` and
`POST /triggers/backfill/delete` control it; 422s name the body's fields, 404 for unknown
and another tenant's triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from flows.services import flow_create
from tests.triggers.support import DOWNSTREAM, SCHEDULED
from triggers.models import Trigger

pytestmark = pytest.mark.django_db

KEY = {"namespace": "company.team", "flowId": "nightly", "triggerId": "daily"}


def _midnight(days_ago: int) -> datetime:
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


@pytest.fixture
def daily(acme, alice) -> Trigger:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return Trigger.objects.for_tenant(acme).get(trigger_id="daily")


def _start(client, **backfill):
    body = {
        **KEY,
        "backfill": {
            "start": _midnight(3).isoformat(),
            "end": _midnight(1).isoformat(),
            **backfill,
        },
    }
    return client.put("/api/v1/acme/triggers", body, "json")


def test_it_starts_a_backfill_and_reports_its_progress(acme, alice_api, daily):
    response = _start(alice_api, inputs={"size": "7"}, labels=[{"key": "run", "value": "catch-up"}])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert datetime.fromisoformat(body["backfill"]["start"]) == _midnight(3)
    assert datetime.fromisoformat(body["backfill"]["end"]) == _midnight(1)
    assert datetime.fromisoformat(body["backfill"]["currentDate"]) == _midnight(3)
    assert body["backfill"]["paused"] is False
    assert body["backfill"]["inputs"] == {"size": "7"}
    assert body["backfill"]["labels"] == [{"key": "run", "value": "catch-up"}]
    assert body["backfillProgress"]["total"] == 3
    assert body["backfillProgress"]["done"] == 0
    assert body["backfillProgress"]["percent"] == 0
    assert body["backfillProgress"]["paused"] is False
    row = Trigger.objects.for_tenant(acme).get(pk=daily.pk)
    assert row.backfill["labels"] == [{"key": "run", "value": "catch-up"}]


def test_it_takes_kestras_map_of_labels(alice_api, daily):
    response = _start(alice_api, labels={"run": "catch-up"})
    assert response.json()["backfill"]["labels"] == [{"key": "run", "value": "catch-up"}]


@pytest.mark.parametrize(
    ("_case", "backfill", "paths"),
    [
        ("no start", {"start": None}, ["backfill.start"]),
        ("not a date", {"start": "yesterday"}, ["backfill.start"]),
        ("end before start", {"end": _midnight(5).isoformat()}, ["backfill.end"]),
        ("start in the future", {"start": (_midnight(-2)).isoformat(), "end": None}, None),
        ("system label", {"labels": [{"key": "system.readOnly", "value": "true"}]}, None),
        ("labels not a list or map", {"labels": "run:catch-up"}, ["backfill.labels"]),
        ("input of the wrong type", {"inputs": {"size": "seven"}}, ["backfill.inputs.size"]),
    ],
)
def test_it_names_the_bad_field_of_a_backfill(acme, alice_api, daily, _case, backfill, paths):
    response = _start(alice_api, **backfill)
    assert response.status_code == 422, response.json()
    found = [error["path"] for error in response.json()["errors"]]
    if _case == "start in the future":
        assert found[0] == "backfill.start"
    elif _case == "system label":
        assert found == ["backfill.labels[0].key"]
    else:
        assert found == paths
    assert Trigger.objects.for_tenant(acme).get(pk=daily.pk).backfill is None


def test_it_refuses_a_backfill_of_a_flow_trigger(acme, alice_api, daily):
    body = {
        "namespace": "company.team",
        "flowId": "report",
        "triggerId": "after-loads",
        "backfill": {"start": _midnight(2).isoformat()},
    }
    response = alice_api.put("/api/v1/acme/triggers", body, "json")
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["backfill"]
    assert "only Schedule triggers can be backfilled" in response.json()["message"]


def test_it_refuses_a_second_backfill_and_keeps_disabled_as_it_was(acme, alice_api, daily):
    _start(alice_api)
    body = {**KEY, "disabled": True, "backfill": {"start": _midnight(9).isoformat()}}
    response = alice_api.put("/api/v1/acme/triggers", body, "json")
    assert response.status_code == 409
    assert "has a backfill already" in response.json()["message"]
    row = Trigger.objects.for_tenant(acme).get(pk=daily.pk)
    assert row.disabled is False
    assert datetime.fromisoformat(row.backfill["start"]) == _midnight(3)


def test_sending_back_the_running_backfill_does_not_restart_it(acme, alice_api, daily):
    sent_back = _start(alice_api).json()
    Trigger.objects.for_tenant(acme).filter(pk=daily.pk).update(
        backfill={**Trigger.objects.for_tenant(acme).get(pk=daily.pk).backfill, "done": 1}
    )
    sent_back["disabled"] = True
    response = alice_api.put("/api/v1/acme/triggers", sent_back, "json")
    assert response.status_code == 200
    assert response.json()["disabled"] is True
    assert response.json()["backfillProgress"]["done"] == 1


def test_it_pauses_resumes_and_deletes_a_backfill(acme, alice_api, daily):
    next_date = daily.next_date
    _start(alice_api)
    response = alice_api.put("/api/v1/acme/triggers/backfill/pause", KEY, "json")
    assert response.status_code == 200
    assert response.json()["backfill"]["paused"] is True
    assert response.json()["backfillProgress"]["paused"] is True
    response = alice_api.put("/api/v1/acme/triggers/backfill/unpause", KEY, "json")
    assert response.json()["backfill"]["paused"] is False
    response = alice_api.post("/api/v1/acme/triggers/backfill/delete", KEY, "json")
    assert response.status_code == 200
    assert response.json()["backfill"] is None
    assert response.json()["backfillProgress"] is None
    row = Trigger.objects.for_tenant(acme).get(pk=daily.pk)
    assert row.backfill is None
    assert row.next_date == next_date  # the schedule's own ticks resume where they were


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/acme/triggers/backfill/pause"),
        ("put", "/api/v1/acme/triggers/backfill/unpause"),
        ("post", "/api/v1/acme/triggers/backfill/delete"),
    ],
)
def test_the_backfill_controls_answer_for_missing_things(alice_api, daily, method, url):
    call = getattr(alice_api, method)
    response = call(url, KEY, "json")
    assert response.status_code == 400
    assert response.json()["message"] == "No backfill found"
    response = call(url, {**KEY, "triggerId": "weekly"}, "json")
    assert response.status_code == 404
    response = call(url, {"namespace": "company.team"}, "json")
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["flowId", "triggerId"]


def test_the_backfill_controls_do_not_reach_another_tenant(acme, alice_api, daily, mallory_api):
    _start(alice_api)
    for method, url in (
        ("put", "/api/v1/globex/triggers/backfill/pause"),
        ("post", "/api/v1/globex/triggers/backfill/delete"),
        ("put", "/api/v1/acme/triggers/backfill/pause"),
    ):
        response = getattr(mallory_api, method)(url, KEY, "json")
        assert response.status_code == 404
    response = mallory_api.put(
        "/api/v1/globex/triggers", {**KEY, "backfill": {"start": _midnight(2).isoformat()}}, "json"
    )
    assert response.status_code == 404
    row = Trigger.objects.for_tenant(acme).get(pk=daily.pk)
    assert row.backfill["paused"] is False
