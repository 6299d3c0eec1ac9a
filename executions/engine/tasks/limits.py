"""The time an attempt has left, for tasks that wait on the outside world (a process, a
socket) rather than on `TaskContext.sleep`."""

from __future__ import annotations

import time

from executions.engine.states import State
from executions.engine.tasks.base import TaskContext, TaskInterrupted, timeout_message

KILLED_MESSAGE = "The task was killed"


class Budget:
    """`ctx.deadline` read once against the engine's clock, then counted on the monotonic
    clock: real waiting is bounded even when the engine's clock is a manual one."""

    def __init__(self, ctx: TaskContext) -> None:
        self.ctx = ctx
        self.end: float | None = None
        if ctx.deadline is not None:
            left = (ctx.deadline - ctx.clock()).total_seconds()
            self.end = time.monotonic() + max(left, 0.0)

    def left(self) -> float | None:
        """Seconds left (never negative), or None without a timeout."""
        return None if self.end is None else max(self.end - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def timed_out(self) -> TaskInterrupted:
        return TaskInterrupted(timeout_message(self.ctx.timeout), State.FAILED)

    def killed(self) -> TaskInterrupted:
        return TaskInterrupted(KILLED_MESSAGE, State.KILLED)

    def check(self) -> None:
        """Raise `TaskInterrupted` when the attempt was killed or has no time left."""
        if self.ctx.cancelled():
            raise self.killed()
        if self.expired():
            raise self.timed_out()
        self.ctx.check_interrupted()
