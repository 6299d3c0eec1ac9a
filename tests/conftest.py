"""Shared fixtures: two tenants (acme with alice and bob, globex with mallory), API clients.

Tests run on the real PostgreSQL (config.settings_test); `make test` starts it.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_token_create, membership_add, user_create
from tenants.models import Tenant
from tenants.services import tenant_create

PASSWORD = "correct-horse-battery-staple"


def flow_yaml(flow_id: str = "hello", namespace: str = "company.team", extra: str = "") -> str:
    """A small valid flow; `extra` is appended at the top level (already indented YAML)."""
    source = textwrap.dedent(
        f"""\
        id: {flow_id}
        namespace: {namespace}
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: Hello
        """
    )
    return source + textwrap.dedent(extra)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test starts with empty per-process caches: the database they mirrored is rolled
    back or flushed between tests, the process is not."""
    from accounts.selectors import active_tokens
    from executions import snapshots
    from tenants.selectors import member_tenants
    from triggers.flow_triggers import forget_indexes

    active_tokens.clear()
    member_tenants.clear()
    snapshots.forget_all()
    forget_indexes()


@pytest.fixture
def acme(db) -> Tenant:
    return tenant_create(slug="acme", name="Acme")


@pytest.fixture
def globex(db) -> Tenant:
    return tenant_create(slug="globex", name="Globex")


def _member(email: str, *tenants: Tenant) -> User:
    user = user_create(email=email, password=PASSWORD)
    for tenant in tenants:
        membership_add(tenant=tenant, user=user)
    return user


@pytest.fixture
def alice(acme) -> User:
    return _member("alice@acme.test", acme)


@pytest.fixture
def bob(acme) -> User:
    return _member("bob@acme.test", acme)


@pytest.fixture
def mallory(globex) -> User:
    return _member("mallory@globex.test", globex)


@pytest.fixture
def api_for() -> Callable[[User], APIClient]:
    """An API client that authenticates as `user` with a real Bearer token."""

    def make(user: User) -> APIClient:
        issued = api_token_create(user=user, name=f"test-{user.pk}", expires_in_days=1)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        return client

    return make


@pytest.fixture
def alice_api(api_for, alice) -> APIClient:
    return api_for(alice)


@pytest.fixture
def mallory_api(api_for, mallory) -> APIClient:
    return api_for(mallory)


def post_yaml(client: APIClient, url: str, source: str | bytes, method: str = "post"):
    body = source.encode() if isinstance(source, str) else source
    return getattr(client, method)(url, data=body, content_type="application/x-yaml")


@pytest.fixture
def keep_test_connection(db):
    """Requests go through the WSGI app in this process, inside the test's transaction (the
    Schemathesis tests): keep Django from closing the connection after each request, as its
    own test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


ROOT = Path(__file__).resolve().parents[1]


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a helper process (a Celery worker, `manage.py scheduler`) working
    on the test database and the test process's Redis database."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "AVIARY_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
        "AVIARY_STORAGE_ROOT": settings.AVIARY["STORAGE_ROOT"],
        **extra,
    }


@contextmanager
def helper_process(
    command: list[str], log_path: Path, ready: str, *, mode: str = "w", poll: float = 0.1
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` started in the project's folder with `process_env()`, its output in
    `log_path`; yielded once the log shows `ready` (30 s at most), stopped on exit."""
    with log_path.open(mode) as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            deadline = time.monotonic() + 30
            while ready not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, f"{' '.join(command[-3:])} did not start"
                time.sleep(poll)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def die_with_parent() -> None:
    """`preexec_fn` for helper processes (Celery workers): Linux sends them SIGTERM when the
    test process dies, even killed, so no orphan consumes the next run's messages."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def pytest_configure(config) -> None:
    """Transactional tests end with a flush (one TRUNCATE of every table). The session's
    Celery worker may still be finishing what an earlier test left (a retry, a Sleep's
    wake-up, a Flow-trigger evaluation), and PostgreSQL can pick the flush as the victim of
    the resulting deadlock: the flush is tried again, as the worker's own transactions
    are, instead of leaving the rows for the next test's setup to trip on."""
    import time

    from django.core.management.base import CommandError
    from django.db import OperationalError
    from django.test import TransactionTestCase

    teardown = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self) -> None:
        for attempt in range(5):
            try:
                return teardown(self)
            except (CommandError, OperationalError) as error:  # flush wraps the database's
                if not _deadlock(error) or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))

    TransactionTestCase._fixture_teardown = _fixture_teardown


def _deadlock(error: BaseException | None) -> bool:
    while error is not None:
        if "deadlock detected" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False
