"""Flowable handlers by canonical task type: the engine's `resolveNexts`/`resolveState`.

Adding a flowable is one handler class and one line in `HANDLERS`.
"""

from __future__ import annotations

from executions.engine.flowables.base import (
    Child,
    ChildRuns,
    FlowableContext,
    FlowableError,
    FlowableHandler,
    Outcome,
    Started,
)
from executions.engine.flowables.branching import If, Switch
from executions.engine.flowables.loops import EachParallel, EachSequential, ForEach
from executions.engine.flowables.sequence import (
    AllowFailure,
    Dag,
    ForEachItem,
    Parallel,
    Sequential,
)
from executions.engine.flowables.waits import Pause, WaitFor

_CORE = "io.kestra.plugin.core.flow."

HANDLERS: dict[str, FlowableHandler] = {
    _CORE + "Sequential": Sequential(),
    _CORE + "AllowFailure": AllowFailure(),
    _CORE + "Parallel": Parallel(),
    _CORE + "If": If(),
    _CORE + "Switch": Switch(),
    _CORE + "ForEach": ForEach(),
    _CORE + "EachSequential": EachSequential(),
    _CORE + "EachParallel": EachParallel(),
    _CORE + "Dag": Dag(),
    _CORE + "ForEachItem": ForEachItem(),
    _CORE + "Pause": Pause(),
    _CORE + "WaitFor": WaitFor(),
}


def handler_for(task_type: str) -> FlowableHandler | None:
    """The handler of a canonical flowable type, or None when the engine lacks one."""
    return HANDLERS.get(task_type)


__all__ = [
    "HANDLERS",
    "Child",
    "ChildRuns",
    "FlowableContext",
    "FlowableError",
    "FlowableHandler",
    "Outcome",
    "Started",
    "handler_for",
]
