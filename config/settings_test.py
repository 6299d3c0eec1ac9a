"""Test overlay: the real PostgreSQL and Redis on loopback unless the environment says else."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://app:app@127.0.0.1:5432/app")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
WHITENOISE_AUTOREFRESH = True
