"""`flow test`: run one flow file in this process, with in-memory storage and KV, and give
the execution in Kestra's JSON shape with its logs. Pure: no database, broker or server.

Exit codes (what CI pipelines of flow authors read): 0 when the execution ends SUCCESS or
WARNING, 1 when it ends FAILED, KILLED or CANCELLED, 2 when the flow or an input is invalid
(nothing runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from executions.engine.flow import load_flow
from executions.engine.inputs import FileUpload, resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import new_id
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.runner import run_flow
from executions.engine.states import State
from flows.spec import validate_flow_source
from tenants.errors import Violation

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
OK_STATES = {State.SUCCESS, State.WARNING}


@dataclass
class MemoryStorage:
    """Internal storage of one local run: `kestra:///` URIs to bytes."""

    files: dict[str, bytes] = field(default_factory=dict)

    def put(self, name: str, data: bytes) -> str:
        uri = name if name.startswith("kestra://") else f"kestra:///{name.lstrip('/')}"
        self.files[uri] = data
        return uri

    def get(self, uri: str) -> bytes:
        if uri not in self.files:
            raise FileNotFoundError(f"No file at {uri}")
        return self.files[uri]

    def exists(self, uri: str) -> bool:
        return uri in self.files

    def delete(self, uri: str) -> bool:
        return self.files.pop(uri, None) is not None


@dataclass
class MemoryKV:
    """The KV store of one local run, per namespace (starts empty)."""

    namespace: str
    values: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, key: str, namespace: str | None = None) -> Any:
        return self.values.get((namespace or self.namespace, key))

    def set(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> None:
        slot = (namespace or self.namespace, key)
        if not overwrite and slot in self.values:
            raise ValueError(f"The key '{key}' already exists")
        self.values[slot] = value

    def delete(self, key: str, namespace: str | None = None) -> bool:
        return self.values.pop((namespace or self.namespace, key), None) is not None

    def keys(self, prefix: str = "", namespace: str | None = None) -> list[str]:
        wanted = namespace or self.namespace
        return sorted(k for ns, k in self.values if ns == wanted and k.startswith(prefix))


@dataclass(frozen=True)
class LocalRun:
    exit_code: int
    document: dict[str, Any] | None  # the execution JSON plus "logs"
    problems: list[Violation]


def _render_default(template: str, variables: Mapping[str, Any]) -> Any:
    return expressions_renderer(variables).render_typed(template)


def run_flow_file(source: str, raw_inputs: Mapping[str, str]) -> LocalRun:
    """Validate `source`, type `raw_inputs` (KEY=VALUE strings; a FILE input's value is a
    local path), run the flow to its end and describe it."""
    checked = validate_flow_source(source)
    if not checked.valid:
        return LocalRun(EXIT_INVALID, None, checked.violations)
    flow = load_flow(source)
    execution_id = new_id()
    storage = MemoryStorage()
    definitions = list((checked.data or {}).get("inputs") or [])
    provided = _provided(definitions, raw_inputs)
    if isinstance(provided, list):
        return LocalRun(EXIT_INVALID, None, provided)
    resolution = resolve_inputs(
        definitions,
        provided,
        render=_render_default,
        files=ExecutionInputFiles(storage, flow.namespace, flow.id, execution_id),
    )
    if resolution.violations:
        return LocalRun(EXIT_INVALID, None, resolution.violations)
    try:
        result = run_flow(
            flow,
            resolution.nested(),
            storage=storage,
            kv=MemoryKV(flow.namespace),
            execution_id=execution_id,
        )
    except RenderError as error:  # an input default or a label that cannot render
        return LocalRun(EXIT_INVALID, None, [Violation("", str(error))])
    execution, logs = result
    document = execution.to_kestra_json()
    document["logs"] = [
        {
            "taskId": line.task_id,
            "taskRunId": line.task_run_id,
            "level": line.level,
            "message": line.message,
            "timestamp": line.timestamp.isoformat(),
        }
        for line in logs
    ]
    code = EXIT_OK if execution.current in OK_STATES else EXIT_FAILED
    return LocalRun(code, document, [])


def _provided(
    definitions: list[dict[str, Any]], raw: Mapping[str, str]
) -> dict[str, Any] | list[Violation]:
    """FILE inputs name a local file: read it; every other value stays text."""
    file_ids = {
        str(d.get("id") or d.get("name")) for d in definitions if str(d.get("type")) == "FILE"
    }
    provided: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        if key in file_ids and not value.startswith("kestra://"):
            path = Path(value)
            try:
                provided[key] = FileUpload(path.name, path.read_bytes())
            except OSError as error:
                problems.append(Violation(f"inputs.{key}", f"cannot read {value}: {error}"))
        else:
            provided[key] = value
    return problems or provided
