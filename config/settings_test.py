"""Test overlay: the real PostgreSQL and Redis on loopback unless the environment says else."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://app:app@127.0.0.1:5432/app")
# One Redis database per xdist worker, so parallel test processes never take each other's
# Celery messages (gw0 → 15, gw1 → 14, ...).
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
os.environ.setdefault(
    "CELERY_BROKER_URL", f"redis://127.0.0.1:6379/{15 - int(_xdist[2:] or 0) % 8}"
)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
WHITENOISE_AUTOREFRESH = True
