"""Settings: embedded defaults that need no server, and production's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 50


def _load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG"}
    }
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings", "AVIARY_DATA_DIR": str(tmp_path), **env}
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_needs_no_server_by_default(tmp_path):
    result = _load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    engine, broker, email = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert email.endswith("console.EmailBackend")


def test_it_runs_sqlite_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "AVIARY_DATA_DIR": str(tmp_path)})
    tmp_path.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": STRONG_KEY, "DEBUG": "true"}, "DEBUG must be off in production"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"SECRET_KEY": STRONG_KEY, "DEBUG": "perhaps"}, "DEBUG must be true or false"),
    ],
)
def test_it_refuses_unsafe_production_settings(tmp_path, env, message):
    result = _load_settings(tmp_path, AVIARY_ENVIRONMENT="production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_it_starts_in_production_with_a_real_key(tmp_path):
    result = _load_settings(tmp_path, AVIARY_ENVIRONMENT="production", SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AVIARY_FOLLOW_MAX_SECONDS": "0"}, "AVIARY_FOLLOW_MAX_SECONDS must be at least 1"),
        ({"AVIARY_FOLLOW_HEARTBEAT_SECONDS": "-5"}, "AVIARY_FOLLOW_HEARTBEAT_SECONDS must be"),
        (
            {"AVIARY_EVENTS_REDIS_URL": "http://user:hunter2@cache:6379/0"},
            "AVIARY_EVENTS_REDIS_URL must be a redis://, rediss:// or unix:// URL",
        ),
    ],
)
def test_it_refuses_event_stream_settings_that_would_not_work(tmp_path, env, message):
    result = _load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "hunter2" not in result.stderr
