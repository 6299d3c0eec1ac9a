"""Input definitions as plain dicts (a flow's `inputs:` or a Pause's `onResume`), read into
the few fields resolution needs. `flows.spec` has already refused malformed flows; what is
still wrong here (definitions built by hand, an older revision) becomes a violation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.tasktypes.common import INPUT_TYPES as INPUT_TYPE_NAMES

INPUT_TYPES = frozenset(INPUT_TYPE_NAMES)  # one list, the validator's
TYPE_ALIASES = {"BOOL": "BOOLEAN"}
"""`BOOL` is not a Kestra 0.20 type; flows.spec warns and reads it as BOOLEAN, and so does this."""


@dataclass(frozen=True)
class InputDefinition:
    id: str
    type: str
    required: bool
    defaults: Any
    depends_on: tuple[str, ...]
    condition: str | None
    raw: Mapping[str, Any]

    @property
    def expression(self) -> str | None:
        if self.type in ("SELECT", "MULTISELECT"):
            expression = self.raw.get("expression")
            return expression if isinstance(expression, str) else None
        return None


@dataclass(frozen=True)
class DefinitionProblem:
    key: str
    message: str


def read_definitions(
    items: list[Any] | None,
) -> tuple[list[InputDefinition], list[DefinitionProblem]]:
    """Definitions in declaration order; a duplicate id keeps the first (as Kestra's map)."""
    definitions: list[InputDefinition] = []
    problems: list[DefinitionProblem] = []
    seen: set[str] = set()
    for index, item in enumerate(items or []):
        where = f"[{index}]"
        if not isinstance(item, Mapping):
            problems.append(DefinitionProblem(where, "an input definition must be a map"))
            continue
        input_id = item.get("id") if item.get("id") is not None else item.get("name")
        if not isinstance(input_id, str) or not input_id:
            problems.append(DefinitionProblem(where, "an input definition needs an `id`"))
            continue
        if input_id in seen:
            problems.append(
                DefinitionProblem(input_id, f"Invalid input for `{input_id}`, duplicate input id")
            )
            continue
        seen.add(input_id)
        raw_type = item.get("type")
        input_type = TYPE_ALIASES.get(raw_type, raw_type) if isinstance(raw_type, str) else None
        if input_type not in INPUT_TYPES:
            problems.append(
                DefinitionProblem(
                    input_id, f"Invalid input for `{input_id}`, unknown input type `{raw_type}`"
                )
            )
            continue
        definitions.append(_definition(item, input_id, input_type))
    return definitions, problems


def _definition(item: Mapping[str, Any], input_id: str, input_type: str) -> InputDefinition:
    depends = item.get("dependsOn") if isinstance(item.get("dependsOn"), Mapping) else {}
    names = depends.get("inputs") if isinstance(depends.get("inputs"), list) else []
    condition = depends.get("condition")
    return InputDefinition(
        id=input_id,
        type=input_type,
        required=_required(item.get("required")),
        defaults=item.get("defaults"),
        depends_on=tuple(name for name in names if isinstance(name, str)),
        condition=condition if isinstance(condition, str) and condition.strip() else None,
        raw=item,
    )


def _required(value: Any) -> bool:
    """`required` defaults to true (Input.java); Jackson would also read the text "false"."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return bool(value)
