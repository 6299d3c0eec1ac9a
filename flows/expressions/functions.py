"""Every function of Kestra 0.20 (`Extension.getFunctions`) plus Pebble's `range`, `min`, `max`.

Functions that need the outside world (`kv`, `secret`, `read`, `fileSize`, `errorLogs`) call
the `services` object given to the render; without one they fail with "kv() is not available
here" rather than pretending. `read` and `fileSize` first apply Kestra's rule that an internal
storage URI must belong to the current execution (or, for a subflow, its parent's).
`fileURI` is pure (it only builds the namespace-file URI).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jinja2.runtime import Context
from jinja2.utils import missing

from flows.expressions import dates, runtime
from flows.expressions.errors import EvaluationError
from flows.expressions.ion import from_ion
from flows.expressions.kestra_filters import slugify
from flows.expressions.registry import FUNCTIONS, Spec, function_
from flows.expressions.state import RenderState

__all__ = ["Call"]

KESTRA_SCHEME = "kestra:///"


@dataclass
class Call:
    """What a function may look at: the template context, the environment, the render."""

    context: Context
    environment: Any
    state: RenderState

    def variable(self, name: str) -> Any:
        value = self.context.resolve_or_missing(name)
        return None if value is missing else value

    def flow(self, key: str) -> Any:
        flow = self.variable("flow")
        return flow.get(key) if isinstance(flow, Mapping) else None

    def service(self, function: str) -> Any:
        if self.state.services is None:
            raise EvaluationError(f"{function}() is not available here")
        return self.state.services


def _argument(function: str, args: dict, key: str, kind: type[str | dict] | None = str) -> Any:
    if key not in args:
        raise EvaluationError(f"The '{function}' function expects an argument '{key}'.")
    value = args[key]
    if kind is not None and value is not None and not isinstance(value, kind):
        raise EvaluationError(
            f"The '{function}' function expects an argument '{key}' with type"
            f" {'map' if kind is dict else 'string'}."
        )
    return value


@function_("now", "format", "timeZone", "existingFormat", "locale")
def _now(args: dict, call: Call) -> str:
    return dates.format_date(dt.datetime.now(dt.UTC), args)


@function_("fromJson", "json")
def _from_json(args: dict, call: Call) -> Any:
    text = _argument("fromJson", args, "json")
    if text is None:
        return None
    try:
        return json.loads(text, parse_constant=_bad)
    except ValueError as error:
        raise EvaluationError(f"Invalid json: {error}") from error


def _bad(name: str) -> Any:
    raise ValueError(f"unexpected token {name}")


FUNCTIONS["json"] = FUNCTIONS["fromJson"]  # deprecated alias kept by Kestra 0.20


class _YamlLoader(yaml.SafeLoader):
    """Jackson's YAML reading: timestamps stay strings, only true/false are booleans."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regex)
        for tag, regex in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@function_("yaml", "yaml")
def _yaml(args: dict, call: Call) -> Any:
    text = _argument("yaml", args, "yaml")
    if not isinstance(text, str):
        raise EvaluationError("The 'yaml' function expects an argument 'yaml' with type string.")
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise EvaluationError(f"Invalid yaml: {error}") from error


@function_("fromIon", "ion")
def _from_ion(args: dict, call: Call) -> Any:
    text = _argument("fromIon", args, "ion")
    return None if text is None else from_ion(text)


@function_("currentEachOutput", "outputs")
def _current_each_output(args: dict, call: Call) -> Any:
    outputs = _argument("currentEachOutput", args, "outputs", dict)
    if not isinstance(outputs, dict):
        raise EvaluationError(
            "The 'currentEachOutput' function expects an argument 'outputs' with type map."
        )
    parents = call.variable("parents")
    for parent in reversed(parents) if isinstance(parents, list) else ():
        taskrun = parent.get("taskrun") if isinstance(parent, dict) else None
        if isinstance(taskrun, dict) and isinstance(outputs, dict):
            outputs = outputs.get(taskrun.get("value"))
    taskrun = call.variable("taskrun")
    value = taskrun.get("value") if isinstance(taskrun, dict) else None
    return outputs.get(value) if isinstance(outputs, dict) else None


@function_("secret", "key")
def _secret(args: dict, call: Call) -> Any:
    key = _argument("secret", args, "key")
    value = call.service("secret").secret(call.flow("namespace"), key)
    if value is not None:
        call.state.secrets_seen.add(str(value))
    return value


@function_("kv", "key", "namespace", "errorOnMissing")
def _kv(args: dict, call: Call) -> Any:
    key = _argument("kv", args, "key")
    namespace = args.get("namespace") or call.flow("namespace")
    error_on_missing = args.get("errorOnMissing") is True
    value = call.service("kv").kv(namespace, key, error_on_missing)
    if value is None and error_on_missing:
        raise EvaluationError(f"The key '{key}' does not exist in the namespace '{namespace}'.")
    return value


def _belongs(uri: str, namespace: Any, flow_id: Any, execution_id: Any) -> bool:
    if not (namespace and flow_id and execution_id):
        return False
    base = f"{KESTRA_SCHEME}{str(namespace).replace('.', '/')}/{slugify(str(flow_id))}"
    return uri.startswith(f"{base}/executions/{execution_id}/")


def _check_execution_file(uri: str, call: Call) -> None:
    execution = call.variable("execution")
    trigger = call.variable("trigger")
    if _belongs(
        uri,
        call.flow("namespace"),
        call.flow("id"),
        execution.get("id") if isinstance(execution, dict) else None,
    ):
        return
    if isinstance(trigger, dict) and _belongs(
        uri, trigger.get("namespace"), trigger.get("flowId"), trigger.get("executionId")
    ):
        return
    raise EvaluationError(
        f"Unable to read the file '{uri}' as it didn't belong to the current execution"
    )


@function_("read", "path")
def _read(args: dict, call: Call) -> Any:
    if "path" not in args:
        raise EvaluationError(
            "The 'read' function expects an argument 'path' that is a path to"
            " a namespace file or an internal storage URI."
        )
    path = args["path"]
    if not isinstance(path, str):
        raise EvaluationError(f"Unable to read the file {path}")
    if path.startswith(KESTRA_SCHEME):
        _check_execution_file(path, call)
    return call.service("read").read(path)


@function_("fileURI", "path")
def _file_uri(args: dict, call: Call) -> str:
    path = _argument("fileURI", args, "path")
    if not isinstance(path, str):
        raise EvaluationError(
            "The 'fileURI' function expects an argument 'path' that is a path to a namespace file."
        )
    path = path.removeprefix("/")
    if "../" in path:
        raise EvaluationError("Path must not contain '../'")
    namespace = str(call.flow("namespace") or "").replace(".", "/")
    return f"{KESTRA_SCHEME}{namespace}/_files/{path}"


@function_("fileSize", "path")
def _file_size(args: dict, call: Call) -> Any:
    if "path" not in args:
        raise EvaluationError(
            "The 'fileSize' function expects an argument 'path' that is a path"
            " to the internal storage URI."
        )
    path = args["path"]
    if not (isinstance(path, str) and path.startswith(KESTRA_SCHEME)):
        raise EvaluationError(f"Unable to create the URI from the path {path}")
    _check_execution_file(path, call)
    return call.service("fileSize").file_size(path)


@function_("errorLogs")
def _error_logs(args: dict, call: Call) -> Any:
    return list(call.service("errorLogs").error_logs())


@function_("render", "toRender", "recursive")
def _render(args: dict, call: Call) -> Any:
    if "toRender" not in args:
        raise EvaluationError("The 'render' function expects an argument 'toRender'.")
    recursive = True if args.get("recursive") is None else args["recursive"]
    if not isinstance(recursive, bool):
        raise EvaluationError(
            "The 'render' function expects an optional argument 'recursive' with type boolean."
        )
    return call.environment.render_object(args["toRender"], call.context.get_all(), recursive)


@function_("renderOnce", "toRender")
def _render_once(args: dict, call: Call) -> Any:
    return _render({**args, "recursive": False}, call)


def _aes_key(key: Any) -> AESGCM:
    try:
        return AESGCM(base64.b64decode(str(key), validate=True))
    except (binascii.Error, ValueError) as error:
        raise EvaluationError(f"Invalid AES key: {error}") from error


@function_("encrypt", "key", "plaintext")
def _encrypt(args: dict, call: Call) -> Any:
    if "key" not in args or "plaintext" not in args:
        raise EvaluationError("The 'encrypt' function expects two arguments 'key' and 'plaintext'.")
    plaintext = args["plaintext"]
    if not plaintext:
        return plaintext
    iv = os.urandom(12)
    sealed = _aes_key(args["key"]).encrypt(iv, str(plaintext).encode(), None)
    return base64.b64encode(iv + sealed).decode()


@function_("decrypt", "key", "encrypted")
def _decrypt(args: dict, call: Call) -> Any:
    if "key" not in args or "encrypted" not in args:
        raise EvaluationError("The 'decrypt' function expects two arguments 'key' and 'encrypted'.")
    encrypted = args["encrypted"]
    if not encrypted:
        return encrypted
    try:
        raw = base64.b64decode(str(encrypted), validate=True)
        return _aes_key(args["key"]).decrypt(raw[:12], raw[12:], None).decode()
    except (binascii.Error, ValueError, InvalidTag) as error:
        raise EvaluationError("Unable to decrypt: wrong key or corrupted value") from error


@function_("fetchContext")
def _fetch_context(args: dict, call: Call) -> dict[str, Any]:
    return dict(call.context.get_all())


FUNCTIONS["printContext"] = FUNCTIONS["fetchContext"]


@function_("range", "start", "end", "increment")
def _range(args: dict, call: Call) -> list[Any]:
    return runtime.range_list(args.get("start"), args.get("end"), args.get("increment"))


def _extreme(args: dict, greater: bool) -> Any:
    best = None
    for index in range(len(args)):
        candidate = args[str(index)]
        if best is None or runtime.compare(">" if greater else "<", candidate, best):
            best = candidate
    return best


FUNCTIONS["max"] = Spec(lambda args, call: _extreme(args, True), None)
FUNCTIONS["min"] = Spec(lambda args, call: _extreme(args, False), None)
