"""Runnable task implementations. Adding one: a module defining a `RunnableTask` subclass
whose `type` is the canonical type name, and one entry in `IMPLEMENTATIONS`."""

from __future__ import annotations

from executions.engine.tasks import debug, fail, labels, log, output, sleep
from executions.engine.tasks.base import (
    KVStore,
    LogLine,
    RunnableTask,
    Storage,
    TaskContext,
    TaskFailed,
    TaskInterrupted,
    TaskLogger,
    TaskResult,
)
from executions.engine.tasks.registry import TaskRegistry

IMPLEMENTATIONS: tuple[type[RunnableTask], ...] = (
    log.Log,
    debug.Return,
    debug.Echo,
    output.OutputValues,
    sleep.Sleep,
    fail.Fail,
    labels.Labels,
)

tasks = TaskRegistry(IMPLEMENTATIONS)

__all__ = [
    "IMPLEMENTATIONS",
    "KVStore",
    "LogLine",
    "RunnableTask",
    "Storage",
    "TaskContext",
    "TaskFailed",
    "TaskInterrupted",
    "TaskLogger",
    "TaskRegistry",
    "TaskResult",
    "tasks",
]
