"""`flow test`: run one flow file in this process, with in-memory storage and KV, and give
the execution in Kestra's JSON shape with its logs. Pure: no database, broker or server.

The flows its Subflow and ForEachItem tasks start come from a directory of flow files
(`FlowDirectory`, by namespace and id; the flow under test stands for its own id). Each
child execution runs in this process too, to its end, and appears in the document under
`subflowExecutions` (its JSON, its own logs, and its own children): the exit code speaks for
the parent only, the children say why.

Exit codes (what CI pipelines of flow authors read): 0 when the execution ends SUCCESS or
WARNING, 1 when it ends FAILED, KILLED or CANCELLED, 2 when the flow or an input is invalid,
or the flows directory cannot be used (nothing runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from executions.engine.flow import FlowSpec, load_flow
from executions.engine.inputs import FileUpload, resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import new_id
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.runner import RunResult, run_flow
from executions.engine.states import State
from executions.engine.subflows import SubflowError, not_found
from flows.spec import validate_flow_source
from flows.spec.yaml_loader import split_documents
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
    document: dict[str, Any] | None  # the execution JSON plus "logs" and "subflowExecutions"
    problems: list[Violation]
    warnings: list[Violation] = field(default_factory=list)


@dataclass
class FlowDirectory:
    """The flows of the YAML files under a directory, by `(namespace, id)`, for the Subflow
    and ForEachItem tasks of a local run. A file that is not a valid flow is reported in
    `warnings` (`path` is the file, `line` the problem's) and starting it fails the task
    with its first problem; a `(namespace, id)` found in two files is in `errors`, and the
    run does not start."""

    sources: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    invalid: dict[tuple[str, str], str] = field(default_factory=dict)
    warnings: list[Violation] = field(default_factory=list)
    errors: list[Violation] = field(default_factory=list)
    _loaded: dict[tuple[str, str], FlowSpec] = field(default_factory=dict)

    @classmethod
    def read(
        cls, directory: str | Path, *, own: tuple[str, str, str] | None = None
    ) -> FlowDirectory:
        """Every `.yml`/`.yaml` file under `directory` (each YAML document of a file).
        `own` is the flow under test, `(path, namespace, id)`: its own file in the
        directory is no duplicate of it, and it stands for its id."""
        found = cls()
        root = Path(directory)
        if not root.is_dir():
            found.errors.append(Violation("--flows-dir", f"{directory} is not a directory"))
            return found
        own_path = str(Path(own[0]).resolve()) if own else None
        where: dict[tuple[str, str], str] = {}
        if own is not None:
            where[(own[1], own[2])] = own[0]
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml")):
            if own_path is not None and str(path.resolve()) == own_path:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                found.warnings.append(Violation(str(path), f"cannot read: {error}"))
                continue
            for document in split_documents(text) or [text]:
                found._add(str(path), document, where)
        return found

    def _add(self, path: str, source: str, where: dict[tuple[str, str], str]) -> None:
        checked = validate_flow_source(source)
        if checked.namespace is None or checked.flow_id is None:
            problem = checked.violations[0] if checked.violations else None
            message = problem.message if problem else "not a flow: no namespace and id"
            self.warnings.append(Violation(path, message, problem.line if problem else None))
            return
        key = (str(checked.namespace), str(checked.flow_id))
        if key in where:
            self.errors.append(
                Violation(
                    path, f"Flow {key[0]}.{key[1]} is defined twice: in {where[key]} and {path}"
                )
            )
            return
        where[key] = path
        if not checked.valid:
            first = checked.violations[0]
            self.invalid[key] = f"{path}: {first}"
            for problem in checked.violations:
                self.warnings.append(Violation(path, str(problem), problem.line))
            return
        self.sources[key] = (path, source)

    def lookup(self, namespace: str, flow_id: str, revision: int | None) -> FlowSpec:
        """The flow to start (files have one revision: `revision` is not checked)."""
        key = (namespace, flow_id)
        if key in self.invalid:
            raise SubflowError(f"Cannot execute an invalid flow: {self.invalid[key]}")
        if key not in self._loaded:
            if key not in self.sources:
                raise not_found(namespace, flow_id, revision)
            self._loaded[key] = load_flow(self.sources[key][1])
        return self._loaded[key]

    def with_own(self, flow: FlowSpec) -> FlowDirectory:
        """The flow under test stands for its own id."""
        self._loaded[(flow.namespace, flow.id)] = flow
        return self


def _render_default(template: str, variables: Mapping[str, Any]) -> Any:
    return expressions_renderer(variables).render_typed(template)


def run_flow_file(
    source: str,
    raw_inputs: Mapping[str, str],
    *,
    flows_dir: str | Path | None = None,
    path: str | Path | None = None,
) -> LocalRun:
    """Validate `source` (read from `path`, if it is a file), type `raw_inputs` (KEY=VALUE
    strings; a FILE input's value is a local path), run the flow to its end, with the flows
    of `flows_dir` for its subflows, and describe it."""
    checked = validate_flow_source(source)
    if not checked.valid:
        return LocalRun(EXIT_INVALID, None, checked.violations)
    flow = load_flow(source)
    directory = FlowDirectory()
    if flows_dir is not None:
        own = (str(path), flow.namespace, flow.id) if path is not None else None
        directory = FlowDirectory.read(flows_dir, own=own)
        if directory.errors:
            return LocalRun(EXIT_INVALID, None, directory.errors, directory.warnings)
    directory.with_own(flow)
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
            flows=directory.lookup,
        )
    except RenderError as error:  # an input default or a label that cannot render
        return LocalRun(EXIT_INVALID, None, [Violation("", str(error))], directory.warnings)
    code = EXIT_OK if result.execution.current in OK_STATES else EXIT_FAILED
    return LocalRun(code, describe(result), [], directory.warnings)


def describe(result: RunResult) -> dict[str, Any]:
    """The execution's JSON with its `logs` and, when it started any, its
    `subflowExecutions` (each described the same way)."""
    document = result.execution.to_kestra_json()
    document["logs"] = [
        {
            "taskId": line.task_id,
            "taskRunId": line.task_run_id,
            "level": line.level,
            "message": line.message,
            "timestamp": line.timestamp.isoformat(),
        }
        for line in result.logs
    ]
    if result.children:
        document["subflowExecutions"] = [describe(child) for child in result.children]
    return document


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
