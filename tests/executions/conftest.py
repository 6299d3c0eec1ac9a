"""A real Celery worker process (executor and worker queues) on the test database, through
the test process's own Redis database; started once per xdist worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(log_path: Path, name: str) -> Iterator[Path]:
    """A Celery worker process (executor and worker queues, 2 processes) on the test
    database and the test process's Redis database, started and ready; stopped on exit."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "AVIARY_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
        "AVIARY_STORAGE_ROOT": settings.AVIARY["STORAGE_ROOT"],
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker"),
                *("-Q", "executor,worker", "-c", "2", "--without-heartbeat"),
                *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
                *("-n", f"{name}-{os.getpid()}@localhost"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            deadline = time.monotonic() + 30
            while "ready." not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, f"the Celery worker {name} did not start"
                time.sleep(0.1)
            yield log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    from bench.environment import purge_queues

    purge_queues()  # messages a previous run left behind, in both queues
    with django_db_blocker.unblock():
        log_path = tmp_path_factory.mktemp("celery") / "worker.log"
        with celery_worker(log_path, "test") as log:
            yield log


@pytest.fixture
def sent(monkeypatch):
    """Celery messages the code under test sends, instead of a broker."""
    from executions import tasks

    messages: list[tuple[str, tuple, dict]] = []

    def record(name):
        def apply_async(args=(), kwargs=None, **options):
            messages.append((name, tuple(args), dict(kwargs or {})))

        return apply_async

    monkeypatch.setattr(tasks.advance_execution, "apply_async", record("advance"))
    monkeypatch.setattr(tasks.run_task_run, "apply_async", record("run"))
    monkeypatch.setattr(tasks.advance_execution, "delay", lambda *a: record("advance")(a))
    monkeypatch.setattr(tasks.run_task_run, "delay", lambda *a: record("run")(a))
    return messages


@pytest.fixture
def drive(sent, django_capture_on_commit_callbacks):
    """`drive(tenant, step)`: run `step` with its commit callbacks, then play the executor
    and the workers for every message sent until none is left (tests/executions/
    actions_support.py)."""
    from tests.executions.actions_support import Driver

    return Driver(sent, django_capture_on_commit_callbacks)
