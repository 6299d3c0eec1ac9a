"""Celery tasks of triggers: evaluate Flow triggers as soon as transitions are committed
(the scheduler's sweep catches whatever a lost message leaves)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aviary.evaluate_flow_triggers", queue="executor", acks_late=True)
def evaluate_flow_triggers() -> int:
    from triggers.flow_triggers import transitions_drain

    return transitions_drain()
