"""`kv.Set`, `kv.Get`, `kv.GetKeys` and `kv.Delete`: the namespace key-value store, through
the `KVStore` port. The namespace defaults to the flow's (`{{ flow.namespace }}`).

`kv.Set` renders `value` typed (a single expression keeps its type: a number stays a
number, a map a map) and, with `kvType`, converts a string value as Kestra does (NUMBER
and JSON parse JSON, BOOLEAN is true only for "true", DATETIME, DATE and DURATION parse ISO
text). Error messages are Kestra's where it has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from executions.engine.ports import KVStore
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult
from flows.spec.formats import duration_value, is_expression, parse_duration
from tenants.errors import AviaryError
from tenants.kv_values import KEY_PATTERN, KEY_RULE, KV_TYPES

_PORT_ERRORS = (ValueError, LookupError, AviaryError)


def kv_store(ctx: TaskContext) -> KVStore:
    if ctx.kv is None:
        raise TaskFailed("The KV store is not available in this run")
    return ctx.kv


def _namespace(ctx: TaskContext) -> str:
    rendered = ctx.rendered("namespace")
    return str(rendered) if rendered not in (None, "") else ctx.namespace


def _key(ctx: TaskContext) -> str:
    key = ctx.rendered("key")
    if key is None or str(key) == "":
        raise TaskFailed("Key cannot be null or empty")
    key = str(key)
    if not KEY_PATTERN.fullmatch(key):
        raise TaskFailed(KEY_RULE)
    return key


def _flag(ctx: TaskContext, name: str, default: bool) -> bool:
    value = ctx.rendered(name, default)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _missing(key: str, namespace: str) -> str:
    return (
        f"No value found for key '{key}' in namespace '{namespace}' and `errorOnMissing` "
        "is set to true"
    )


def convert(value: Any, kv_type: str | None) -> Any:
    """A string value as `kv_type`; any other value (or no type) unchanged, as in Kestra."""
    if kv_type is None or not isinstance(value, str):
        return value
    kind = kv_type.upper()
    if kind not in KV_TYPES:
        raise TaskFailed(f"Invalid kvType '{kv_type}': expected one of {', '.join(KV_TYPES)}")
    try:
        if kind == "NUMBER":
            number = json.loads(value)
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError("not a number")
            return number
        if kind == "BOOLEAN":
            return value.strip().lower() == "true"
        if kind == "DATETIME":
            if "T" not in value.upper():
                raise ValueError("not an ISO date-time")
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "DATE":
            return date.fromisoformat(value)
        if kind == "DURATION":
            return parse_duration(value)
        if kind == "JSON":
            return json.loads(value)
    except ValueError as error:
        raise TaskFailed(f"Unable to convert '{value}' to {kind}: {error}") from None
    return value


def _value(ctx: TaskContext) -> Any:
    raw = ctx.task.properties.get("value")
    if isinstance(raw, str):
        return ctx.templates.render_typed(raw)
    if isinstance(raw, Mapping | list):
        return ctx.render(raw)
    return raw


def _ttl(ctx: TaskContext) -> timedelta | None:
    raw = ctx.prop("ttl")
    if raw is None:
        return None
    value = ctx.render(raw) if isinstance(raw, str) and is_expression(raw) else raw
    ttl = duration_value(value)
    if ttl is None:
        raise TaskFailed(f"Invalid ttl '{value}': expected an ISO-8601 duration such as PT1H")
    if ttl < timedelta(0):
        raise TaskFailed("ttl cannot be negative")
    return ttl


class Set(RunnableTask):
    type = "io.kestra.plugin.core.kv.Set"

    def run(self, ctx: TaskContext) -> TaskResult:
        namespace = _namespace(ctx)
        key = _key(ctx)
        value = convert(_value(ctx), ctx.rendered("kvType"))
        overwrite = _flag(ctx, "overwrite", True)
        ttl = _ttl(ctx)
        store = kv_store(ctx)
        exists_message = (
            f"Cannot set value for key '{key}'. Key already exists and `overwrite` is set "
            "to `false`."
        )
        if not overwrite and key in store.keys(key, namespace):
            raise TaskFailed(exists_message)
        try:
            store.set(key, value, namespace, ttl=ttl, overwrite=overwrite)
        except _PORT_ERRORS as error:
            if not overwrite and "exist" in str(error):
                raise TaskFailed(exists_message) from None
            raise TaskFailed(str(error)) from None
        return TaskResult()


class Get(RunnableTask):
    type = "io.kestra.plugin.core.kv.Get"

    def run(self, ctx: TaskContext) -> TaskResult:
        namespace = _namespace(ctx)
        key = _key(ctx)
        error_on_missing = _flag(ctx, "errorOnMissing", False)
        store = kv_store(ctx)
        try:
            value = store.get(key, namespace)
        except _PORT_ERRORS as error:
            raise TaskFailed(str(error)) from None
        if value is None and error_on_missing and key not in store.keys(key, namespace):
            raise TaskFailed(_missing(key, namespace))
        return TaskResult(outputs={"value": value})


class GetKeys(RunnableTask):
    type = "io.kestra.plugin.core.kv.GetKeys"

    def run(self, ctx: TaskContext) -> TaskResult:
        namespace = _namespace(ctx)
        prefix = ctx.rendered("prefix")
        try:
            keys = kv_store(ctx).keys(str(prefix or ""), namespace)
        except _PORT_ERRORS as error:
            raise TaskFailed(str(error)) from None
        return TaskResult(outputs={"keys": list(keys)})


class Delete(RunnableTask):
    type = "io.kestra.plugin.core.kv.Delete"

    def run(self, ctx: TaskContext) -> TaskResult:
        namespace = _namespace(ctx)
        key = _key(ctx)
        error_on_missing = _flag(ctx, "errorOnMissing", False)
        try:
            deleted = bool(kv_store(ctx).delete(key, namespace))
        except _PORT_ERRORS as error:
            raise TaskFailed(str(error)) from None
        if error_on_missing and not deleted:
            raise TaskFailed(_missing(key, namespace))
        return TaskResult(outputs={"deleted": deleted})
