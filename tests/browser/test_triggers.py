"""A person opens the Triggers page from the navigation, backfills a daily Schedule over three
days from its dialog, and watches the progress move to 100 % while the real scheduler process
runs the ticks (and real Celery workers the executions); the flow's Triggers tab then lists
the three executions."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from executions.models import Execution
from flows.services import flow_create
from tests.conftest import PASSWORD, flow_yaml, helper_process
from tests.executions.conftest import celery_worker_process  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NIGHTLY = flow_yaml(
    "nightly",
    extra="""\
    triggers:
      - id: daily
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "0 0 * * *"
    """,
)


@pytest.fixture
def start_scheduler(tmp_path):
    """Starts `manage.py scheduler` on the test database when called; stopped at the end."""
    with ExitStack() as running:

        def start() -> None:
            command = [sys.executable, "manage.py", "scheduler", "--tick", "0.1"]
            running.enter_context(
                helper_process(command, tmp_path / "scheduler.log", "Scheduler running")
            )

        yield start


def _login(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_it_backfills_three_days_and_shows_the_progress(
    celery_worker_process,  # noqa: F811
    start_scheduler,
    page,
    shoot,
    acme,
    alice,
):
    flow_create(tenant=acme, user=alice, source=NIGHTLY)
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    _login(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Triggers").click()
    expect(page.get_by_role("heading", name="Triggers")).to_be_visible()
    row = page.get_by_role("rowgroup", name="Trigger daily of company.team.nightly")
    expect(row.get_by_role("switch", name="daily enabled")).to_have_attribute(
        "aria-checked", "true"
    )
    row.get_by_role("link", name="Backfill").click()

    dialog = page.get_by_role("dialog", name="Backfill daily")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Start (UTC)").fill(first.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_label("End (UTC)").fill(last.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_label("Labels").fill("run:catch-up")
    shoot(page, "1-dialog")
    dialog.get_by_role("button", name="Start the backfill").click()

    expect(page.get_by_text("Backfill of daily started: 3 ticks from")).to_be_visible()
    progress = page.get_by_role("status", name="Backfill of daily")
    expect(progress).to_contain_text("0 of 3 ticks (0 %)")
    expect(progress.get_by_role("progressbar", name="Backfill progress")).to_have_attribute(
        "value", "0"
    )
    shoot(page, "2-started")

    start_scheduler()  # the page keeps polling; the scheduler runs the three ticks
    expect(progress).to_contain_text("3 executions for 3 ticks (100 %)", timeout=30_000)
    expect(progress.get_by_role("progressbar", name="Backfill progress")).to_have_attribute(
        "value", "100"
    )
    shoot(page, "3-ended")

    runs = Execution.objects.for_tenant(acme).filter(flow_id="nightly", trigger__id="daily")
    assert runs.count() == 3
    ticks = sorted(run.trigger["variables"]["date"] for run in runs)
    assert [t[:10] for t in ticks] == [
        (first + timedelta(days=offset)).strftime("%Y-%m-%d") for offset in range(3)
    ]
    assert all({"key": "run", "value": "catch-up"} in run.labels for run in runs)

    page.get_by_role("link", name="See its executions").click()
    history = page.get_by_role("region", name="Executions started by daily")
    expect(history.get_by_role("row")).to_have_count(4)  # the header and three executions
    for run in runs:
        expect(history.get_by_role("link", name=run.id)).to_be_visible()
    shoot(page, "4-history")
