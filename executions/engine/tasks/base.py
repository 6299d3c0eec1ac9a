"""The runnable-task plugin interface: `RunnableTask.run(ctx) -> TaskResult`.

A task implementation sees only its `TaskContext`: its properties (raw, or rendered through
the renderer), a logger that collects lines and masks secrets, the run variables, the clock,
an interruptible `sleep`, and two ports implemented outside the engine
(`executions.engine.ports`: `Storage` for `kestra://` files, `KVStore` for the namespace
key-value store). To fail, a task raises `TaskFailed` (its message is logged at ERROR, as
Kestra logs an exception's message).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from executions.engine.flow import TaskSpec
from executions.engine.model import Label, TaskRun
from executions.engine.ports import KVStore, Storage
from executions.engine.rendering import Templates
from executions.engine.sizes import truncate_line
from executions.engine.states import State

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
MASK = "********"
Clock = Callable[[], datetime]


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret in it replaced by `MASK`, the longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


class TaskFailed(Exception):
    """Raised by a task to end its attempt FAILED; the message is logged at ERROR."""


class TaskInterrupted(Exception):
    """The attempt was stopped from outside: killed, or past its `timeout`."""

    def __init__(self, message: str, state: State) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True, slots=True)
class LogLine:
    level: str
    message: str
    timestamp: datetime
    task_run_id: str | None = None
    task_id: str | None = None


class TaskLogger:
    """Collects log lines, each masked (secrets become `********`), cut to the size a log line
    may have (`sizes.MAX_LOG_LINE`) and dated by the clock."""

    def __init__(
        self,
        clock: Clock,
        mask: Callable[[str], str] = lambda text: text,
        *,
        task_run_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        self.lines: list[LogLine] = []
        self._clock = clock
        self._mask = mask
        self._task_run_id = task_run_id
        self._task_id = task_id

    def log(self, level: str, message: Any, *, dropped: int = 0) -> None:
        """Log `message`; `dropped` bytes of it were already left out by its reader."""
        level = "WARN" if level == "WARNING" else level
        text = truncate_line(self._mask(str(message)), dropped)
        self.lines.append(LogLine(level, text, self._clock(), self._task_run_id, self._task_id))

    def trace(self, message: Any) -> None:
        self.log("TRACE", message)

    def debug(self, message: Any) -> None:
        self.log("DEBUG", message)

    def info(self, message: Any) -> None:
        self.log("INFO", message)

    def warn(self, message: Any) -> None:
        self.log("WARN", message)

    def error(self, message: Any) -> None:
        self.log("ERROR", message)


@dataclass(frozen=True)
class TaskResult:
    """The end of one attempt: its state, its outputs, labels for the execution."""

    state: State = State.SUCCESS
    outputs: Mapping[str, Any] = field(default_factory=dict)
    labels: tuple[Label, ...] = ()


@dataclass
class TaskContext:
    """Everything one attempt of one task may use."""

    task: TaskSpec
    task_run: TaskRun
    variables: Mapping[str, Any]
    templates: Templates
    logger: TaskLogger
    clock: Clock
    sleeper: Callable[[float], None]
    storage: Storage | None = None
    kv: KVStore | None = None
    deadline: datetime | None = None
    timeout: timedelta | None = None
    cancelled: Callable[[], bool] = lambda: False

    @property
    def namespace(self) -> str:
        return str(self.variables.get("flow", {}).get("namespace", ""))

    def prop(self, name: str, default: Any = None) -> Any:
        """The property as written in the flow (not rendered)."""
        value = self.task.properties.get(name)
        return default if value is None else value

    def render(self, value: Any) -> Any:
        """A string rendered; a map or list rendered recursively; anything else as is."""
        if isinstance(value, str):
            return self.templates.render(value)
        if isinstance(value, Mapping | list):
            return self.templates.render_value(value)
        return value

    def rendered(self, name: str, default: Any = None) -> Any:
        """The property rendered (recursively for maps and lists)."""
        value = self.task.properties.get(name)
        return default if value is None else self.render(value)

    def check_interrupted(self) -> None:
        """Raise `TaskInterrupted` when killed or past the timeout."""
        if self.cancelled():
            raise TaskInterrupted("The task was killed", State.KILLED)
        if self.deadline is not None and self.clock() >= self.deadline:
            raise TaskInterrupted(timeout_message(self.timeout), State.FAILED)

    def sleep(self, seconds: float) -> None:
        """Wait, in steps of at most one second, stopping when killed or timed out."""
        end = self.clock() + timedelta(seconds=seconds)
        while True:
            self.check_interrupted()
            left = (end - self.clock()).total_seconds()
            if left <= 0:
                return
            step = min(left, 1.0)
            if self.deadline is not None:
                step = min(step, max((self.deadline - self.clock()).total_seconds(), 0.0))
            self.sleeper(step)
            if step == 0:
                self.check_interrupted()


def timeout_message(timeout: timedelta | None) -> str:
    """Kestra's `TimeoutExceededException` text: `Timeout after H:mm:ss.SSS`."""
    millis = int((timeout or timedelta(0)) / timedelta(milliseconds=1))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"Timeout after {hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


class RunnableTask:
    """Base of task implementations; `type` is the canonical type name it implements."""

    type: ClassVar[str]

    def run(self, ctx: TaskContext) -> TaskResult:
        raise NotImplementedError
