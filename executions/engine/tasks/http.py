"""`http.Request`: call an HTTP endpoint with httpx; outputs `uri`, `code`, `headers` (a map of
lists) and `body` (text, absent when the response has none).

As in Kestra 0.20: `method` GET by default; a `body` without `contentType` is sent as
`application/json`; `formData` is url-encoded unless `contentType` is
`multipart/form-data` (then a `kestra://` value, or a `{name, content}` map whose content is
a `kestra://` URI, is sent as a file); a status of 400 or more fails the task unless
`allowFailed`; redirects are followed unless `options.followRedirects` is false;
`options.readTimeout` defaults to 10 s and `options.maxContentLength` to 10 MiB. The
attempt's `timeout` bounds the whole call, and a kill stops it between two chunks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult
from executions.engine.tasks.limits import Budget
from executions.engine.tasks.storage import read_file
from flows.spec.formats import duration_value

DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _seconds(raw: Any, name: str) -> float | None:
    if raw is None:
        return None
    duration = duration_value(raw)
    if duration is None or duration < timedelta(0):
        raise TaskFailed(f"Invalid options.{name} '{raw}': expected an ISO-8601 duration")
    return duration.total_seconds()


@dataclass(frozen=True)
class Options:
    connect_timeout: float
    read_timeout: float
    max_content_length: int
    follow_redirects: bool
    charset: str
    proxy: str | None
    auth: tuple[str, str] | None
    verify: bool


def _proxy(options: Mapping[str, Any], render: Any) -> str | None:
    kind = str(options.get("proxyType") or "DIRECT").upper()
    address, port = options.get("proxyAddress"), options.get("proxyPort")
    if kind == "DIRECT" or address is None or port is None:
        return None
    scheme = {"HTTP": "http", "SOCKS": "socks5"}.get(kind)
    if scheme is None:
        raise TaskFailed(f"Invalid options.proxyType '{kind}'")
    credentials = ""
    if options.get("proxyUsername") is not None:
        credentials = str(render(options["proxyUsername"]))
        if options.get("proxyPassword") is not None:
            credentials += ":" + str(render(options["proxyPassword"]))
        credentials += "@"
    return f"{scheme}://{credentials}{render(str(address))}:{int(port)}"


def read_options(ctx: TaskContext, method: str) -> Options:
    options = ctx.prop("options") or {}
    if not isinstance(options, Mapping):
        raise TaskFailed("Invalid options: expected a map")
    ssl = ctx.prop("sslOptions") or {}
    read = _seconds(options.get("readTimeout"), "readTimeout") or DEFAULT_READ_TIMEOUT
    connect = _seconds(options.get("connectTimeout"), "connectTimeout") or read
    max_length = options.get("maxContentLength")
    max_length = DEFAULT_MAX_CONTENT_LENGTH if max_length is None else int(max_length)
    user, password = options.get("basicAuthUser"), options.get("basicAuthPassword")
    auth = None
    if user is not None and password is not None:
        auth = (str(ctx.render(str(user))), str(ctx.render(str(password))))
    return Options(
        connect_timeout=connect,
        read_timeout=read,
        max_content_length=2**63 if method == "HEAD" else max_length,
        follow_redirects=_flag(options.get("followRedirects"), True),
        charset=str(options.get("defaultCharset") or "UTF-8"),
        proxy=_proxy(options, ctx.render),
        auth=auth,
        verify=not _flag(ssl.get("insecureTrustAllCertificates"), False),
    )


def _file_name(uri: str) -> str:
    return urlsplit(uri).path.rsplit("/", 1)[-1] or "file"


def _multipart(ctx: TaskContext, form: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for raw_key, value in form.items():
        key = str(ctx.render(str(raw_key)))
        if isinstance(value, str):
            rendered = str(ctx.render(value))
            if rendered.startswith("kestra://"):
                files[key] = (_file_name(rendered), read_file(ctx, rendered))
            else:
                data[key] = rendered
        elif isinstance(value, Mapping) and "name" in value and "content" in value:
            name = str(ctx.render(str(value["name"])))
            files[key] = (name, read_file(ctx, str(ctx.render(str(value["content"])))))
        else:
            data[key] = json.dumps(ctx.render(value), separators=(",", ":"))
    return {"data": data, "files": files or None}


def _form_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_form_value(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def request_arguments(ctx: TaskContext, charset: str) -> dict[str, Any]:
    """httpx arguments for the body and the headers of the request."""
    content_type = ctx.rendered("contentType")
    headers: dict[str, str] = {}
    arguments: dict[str, Any] = {}
    form = ctx.prop("formData")
    body = ctx.prop("body")
    if form is not None:
        if not isinstance(form, Mapping):
            raise TaskFailed("Invalid formData: expected a map")
        if content_type is not None and str(content_type).lower().startswith(MULTIPART):
            arguments.update(_multipart(ctx, form))
            content_type = None  # httpx writes it with the boundary
        else:
            rendered = ctx.render(dict(form))
            arguments["data"] = {str(k): _form_value(v) for k, v in rendered.items()}
            headers["Content-Type"] = FORM
    elif body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
        arguments["content"] = str(ctx.render(text)).encode(charset)
        headers["Content-Type"] = "application/json"
    if content_type is not None:
        headers["Content-Type"] = str(content_type)
    for name, value in (ctx.prop("headers") or {}).items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        headers[str(name)] = str(ctx.render(text))
    arguments["headers"] = headers
    return arguments


def _read(response: httpx.Response, limit: int, budget: Budget) -> bytes:
    """The decoded body, checking the kill and the timeout between chunks."""
    too_long = f"The received length exceeds the maximum allowed content length [{limit}]"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TaskFailed(too_long)
    body = bytearray()
    for chunk in response.iter_bytes():
        budget.check()
        body += chunk
        if len(body) > limit:
            raise TaskFailed(too_long)
    return bytes(body)


def _headers(response: httpx.Response) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode("latin-1")
        key = names.setdefault(name.lower(), name)
        headers.setdefault(key, []).append(raw_value.decode("latin-1"))
    return headers


def _text(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise TaskFailed(
            f"Illegal unicode code point in request body (charset {charset}), the Request task "
            "only support valid Unicode strings as body.\n"
            "You can try using the Download task instead."
        ) from None


class Request(RunnableTask):
    type = "io.kestra.plugin.core.http.Request"

    def run(self, ctx: TaskContext) -> TaskResult:
        uri = str(ctx.rendered("uri") or "")
        method = str(ctx.prop("method") or "GET").upper()
        if method == "CUSTOM":
            raise TaskFailed("The CUSTOM HTTP method is not supported: name a standard method")
        if _flag(ctx.rendered("encryptBody"), False):
            raise TaskFailed("encryptBody is not supported: no encryption key is configured")
        allow_failed = _flag(ctx.rendered("allowFailed"), False)
        options = read_options(ctx, method)
        arguments = request_arguments(ctx, options.charset)
        budget = Budget(ctx)
        budget.check()
        left = budget.left()
        cap = (lambda seconds: seconds) if left is None else (lambda seconds: min(seconds, left))
        timeout = httpx.Timeout(
            connect=cap(options.connect_timeout),
            read=cap(options.read_timeout),
            write=cap(options.read_timeout),
            pool=cap(options.read_timeout),
        )
        try:
            client = httpx.Client(
                timeout=timeout,
                follow_redirects=options.follow_redirects,
                verify=options.verify,
                proxy=options.proxy,
                auth=options.auth,
                trust_env=False,
            )
        except ImportError as error:  # a SOCKS proxy needs the optional socksio package
            raise TaskFailed(f"Unsupported proxy: {error}") from None
        try:
            with client, client.stream(method, uri, **arguments) as response:
                data = _read(response, options.max_content_length, budget)
        except httpx.TimeoutException as error:
            if budget.expired():
                raise budget.timed_out() from None
            raise TaskFailed(f"Timeout calling '{uri}': {error or type(error).__name__}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise TaskFailed(f"Invalid uri '{uri}': {error}") from None
        except httpx.ConnectError as error:
            raise TaskFailed(f"Connect Error: {error or type(error).__name__}") from None
        except httpx.HTTPError as error:
            detail = str(error) or type(error).__name__
            raise TaskFailed(f"The request to '{uri}' failed: {detail}") from None
        code = response.status_code
        if code >= 400 and not allow_failed:
            raise TaskFailed(
                f"Failed http request with response code '{code}' ({response.reason_phrase})"
            )
        outputs: dict[str, Any] = {"uri": uri, "code": code, "headers": _headers(response)}
        if data:
            outputs["body"] = _text(data, response.charset_encoding or options.charset)
        ctx.logger.debug(f"Request '{uri}' with the response code '{code}'")
        return TaskResult(outputs=outputs)
