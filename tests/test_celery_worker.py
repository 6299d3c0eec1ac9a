"""A real Celery worker process, through the real Redis broker, runs the housekeeping task
against the test database."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create
from executions.tasks import housekeeping
from tests.conftest import ROOT, die_with_parent, process_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_queue(tmp_path):
    """A worker on a queue of its own, so parallel test processes never share work."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = process_env()
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queue,
        "-c",
        "1",
        "-P",
        "solo",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "-n",
        f"{queue}@localhost",
        "--loglevel",
        "INFO",
    ]
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_it_runs_housekeeping_on_a_worker_through_redis(alice, worker_queue):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    dead = api_token_create(user=alice, name="dead", expires_in_days=1)
    ApiToken.objects.filter(pk=dead.token.pk).update(
        expires_at=timezone.now() - timedelta(days=100)
    )
    housekeeping.apply_async(queue=worker_queue)
    deadline = time.monotonic() + 30
    while ApiToken.objects.filter(pk=dead.token.pk).exists():
        assert time.monotonic() < deadline, "the worker did not run the task within 30 s"
        time.sleep(0.2)
