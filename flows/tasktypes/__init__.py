"""Registered task, trigger and condition types (pure Python, no Django).

`registry` is the single instance everything uses. Each module listed in `_MODULES` exposes a
`TYPES` list; adding a type means adding one entry to one of those lists.
"""

from __future__ import annotations

from flows.tasktypes import conditions, core, flowables, scripts, triggers
from flows.tasktypes.registry import TaskType, TaskTypeRegistry

_MODULES = (core, flowables, scripts, triggers, conditions)

registry = TaskTypeRegistry(task_type for module in _MODULES for task_type in module.TYPES)

__all__ = ["TaskType", "TaskTypeRegistry", "registry"]
