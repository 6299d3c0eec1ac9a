"""YAML text to plain data, remembering where every node was written.

PyYAML's own constructors forget positions, accept duplicate keys silently and expand aliases
without limit, so the flow validator composes the node graph and builds the data itself:
positions for error messages, duplicate keys as problems (Kestra parses flows with strict
duplicate detection), an alias budget against "billion laughs", and timestamps kept as the text
the user wrote (Kestra's YAML reader never turns them into dates, and the data must be JSON).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from flows.spec.paths import index_path, key_path
from tenants.errors import Violation

MAX_ALIAS_NODES = 10_000
"""Nodes that may be produced by expanding aliases; beyond that the document is refused."""

MAX_DEPTH = 200
"""Nesting depth of mappings and lists; real flows stay far below."""

_CLoader = getattr(yaml, "CSafeLoader", None)
_TAG = "tag:yaml.org,2002:"
_SEPARATOR = re.compile(r"---[ \t]*(#.*)?(\r?\n|\r)?")
_CONTENT = re.compile(r"[ \t]*(#.*)?(\r?\n|\r)?")
_scalars = SafeConstructor()

Positions = dict[str, tuple[int, int]]


class YamlLoadError(ValueError):
    """Text that is not usable YAML: a syntax error, an alias bomb, excessive nesting or (when
    asked for strictness) a duplicate key. Carries the 1-based line and column."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        *,
        path: str = "",
        problems: list[Violation] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path
        self.problems = list(problems or [Violation(path, message, line, column)])

    @property
    def violation(self) -> Violation:
        return Violation(self.path, self.message, self.line, self.column)


@dataclass
class LoadedYaml:
    """One document: the data, the (line, column) of every path and the problems (duplicate
    keys, unsupported tags) that still let the rest of the document be read."""

    data: Any
    positions: Positions = field(default_factory=dict)
    problems: list[Violation] = field(default_factory=list)


def load_yaml_document(text: str) -> LoadedYaml:
    """Parse one YAML document; recoverable problems are returned, fatal ones raised."""
    node = _compose(text)
    if node is None:
        return LoadedYaml(data=None, positions={})
    builder = _Builder()
    data = builder.build(node, "", 0, False)
    return LoadedYaml(data=data, positions=builder.positions, problems=builder.problems)


def load_yaml_with_positions(text: str) -> tuple[Any, Positions]:
    """Strict load: `(data, {path: (line, column)})`, or `YamlLoadError` with a line and column
    for any problem, duplicate keys included."""
    loaded = load_yaml_document(text)
    if loaded.problems:
        first = loaded.problems[0]
        raise YamlLoadError(
            first.message, first.line, first.column, path=first.path, problems=loaded.problems
        )
    return loaded.data, loaded.positions


def split_documents(text: str) -> list[str]:
    """Split a multi-document stream on `---` lines into the exact text of each non-empty
    document. A single document comes back as `[text]`, blank text as `[]`."""
    documents: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if _SEPARATOR.fullmatch(line):
            documents.append("".join(current))
            current = []
        else:
            current.append(line)
    documents.append("".join(current))
    return [document for document in documents if _has_content(document)]


def _has_content(document: str) -> bool:
    return any(
        not _CONTENT.fullmatch(line) and line.strip() != "..."
        for line in document.splitlines(keepends=True)
    )


def _compose(text: str) -> yaml.Node | None:
    """Compose with libyaml when present (fast); on error, ask the pure-Python parser again
    because its messages are clearer ("mapping values are not allowed here")."""
    try:
        return yaml.compose(text, Loader=_CLoader or yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise _syntax_error(text, error) from None
    except RecursionError:
        raise YamlLoadError(f"YAML document is nested more than {MAX_DEPTH} levels") from None


def _syntax_error(text: str, error: yaml.YAMLError) -> YamlLoadError:
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        char = error.character
        code = f"#x{ord(char):04x}" if isinstance(char, str) else f"#x{char:02x}"
        return YamlLoadError(
            f"Invalid YAML: unacceptable character {code}: {error.reason}", line, column
        )
    if _CLoader is not None:
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as clearer:
            error = clearer
        except RecursionError:
            pass
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"Invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return YamlLoadError(message)
    return YamlLoadError(message, mark.line + 1, mark.column + 1)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self) -> None:
        self.positions: Positions = {}
        self.problems: list[Violation] = []
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.expanded = 0

    def build(self, node: yaml.Node, path: str, depth: int, via_alias: bool) -> Any:
        if depth > MAX_DEPTH:
            line, column = _position(node)
            raise YamlLoadError(
                f"YAML document is nested more than {MAX_DEPTH} levels", line, column, path=path
            )
        identity = id(node)
        if identity in self.active:
            line, column = _position(node)
            raise YamlLoadError(
                "YAML alias refers to itself (recursive structure)", line, column, path=path
            )
        if identity in self.seen:
            via_alias = True
        self.seen.add(identity)
        if via_alias:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_NODES:
                line, column = _position(node)
                raise YamlLoadError(
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes; "
                    "write the values out instead",
                    line,
                    column,
                    path=path,
                )
        if not path:
            self.positions.setdefault("", _position(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        self.active.add(identity)
        try:
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node, path, depth, via_alias)
            return self.mapping(node, path, depth, via_alias)
        finally:
            self.active.discard(identity)

    def sequence(self, node: yaml.SequenceNode, path: str, depth: int, via_alias: bool) -> list:
        self.check_tag(node, "seq", path)
        items = []
        for index, child in enumerate(node.value):
            child_path = index_path(path, index)
            self.positions.setdefault(child_path, _position(child))
            items.append(self.build(child, child_path, depth + 1, via_alias))
        return items

    def mapping(self, node: yaml.MappingNode, path: str, depth: int, via_alias: bool) -> dict:
        self.check_tag(node, "map", path)
        result: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
        merges: list[tuple[yaml.Node, str]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merges.append((value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                line, column = _position(key_node)
                self.problems.append(
                    Violation(
                        path, "Mapping keys must be plain values, not lists or maps", line, column
                    )
                )
                continue
            key = _key_text(self.scalar(key_node, path))
            child_path = key_path(path, key)
            line, column = _position(key_node)
            if key in first_lines:
                self.problems.append(
                    Violation(
                        child_path,
                        f"Duplicate key '{key}' (first defined on line {first_lines[key]})",
                        line,
                        column,
                    )
                )
            else:
                first_lines[key] = line
                self.positions.setdefault(child_path, (line, column))
            result[key] = self.build(value_node, child_path, depth + 1, via_alias)
        for value_node, merge_path in merges:
            self.merge(result, value_node, merge_path, depth, via_alias)
        return result

    def merge(self, result: dict, node: yaml.Node, path: str, depth: int, via_alias: bool) -> None:
        """`<<: *defaults` — explicit keys win over merged ones, as YAML 1.1 says."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            value = self.build(source, path, depth + 1, via_alias)
            if not isinstance(value, dict):
                line, column = _position(source)
                self.problems.append(
                    Violation(path, "A merge key '<<' needs a mapping", line, column)
                )
                continue
            for key, item in value.items():
                result.setdefault(key, item)

    def check_tag(self, node: yaml.Node, kind: str, path: str) -> None:
        if node.tag != _TAG + kind:
            line, column = _position(node)
            self.problems.append(
                Violation(path, f"Unsupported YAML tag '{node.tag}'", line, column)
            )

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        tag = node.tag
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return _scalars.construct_yaml_bool(node)
        if tag == _TAG + "int":
            return _scalars.construct_yaml_int(node)
        if tag == _TAG + "float":
            number = _scalars.construct_yaml_float(node)
            return number if math.isfinite(number) else node.value
        if tag == _TAG + "timestamp":
            return node.value
        line, column = _position(node)
        self.problems.append(Violation(path, f"Unsupported YAML tag '{tag}'", line, column))
        return node.value


def _key_text(value: Any) -> str:
    """Mapping keys become strings, as Kestra's JSON model has them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
