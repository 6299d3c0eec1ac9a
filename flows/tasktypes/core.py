"""Runnable core tasks of Kestra 0.20 (`io.kestra.plugin.core.*`), with the legacy names each
class declares in its `@Plugin(aliases = ...)`."""

from __future__ import annotations

from flows.tasktypes.common import (
    LEVELS,
    anything,
    boolean,
    duration,
    enum,
    integer,
    labels,
    mapping,
    obj,
    string,
    string_or_list,
)
from flows.tasktypes.registry import task

_NAMESPACE = string("Namespace of the key (default: the flow's namespace).")
HTTP_METHODS = (
    "CONNECT",
    "CUSTOM",
    "DELETE",
    "GET",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "POST",
    "PUT",
    "TRACE",
)

HTTP_OPTIONS = obj(
    {
        "connectTimeout": duration("Time allowed to connect."),
        "readTimeout": duration("Time allowed to read the response (default PT10S)."),
        "readIdleTimeout": duration("Idle time allowed while reading (default PT5M)."),
        "connectionPoolIdleTimeout": duration("Idle time of a pooled connection."),
        "maxContentLength": integer("Largest response body, in bytes.", minimum=0),
        "proxyType": enum(("DIRECT", "HTTP", "SOCKS"), "Proxy kind."),
        "proxyAddress": string("Proxy host."),
        "proxyPort": integer("Proxy port.", minimum=0),
        "proxyUsername": string("Proxy user."),
        "proxyPassword": string("Proxy password."),
        "defaultCharset": string("Charset used when the response names none (UTF-8)."),
        "followRedirects": boolean("Follow HTTP redirects (default true)."),
        "logLevel": enum(
            ("ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "NOT_SPECIFIED"),
            "HTTP client log level.",
        ),
        "basicAuthUser": string("Basic authentication user."),
        "basicAuthPassword": string("Basic authentication password."),
    },
    description="HTTP client options.",
)

_HTTP = {
    "uri": string("The URL to call."),
    "method": enum(HTTP_METHODS, "HTTP method (default GET)."),
    "body": string("Request body (rendered)."),
    "formData": mapping("Form fields, sent as multipart or url-encoded."),
    "contentType": string("Content-Type of the body."),
    "headers": mapping("Request headers.", {"type": ["string", "number", "boolean"]}),
    "options": HTTP_OPTIONS,
    "sslOptions": obj(
        {"insecureTrustAllCertificates": boolean("Trust every certificate.")},
        description="TLS options.",
    ),
}

TYPES = [
    task(
        "io.kestra.plugin.core.log.Log",
        "Log a message (or each message of a list) in the execution's logs.",
        {
            "message": string_or_list("The message(s) to log, rendered."),
            "level": enum(LEVELS, "Log level (default INFO)."),
        },
        required=("message",),
        aliases=("io.kestra.core.tasks.log.Log",),
    ),
    task(
        "io.kestra.plugin.core.debug.Return",
        "Render a template and return it as the output `value`.",
        {"format": string("The template to render.")},
        aliases=("io.kestra.core.tasks.debugs.Return",),
    ),
    task(
        "io.kestra.plugin.core.debug.Echo",
        "Log a rendered message (deprecated: use Log).",
        {
            "format": string("The message to log, rendered."),
            "level": enum(LEVELS, "Log level (default INFO)."),
        },
        required=("format",),
        aliases=("io.kestra.core.tasks.debugs.Echo",),
        deprecated=True,
    ),
    task(
        "io.kestra.plugin.core.output.OutputValues",
        "Expose the given values, rendered recursively, as the output `values`.",
        {"values": mapping("The values to output.")},
    ),
    task(
        "io.kestra.plugin.core.flow.Sleep",
        "Wait for a duration.",
        {"duration": duration("How long to wait (ISO-8601, e.g. PT5S).")},
        required=("duration",),
    ),
    task(
        "io.kestra.plugin.core.execution.Fail",
        "Fail the execution, always or when a condition is truthy.",
        {
            "condition": string("Fail only when this renders to a truthy value."),
            "errorMessage": string("The error message (default 'Task failure')."),
        },
        aliases=("io.kestra.core.tasks.executions.Fail",),
    ),
    task(
        "io.kestra.plugin.core.execution.Labels",
        "Add or overwrite labels of the current execution.",
        {
            "labels": {
                **labels("Labels as a map, a list of {key, value} or a JSON string."),
                "type": ["object", "array", "string"],
            },
        },
        required=("labels",),
        aliases=("io.kestra.core.tasks.executions.Labels",),
    ),
    task(
        "io.kestra.plugin.core.kv.Set",
        "Store a value in the namespace's key-value store.",
        {
            "key": string("The key."),
            "value": anything("The value, rendered with its type."),
            "namespace": _NAMESPACE,
            "overwrite": boolean("Replace an existing value (default true)."),
            "ttl": duration("Time to live of the value."),
            "kvType": enum(
                ("STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"),
                "Convert a string value to this type.",
            ),
        },
        required=("key", "value"),
    ),
    task(
        "io.kestra.plugin.core.kv.Get",
        "Read a value from the namespace's key-value store (output `value`).",
        {
            "key": string("The key."),
            "namespace": _NAMESPACE,
            "errorOnMissing": boolean("Fail when the key does not exist (default false)."),
        },
        required=("key",),
    ),
    task(
        "io.kestra.plugin.core.kv.GetKeys",
        "List the keys of the namespace's key-value store (output `keys`).",
        {"prefix": string("Only keys starting with this prefix."), "namespace": _NAMESPACE},
    ),
    task(
        "io.kestra.plugin.core.kv.Delete",
        "Delete a key from the namespace's key-value store (output `deleted`).",
        {
            "key": string("The key."),
            "namespace": _NAMESPACE,
            "errorOnMissing": boolean("Fail when the key does not exist (default false)."),
        },
        required=("key",),
    ),
    task(
        "io.kestra.plugin.core.http.Request",
        "Call an HTTP endpoint; outputs `code`, `headers` and `body`.",
        {
            **_HTTP,
            "allowFailed": boolean("Do not fail on a status of 400 or more."),
            "encryptBody": boolean("Store the response body encrypted."),
        },
        required=("uri",),
        aliases=("io.kestra.plugin.fs.http.Request",),
    ),
    task(
        "io.kestra.plugin.core.http.Download",
        "Download a file over HTTP into internal storage (output `uri`).",
        {
            **_HTTP,
            "failOnEmptyResponse": boolean("Fail when the body is empty (default true)."),
            "allowFailed": boolean("Do not fail on a status of 400 or more."),
        },
        required=("uri",),
        aliases=("io.kestra.plugin.fs.http.Download",),
    ),
    task(
        "io.kestra.plugin.core.storage.Delete",
        "Delete a file from internal storage.",
        {
            "uri": string("kestra:// URI of the file."),
            "errorOnMissing": boolean("Fail when the file does not exist (default false)."),
        },
        required=("uri",),
        aliases=("io.kestra.core.tasks.storages.Delete",),
    ),
    task(
        "io.kestra.plugin.core.storage.Size",
        "Size in bytes of a file in internal storage (output `size`).",
        {"uri": string("kestra:// URI of the file.")},
        required=("uri",),
        aliases=("io.kestra.core.tasks.storages.Size",),
    ),
    task(
        "io.kestra.plugin.core.storage.Concat",
        "Concatenate files of internal storage into one (output `uri`).",
        {
            "files": string_or_list("URIs to concatenate: a list or a JSON array string."),
            "separator": string("Text written between two files."),
            "extension": string("Extension of the result (default .tmp)."),
        },
        required=("files",),
        aliases=("io.kestra.core.tasks.storages.Concat",),
    ),
    task(
        "io.kestra.plugin.notifications.slack.SlackIncomingWebhook",
        "Send a message to a Slack incoming webhook.",
        {
            "url": string("The incoming webhook URL."),
            "payload": string("The JSON payload, rendered."),
            "options": obj(
                {
                    key: HTTP_OPTIONS["properties"][key]
                    for key in (
                        "connectTimeout",
                        "readTimeout",
                        "readIdleTimeout",
                        "connectionPoolIdleTimeout",
                        "maxContentLength",
                        "defaultCharset",
                    )
                },
                description="HTTP client options.",
            ),
        },
        required=("url",),
    ),
]
