"""Runnable task implementations. Adding one: a module defining a `RunnableTask` subclass
whose `type` is the canonical type name, and one entry in `IMPLEMENTATIONS`."""

from __future__ import annotations

from executions.engine.tasks import (
    debug,
    fail,
    for_each_item,
    http,
    kv,
    labels,
    log,
    output,
    scripts,
    sleep,
    storage,
)
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
    kv.Set,
    kv.Get,
    kv.GetKeys,
    kv.Delete,
    http.Request,
    storage.Delete,
    storage.Size,
    storage.Concat,
    scripts.ShellCommands,
    scripts.ShellScript,
    scripts.PythonCommands,
    scripts.PythonScript,
    for_each_item.ForEachItemSplit,
    for_each_item.ForEachItemMergeOutputs,
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
