"""Helpers for the expression tests: plain functions, no database, no Django."""

from __future__ import annotations

from typing import Any

from flows.expressions import RenderContext, render


class FakeServices:
    """An in-memory `ExpressionServices`: a KV store, secrets, files and error logs."""

    def __init__(self) -> None:
        self.kv_store: dict[tuple[str, str], Any] = {("company.team", "my-key"): {"field": "value"}}
        self.secrets = {"MY_SECRET": "s3cr3t-value"}
        self.files = {
            "kestra:///company/team/my-flow/executions/exec1/tasks/t/run1/out.txt": "file body",
            "data/readme.txt": "namespace file",
        }
        self.logs = [{"taskId": "fail", "message": "Task failure", "level": "ERROR"}]
        self.calls: list[tuple[str, ...]] = []

    def kv(self, namespace: str, key: str, error_on_missing: bool) -> Any:
        self.calls.append(("kv", namespace, key))
        return self.kv_store.get((namespace, key))

    def secret(self, namespace: str, key: str) -> str | None:
        self.calls.append(("secret", namespace, key))
        return self.secrets.get(key.upper())

    def read(self, uri_or_path: str) -> str:
        return self.files[uri_or_path]

    def file_size(self, uri: str) -> int:
        return len(self.files[uri].encode())

    def file_exists(self, uri: str) -> bool:
        return uri in self.files

    def error_logs(self) -> list[dict[str, Any]]:
        return list(self.logs)


FLOW_VARIABLES = {
    "flow": {"id": "my-flow", "namespace": "company.team", "tenantId": "acme"},
    "execution": {"id": "exec1"},
}


def r(template: str, **variables: Any) -> str:
    """Render `template` with `variables` and no services."""
    return render(template, RenderContext(variables))
