"""What a list of actions means for the loop around `decide` (the in-process runner and the
Celery executor): did anything change, and when must the execution be looked at again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from executions.engine.actions import Action, EmitLog, WakeUp
from executions.engine.model import Execution
from executions.engine.states import State


def progressed(actions: Iterable[Action]) -> bool:
    """Anything beyond log lines and wake-up requests: deciding again may do more."""
    return any(not isinstance(action, EmitLog | WakeUp) for action in actions)


def next_wake(execution: Execution, actions: Iterable[Action]) -> datetime | None:
    """The earliest requested wake-up or retry date, if any."""
    dates = [action.at for action in actions if isinstance(action, WakeUp)]
    dates += [
        task_run.wake_at
        for task_run in execution.task_runs
        if task_run.current is State.RETRYING and task_run.wake_at is not None
    ]
    return min(dates) if dates else None


def task_id_of(execution: Execution, task_run_id: str | None) -> str | None:
    if task_run_id is None:
        return None
    return next((r.task_id for r in execution.task_runs if r.id == task_run_id), None)
