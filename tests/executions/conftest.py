"""A real Celery worker process (executor and worker queues) on the test database, through
the test process's own Redis database; started once per xdist worker."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, helper_process

__all__ = ["ROOT", "celery_worker"]


@contextmanager
def celery_worker(log_path: Path, name: str) -> Iterator[Path]:
    """A Celery worker process (executor and worker queues, 2 processes) on the test
    database and the test process's Redis database, started and ready; stopped on exit."""
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker"),
        *("-Q", "executor,worker", "-c", "2", "--without-heartbeat"),
        *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
        *("-n", f"{name}-{os.getpid()}@localhost"),
    ]
    with helper_process(command, log_path, "ready."):
        yield log_path


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
