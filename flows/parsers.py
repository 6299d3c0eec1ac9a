"""DRF parser for YAML request bodies: the raw text, size-capped, never parsed here.

Parsing happens in the flow spec, which keeps line numbers; this only guards the size and
the encoding so that a huge or binary body is a clear 413/422, not a 500.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.parsers import BaseParser

from tenants.errors import PayloadTooLarge, Unprocessable


def max_source_bytes() -> int:
    return int(settings.AVIARY["MAX_FLOW_SOURCE_BYTES"])


def read_capped(stream: Any, limit: int) -> bytes:
    """Read at most `limit` bytes; one more means the body is too large."""
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return data


def decode_source(data: bytes, *, name: str = "body") -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unprocessable(f"{name} is not UTF-8 text (byte {error.start})") from None
    if "\x00" in text:
        raise Unprocessable(f"{name} contains a NUL character")
    return text


class YamlTextParser(BaseParser):
    media_type = "application/x-yaml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> str:
        request = (parser_context or {}).get("request")
        limit = max_source_bytes()
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        return decode_source(read_capped(stream, limit))


class YamlAliasParser(YamlTextParser):
    """The other names clients use for YAML."""

    media_type = "application/yaml"


class TextYamlParser(YamlTextParser):
    media_type = "text/yaml"


YAML_PARSERS = [YamlTextParser, YamlAliasParser, TextYamlParser]


def yaml_body(request: Any) -> str:
    """The YAML text of a request. An empty body reaches DRF as `{}`, which is an empty flow
    (and a clear 422 from validation), not a crash."""
    data = request.data
    return data if isinstance(data, str) else ""
