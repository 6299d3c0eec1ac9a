"""What the expression language's outside-world functions (`kv()`, `secret()`, `read()`,
`fileSize()`, `errorLogs()`) reach, built from the engine's ports.

`flows.expressions` asks for an object with the methods of its `ExpressionServices`
protocol; `EngineServices` is that object over a `KVStore`, a `Storage`, a secret lookup and
a source of the execution's ERROR logs; it also carries `unseal`, which opens the SECRET
inputs the platform stored sealed (`sealed_inputs`). A missing port makes the function fail
with a clear message instead of pretending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from executions.engine.model import Execution, iso
from executions.engine.ports import KVStore, Storage
from executions.engine.tasks.base import LogLine

#: Kestra's `errorLogs()` returns at most this many entries, oldest first.
ERROR_LOGS_LIMIT = 25

SecretLookup = Callable[[str, str], str | None]


class ServiceUnavailable(RuntimeError):
    """A template used a function whose port this run does not have."""


@dataclass
class EngineServices:
    kv_store: KVStore | None = None
    storage: Storage | None = None
    secrets: SecretLookup | None = None
    errors: Callable[[], list[dict[str, Any]]] | None = None
    unseal: Callable[[str], str] | None = None

    def kv(self, namespace: str, key: str, error_on_missing: bool) -> Any:
        if self.kv_store is None:
            raise ServiceUnavailable("kv() is not available in this run")
        return self.kv_store.get(key, namespace)

    def secret(self, namespace: str, key: str) -> str | None:
        if self.secrets is None:
            raise ServiceUnavailable("secret() is not available in this run")
        return self.secrets(namespace, key)

    def read(self, uri_or_path: str) -> str:
        if self.storage is None:
            raise ServiceUnavailable("read() is not available in this run")
        return self.storage.get(uri_or_path).decode("utf-8")

    def file_size(self, uri: str) -> int:
        if self.storage is None:
            raise ServiceUnavailable("fileSize() is not available in this run")
        return len(self.storage.get(uri))

    def file_exists(self, uri: str) -> bool:
        return self.storage is not None and self.storage.exists(uri)

    def error_logs(self) -> list[dict[str, Any]]:
        return self.errors() if self.errors is not None else []


def error_log_entries(execution: Execution, lines: Iterable[LogLine]) -> list[dict[str, Any]]:
    """The execution's ERROR log lines as Kestra's `LogEntry` maps, oldest first, at most 25."""
    entries = []
    for line in lines:
        if line.level != "ERROR":
            continue
        entries.append(
            {
                "namespace": execution.namespace,
                "flowId": execution.flow_id,
                "taskId": line.task_id,
                "executionId": execution.id,
                "taskRunId": line.task_run_id,
                "attemptNumber": None,
                "triggerId": None,
                "timestamp": iso(line.timestamp),
                "level": line.level,
                "thread": None,
                "message": line.message,
            }
        )
        if len(entries) == ERROR_LOGS_LIMIT:
            break
    return entries
