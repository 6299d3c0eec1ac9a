"""Task implementations by canonical type name; legacy aliases resolve through
`flows.tasktypes.registry`, so `io.kestra.core.tasks.log.Log` finds the Log task."""

from __future__ import annotations

from collections.abc import Iterable

from executions.engine.tasks.base import RunnableTask
from flows.tasktypes import registry as type_registry


class TaskRegistry:
    def __init__(self, implementations: Iterable[type[RunnableTask]] = ()) -> None:
        self._tasks: dict[str, RunnableTask] = {}
        for implementation in implementations:
            self.register(implementation)

    def register(self, implementation: type[RunnableTask]) -> type[RunnableTask]:
        name = implementation.type
        known = type_registry.get(name)
        if known is not None and known.name != name:
            raise ValueError(f"{name} is an alias; register {known.name} instead")
        if name in self._tasks:
            raise ValueError(f"Task type {name} is implemented twice")
        self._tasks[name] = implementation()
        return implementation

    def get(self, type_name: str) -> RunnableTask | None:
        known = type_registry.get(type_name)
        return self._tasks.get(known.name if known is not None else type_name)

    def names(self) -> list[str]:
        return sorted(self._tasks)
