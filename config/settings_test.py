"""Test overlay: the real PostgreSQL and Redis on loopback unless the environment says else."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://app:app@127.0.0.1:5432/app")

from config.settings import *  # noqa: F403

# One Redis database per xdist worker, so parallel test processes never take each other's
# Celery messages (gw0 → 15, gw1 → 14, ...). Computed here, not put in the environment: the
# xdist workers inherit the controller's environment. Two test runs at once on one machine
# need another base (AVIARY_TEST_REDIS_DB_BASE) and another DATABASE_URL.
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_base = int(os.environ.get("AVIARY_TEST_REDIS_DB_BASE", "15"))
CELERY_BROKER_URL = os.environ.get("AVIARY_TEST_BROKER_URL") or (
    f"redis://127.0.0.1:6379/{_base - int(_xdist[2:] or 0) % 8}"
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
WHITENOISE_AUTOREFRESH = True
