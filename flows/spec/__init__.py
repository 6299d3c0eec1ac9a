"""The flow specification: parse a Kestra 0.20 flow's YAML and say everything wrong with it.

Pure Python (no Django): the API, the CLI and the engine call the same functions.

- `validate_flow_source(text)` never raises for bad input; it returns a `FlowValidation`.
- `parse_flow(text)` returns the same, or raises `FlowSpecError` listing every violation.
- `flow_labels(data)` reads `labels:` in either of Kestra's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.spec.report import Report, position_of
from flows.spec.schema import type_name
from flows.spec.validation import FlowChecker
from flows.spec.yaml_loader import YamlLoadError, load_yaml_document
from tenants.errors import FlowSpecError, Violation

__all__ = ["FlowValidation", "flow_labels", "parse_flow", "validate_flow_source"]


@dataclass(frozen=True)
class FlowValidation:
    """The outcome of checking one flow document. `data` is plain JSON-ready data (None when
    the text is not a YAML mapping); `violations` are errors sorted by line, `warnings` are
    deprecations that do not stop the flow from being saved."""

    source: str
    data: dict[str, Any] | None
    violations: list[Violation]
    warnings: list[Violation]
    flow_id: str | None
    namespace: str | None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return not self.violations

    def line_of(self, path: str) -> int | None:
        """Line of a dotted path such as `tasks[0].type`, or of its closest written parent."""
        return position_of(self.positions, path)[0]


def _sorted(violations: list[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: (v.line is None, v.line or 0))


def validate_flow_source(source: str) -> FlowValidation:
    """Check one YAML document and return every problem; never raises for bad input."""
    if not isinstance(source, str):
        problem = Violation("", f"A flow must be YAML text, got {type_name(source)}")
        return FlowValidation(str(source), None, [problem], [], None, None)
    try:
        loaded = load_yaml_document(source)
    except YamlLoadError as error:
        return FlowValidation(source, None, _sorted(error.problems), [], None, None)
    report = Report(loaded.positions)
    report.extend(loaded.problems)
    data = loaded.data
    if not isinstance(data, dict):
        what = "an empty document" if data is None else type_name(data)
        report.error("", f"A flow must be a YAML mapping with id, namespace and tasks, got {what}")
        return FlowValidation(
            source, None, _sorted(report.violations), [], None, None, loaded.positions
        )
    FlowChecker(data, report).run()
    flow_id, namespace = data.get("id"), data.get("namespace")
    return FlowValidation(
        source=source,
        data=data,
        violations=_sorted(report.violations),
        warnings=_sorted(report.warnings),
        flow_id=flow_id if isinstance(flow_id, str) else None,
        namespace=namespace if isinstance(namespace, str) else None,
        positions=loaded.positions,
    )


def parse_flow(source: str) -> FlowValidation:
    """Like `validate_flow_source`, but a flow with any violation raises `FlowSpecError`."""
    result = validate_flow_source(source)
    if result.violations:
        first, count = result.violations[0], len(result.violations)
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        raise FlowSpecError(
            f"Invalid flow: {first}{more}", field=first.path or None, violations=result.violations
        )
    return result


def flow_labels(data: dict[str, Any] | None) -> list[dict[str, str]]:
    """`[{"key", "value"}]` from `labels:` written as a map or as a list of {key, value};
    values become strings the way Kestra prints them (booleans as true/false)."""
    labels = data.get("labels") if isinstance(data, dict) else None
    if isinstance(labels, dict):
        pairs = list(labels.items())
    elif isinstance(labels, list):
        pairs = [(item.get("key"), item.get("value")) for item in labels if isinstance(item, dict)]
    else:
        return []
    return [
        {"key": str(key), "value": _label_text(value)} for key, value in pairs if key is not None
    ]


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
