"""Celery tasks run by the workers. The execution engine's tasks join them in its issue."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from accounts.services import api_token_purge, session_purge_expired

log = logging.getLogger("aviary.worker")


@shared_task(name="aviary.housekeeping")
def housekeeping() -> dict[str, int]:
    """Drop expired sessions and API tokens dead (revoked or expired) for 90 days."""
    sessions = session_purge_expired()
    tokens = api_token_purge(older_than=timedelta(days=90))
    log.info("housekeeping: %s expired session(s), %s dead API token(s) removed", sessions, tokens)
    return {"sessions": sessions, "tokens": tokens}
