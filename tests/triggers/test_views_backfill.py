"""The backfill of a Schedule trigger from the pages: the Backfill button's dialog with the
flow's inputs, starting (and the form again with each problem next to its field), the
progress row polled while it runs, pause, resume, delete, and the progress once the
scheduler has removed the backfill at its end."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from executions.services import execution_create
from flows.services import flow_create
from tests.triggers.support import DOWNSTREAM, SCHEDULED
from triggers.models import Trigger

pytestmark = pytest.mark.django_db

BASE = "/ui/acme/triggers/company.team/nightly/daily"


def _local(moment: datetime) -> str:
    """As a datetime-local field sends it (the trigger's zone is UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _midnight(days_ago: int) -> datetime:
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def daily(acme, alice) -> Trigger:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return Trigger.objects.for_tenant(acme).get(trigger_id="daily")


def _row(acme) -> Trigger:
    return Trigger.objects.for_tenant(acme).get(trigger_id="daily")


def _start(alice_web, **fields):
    data = {
        "start": _local(_midnight(3)),
        "end": _local(_midnight(1)),
        "inputs.region": "eu",  # a browser sends the default the field shows
        "inputs.size": "",
        "labels": "",
        "next": "/ui/acme/triggers/",
        **fields,
    }
    return alice_web.post(f"{BASE}/backfill", data)


def test_the_backfill_button_opens_a_dialog_with_the_flows_inputs(alice_web, daily):
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert f'data-dialog="backfill-dialog-{daily.pk}">Backfill</a>' in page
    dialog = re.search(r"<dialog .*?</dialog>", page, re.S).group(0)
    assert f'id="backfill-dialog-{daily.pk}"' in dialog
    assert "Backfill daily" in dialog
    for field in ("start", "end", "inputs.region", "inputs.size", "labels"):
        assert f'id="backfill-{daily.pk}-{field}"' in dialog
    assert 'value="eu"' in dialog  # the flow's default
    assert "Start (UTC)" in dialog
    assert 'formmethod="dialog"' in dialog
    # only Schedule triggers have one
    assert page.count("<dialog ") == 1


def test_the_form_is_a_page_of_its_own_without_script(alice_web, daily):
    response = alice_web.get(f"{BASE}/backfill?next=/ui/acme/flows/company.team/nightly/triggers")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-label="Backfill daily"' in page
    assert 'href="/ui/acme/flows/company.team/nightly/triggers">Cancel</a>' in page


def test_it_starts_a_backfill_with_the_inputs_typed_and_labels(acme, alice_web, daily):
    response = _start(alice_web, **{"inputs.size": "7", "labels": "run:catch-up"})
    assert response.status_code == 302
    assert response["Location"] == "/ui/acme/triggers/"
    backfill = _row(acme).backfill
    assert datetime.fromisoformat(backfill["start"]) == _midnight(3)
    assert datetime.fromisoformat(backfill["end"]) == _midnight(1)
    assert backfill["inputs"] == {"region": "eu", "size": "7"}
    assert backfill["labels"] == [{"key": "run", "value": "catch-up"}]
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Backfill of daily started: 3 ticks from" in page
    assert "0 of 3 ticks (0 %)" in page
    assert f'hx-get="{BASE}/backfill/progress?' in page
    assert 'hx-trigger="every 1s"' in page
    assert ">Pause</button>" in page
    assert "Delete the backfill of daily?" in page
    assert "<dialog " not in page  # no second backfill while one runs


def test_the_trigger_zone_applies_to_the_dates(acme, alice, alice_web):
    source = SCHEDULED.replace("flow_id", "x").replace(
        'cron: "0 0 * * *"', 'cron: "0 0 * * *"\n    timezone: Europe/Paris'
    )
    flow_create(tenant=acme, user=alice, source=source)
    row = _row(acme)
    assert row.spec["timezone"] == "Europe/Paris"
    page = alice_web.get(f"{BASE}/backfill").content.decode()
    assert "Start (Europe/Paris)" in page
    day = _midnight(3).strftime("%Y-%m-%d")
    _start(alice_web, start=f"{day}T00:00", end="")
    start = datetime.fromisoformat(_row(acme).backfill["start"])
    assert start.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert start.strftime("%Y-%m-%d %H:%M") == f"{day} 00:00"


@pytest.mark.parametrize(
    ("_case", "fields", "message"),
    [
        ("no start", {"start": ""}, "Give the date and time of the first tick to run."),
        ("not a date", {"start": "soon"}, "Expected a date and time such as 2026-01-31T00:00"),
        (
            "end before start",
            {"end": _local(_midnight(5))},
            "The end must not be before the start.",
        ),
        (
            "start in the future",
            {"start": _local(_midnight(-2)), "end": ""},
            "must not be in the future",
        ),
        ("bad label", {"labels": "nocolon"}, "Expected key:value, got 'nocolon'"),
        ("system label", {"labels": "system.readOnly:true"}, "System labels can only be set"),
        ("bad input", {"inputs.size": "seven"}, "size"),
    ],
)
def test_it_shows_the_form_again_with_what_to_fix(acme, alice_web, daily, _case, fields, message):
    response = _start(alice_web, **fields)
    assert response.status_code == 422
    page = html.unescape(response.content.decode())
    assert "The backfill was not started." in page
    assert message in page
    assert 'class="field-error" role="alert"' in page
    assert _row(acme).backfill is None


def test_it_pauses_resumes_and_deletes_from_the_row(acme, alice_web, daily):
    _start(alice_web)
    response = alice_web.post(f"{BASE}/backfill/pause", {"next": "/ui/acme/triggers/"})
    assert response.status_code == 302
    assert _row(acme).backfill["paused"] is True
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Backfill of daily paused." in page
    assert "paused</span>" in page
    assert 'hx-trigger="every 1s"' not in page  # nothing moves while paused
    assert ">Resume</button>" in page
    alice_web.post(f"{BASE}/backfill/resume")
    assert _row(acme).backfill["paused"] is False
    alice_web.post(f"{BASE}/backfill/delete")
    assert _row(acme).backfill is None
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Backfill of daily deleted: the schedule resumes its own ticks." in page
    alice_web.post(f"{BASE}/backfill/delete")
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Trigger daily has no backfill: it ended or was deleted." in page


def test_the_progress_fragment_follows_the_backfill(acme, alice_web, daily):
    _start(alice_web)
    row = _row(acme)
    Trigger.objects.for_tenant(acme).filter(pk=row.pk).update(backfill={**row.backfill, "done": 2})
    query = urlencode({"start": row.backfill["start"], "end": row.backfill["end"], "total": 3})
    fragment = alice_web.get(f"{BASE}/backfill/progress?{query}").content.decode()
    assert "2 of 3 ticks (66 %)" in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert f"progress?{query}&next=" in html.unescape(fragment)  # the next poll knows its end
    assert '<progress max="3" value="2"' in fragment


def test_the_progress_says_how_many_executions_ran_once_the_backfill_ended(acme, alice_web, daily):
    _start(alice_web)
    backfill = _row(acme).backfill
    for days_ago in (3, 2, 1):
        execution_create(
            tenant=acme,
            namespace="company.team",
            flow_id="nightly",
            provided={},
            trigger={
                "id": "daily",
                "type": "io.kestra.plugin.core.trigger.Schedule",
                "variables": {"date": _midnight(days_ago).isoformat()},
            },
        )
    Trigger.objects.for_tenant(acme).filter(trigger_id="daily").update(backfill=None)
    query = urlencode({"start": backfill["start"], "end": backfill["end"], "total": 3})
    fragment = alice_web.get(f"{BASE}/backfill/progress?{query}").content.decode()
    assert "Backfill ended" in fragment
    assert "3 executions for 3 ticks (100 %)" in fragment
    assert 'hx-trigger="every 1s"' not in fragment
    assert 'id="backfill-actions-' in fragment
    assert 'hx-swap-oob="true"' in fragment


def test_a_flow_trigger_has_no_backfill(acme, alice_web, daily):
    response = alice_web.post(
        "/ui/acme/triggers/company.team/report/after-loads/backfill",
        {"start": _local(_midnight(2))},
    )
    assert response.status_code == 302
    page = alice_web.get("/ui/acme/triggers/").content.decode()
    assert "Trigger after-loads is not a Schedule: it has no backfill." in page


def test_another_tenant_cannot_backfill(acme, daily, client, mallory, globex):
    client.force_login(mallory)
    data = {"start": _local(_midnight(3))}
    assert client.post(f"{BASE}/backfill", data).status_code == 404
    globex_url = "/ui/globex/triggers/company.team/nightly/daily/backfill"
    assert client.post(globex_url, data).status_code == 404
    assert client.get(f"{BASE}/backfill/progress").status_code == 404
    assert _row(acme).backfill is None
