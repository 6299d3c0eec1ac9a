"""What goes into input resolution and what comes out: uploads, the file sink, the result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from tenants.errors import Unprocessable, Violation

Render = Callable[[str, Mapping[str, Any]], Any]
"""Renders one template with the given variables (`{"inputs": {...}}`) and returns the typed
result, as Kestra's `renderTyped`: `{{ [1, 2] }}` gives a list, `{{ a == 'x' }}` a bool. A
template that cannot be rendered raises `executions.engine.rendering.RenderError`."""


@dataclass(frozen=True)
class FileUpload:
    """A file sent for a FILE input (a multipart part): its client-side name and content."""

    name: str
    data: bytes | BinaryIO
    size: int | None = None

    @property
    def known_size(self) -> int | None:
        if self.size is not None:
            return self.size
        if isinstance(self.data, bytes | bytearray):
            return len(self.data)
        return None

    def is_blank(self) -> bool:
        """An HTML form with no file chosen still sends a part: no name and no content."""
        return not self.name and not self.known_size


class FileSink(Protocol):
    """Where FILE inputs go: the execution's `inputs/` folder in the tenant's storage.

    `namespace_uri` is the `kestra:///` folder of the execution's namespace
    (`kestra:///company/team/`); an already-stored file given by URI must lie inside it.
    `store` saves the data and returns its URI,
    `kestra:///<namespace path>/<flow>/executions/<id>/inputs/<input id>/<filename>`; the
    filename it receives is already sanitized (a single safe path segment).
    """

    namespace_uri: str

    def store(self, input_id: str, filename: str, data: bytes | BinaryIO) -> str: ...


class InputValueError(Exception):
    """Why one input is invalid. `about_value` says whether the submitted value is to blame
    (the message then quotes it) or the input's definition or its dependencies."""

    def __init__(self, reason: str, *, about_value: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.about_value = about_value


@dataclass
class InputResolution:
    """The typed inputs of one execution, or everything wrong with the submitted ones.

    - `values`: input id -> typed, JSON-ready value, in declaration order. Every enabled input
      is present; an optional one left empty is `None` (Kestra keeps the key with null).
      Inputs disabled by `dependsOn` are absent and listed in `skipped`.
    - `violations`: one per invalid input, path `inputs.<id>`; empty when all is well.
    - `secret_ids`: ids of SECRET inputs in `values`; their values are still plain text, for
      the caller to encrypt at rest and to mask in logs.
    - `unknown`: submitted ids that no input declares (ignored, as Kestra does).
    """

    values: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    secret_ids: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def nested(self) -> dict[str, Any]:
        """`values` the way executions store and templates read them (`{{ inputs.a.b }}`)."""
        return nest_values(self.values)

    def raise_if_invalid(self) -> None:
        if self.violations:
            names = ", ".join(v.path.rsplit(".", 1)[-1] for v in self.violations)
            raise Unprocessable(
                f"Invalid inputs: {names}", field="inputs", violations=self.violations
            )


def nest_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted ids into nested maps (`a.b.c` -> `{"a": {"b": {"c": ...}}}`), as Kestra's
    `MapUtils.flattenToNestedMap` does. When both `a` and `a.b` are declared, `a` keeps its
    value and `a.b` stays a flat key beside it, so that no value is lost."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        *branch, leaf = key.split(".")
        prefixes = (".".join(branch[:n]) for n in range(1, len(branch) + 1))
        if any(prefix in values for prefix in prefixes):
            nested[key] = value
            continue
        node = nested
        for part in branch:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested
