"""How the web server and the Celery worker run, shared by `manage.py up` and the
benchmarks (which measure them as shipped). No Django import: `manage.py bench` reads it
before Django is set up.

gunicorn's threaded workers: two processes for the two cores the smallest machine has, and
enough threads per process that open event streams (`.../follow`, the execution page), each
holding a thread while it waits on Redis, leave threads for ordinary requests.
"""

from __future__ import annotations

import sys

WORKERS = 2
THREADS = 16


def gunicorn_command(bind: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        bind,
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--access-logfile",
        "-",
    ]


def describe() -> str:
    return f"gunicorn config.wsgi, {WORKERS} workers x {THREADS} threads, access log on"


def celery_worker_command(name: str, concurrency: int = 2, *extra: str) -> list[str]:
    """The worker of both queues (`executor`, `worker`), INFO logs; `extra` options last."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "executor,worker",
        "-c",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        name,
        *extra,
    ]
