"""Real `manage.py scheduler` processes on the test database, with a real Celery worker running
the executions: two schedulers at once start every tick exactly once, and a scheduler killed
with SIGKILL mid-run, replaced by another, loses no tick and repeats none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import helper_process
from tests.triggers.schedule_support import (  # noqa: F401 - fixture
    _fresh_scheduler_caches,
    create_scheduled,
    executions_of,
)
from triggers.models import Trigger

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
EVERY_TWO_SECONDS = 'cron: "*/2 * * * * *"\nwithSeconds: true\n'


@contextmanager
def scheduler(log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py scheduler` on the test database and the test process's Redis database."""
    command = [sys.executable, "manage.py", "scheduler"]
    with helper_process(command, log_path, "Scheduler running", mode="a", poll=0.05) as process:
        yield process


def _flows(acme, alice, count: int) -> dict[str, datetime]:
    """`count` flows ticking every two seconds; each one's first tick."""
    first = {}
    for index in range(count):
        row = create_scheduled(acme, alice, f"tick-{index:02d}", EVERY_TWO_SECONDS)
        first[row.flow_id] = row.next_date
    return first


def _check_every_tick_once(acme, first: dict[str, datetime]) -> int:
    """Each flow ran each of its ticks once, in order from its first, with no gap, up to
    the tick its trigger last evaluated. Returns how many executions there are. (How far
    the flows got depends on the worker's pace: a Schedule waits for its running execution.)"""
    seen = 0
    for flow_id, start in first.items():
        dates = [
            datetime.fromisoformat(row.trigger["variables"]["date"])
            for row in executions_of(acme, flow_id)
        ]
        assert len(dates) == len(set(dates)), f"{flow_id}: a tick ran twice: {dates}"
        expected = [start + timedelta(seconds=2 * n) for n in range(len(dates))]
        assert dates == expected, f"{flow_id}: ticks lost or out of order: {dates}"
        row = Trigger.objects.for_tenant(acme).get(flow_id=flow_id)
        assert row.last_date == dates[-1], f"{flow_id}: tick {row.last_date} has no execution"
        seen += len(dates)
    return seen


def test_two_schedulers_start_every_tick_exactly_once(acme, alice, celery_worker_process, tmp_path):
    first = _flows(acme, alice, 6)
    with scheduler(tmp_path / "a.log"), scheduler(tmp_path / "b.log"):
        time.sleep(9)
    assert _check_every_tick_once(acme, first) >= 2 * len(first)
    logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
    assert "Traceback" not in logs, logs[-3000:]


def test_a_scheduler_killed_mid_run_loses_and_repeats_no_tick(
    acme, alice, celery_worker_process, tmp_path
):
    first = _flows(acme, alice, 8)
    with scheduler(tmp_path / "killed.log") as doomed:
        # kill it just after a tick, while it writes that tick's batch
        time.sleep(4.05 - time.time() % 2)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    before = _check_every_tick_once(acme, first)
    with scheduler(tmp_path / "replacement.log"):
        time.sleep(6)
    after = _check_every_tick_once(acme, first)
    assert after > before  # the replacement went on from where the killed one was
    log = (tmp_path / "replacement.log").read_text()
    assert "Traceback" not in log, log[-3000:]
