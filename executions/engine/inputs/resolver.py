"""Resolution of an execution's inputs, after Kestra 0.20's `FlowInputOutput#resolveInputs`.

For each declared input, in declaration order but each after the inputs its `dependsOn` names:

1. An input is enabled when every input it depends on is enabled and its `dependsOn.condition`
   (if any) renders to `true`; a disabled input is left out of the values.
2. SELECT/MULTISELECT `expression` is rendered with the inputs resolved so far; its list
   replaces `values`.
3. The submitted value is taken, else `defaults` (a templated default is rendered the same way).
4. Nothing and `required` (the default) is a violation; nothing and optional gives `None`.
5. The value is parsed to the type, then checked against the definition's constraints.

Every input is examined: the violations of all of them come back together, one per input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from executions.engine.inputs.choices import (
    CHOICE_TYPES,
    choices_from_expression,
    declared_choices,
)
from executions.engine.inputs.convert import Target, check_value, is_blank, parse_value
from executions.engine.inputs.definitions import InputDefinition, read_definitions
from executions.engine.inputs.model import (
    FileSink,
    FileUpload,
    InputResolution,
    InputValueError,
    Render,
    nest_values,
)
from executions.engine.inputs.temporal import definition_duration
from executions.engine.rendering import RenderError
from flows.spec.formats import is_expression
from tenants.errors import Violation

MASK = "********"
MAX_SHOWN = 200
"""Characters of a submitted value quoted in a message."""


class _Outcome(Enum):
    VALUE = "value"
    SKIPPED = "skipped"
    INVALID = "invalid"


def resolve_inputs(
    definitions: Iterable[Mapping[str, Any]],
    provided: Mapping[str, Any],
    *,
    render: Render | None = None,
    files: FileSink | None = None,
    now: datetime | None = None,
    path: str = "inputs",
) -> InputResolution:
    """Type and validate `provided` against the input `definitions` of a flow (or of a
    Pause's `onResume`, with `path="onResume"`).

    `provided` maps input ids to strings (forms, multipart, CLI) or typed JSON values (API,
    Subflow); a FILE input takes a `FileUpload` or a `kestra:///` URI. `render(template,
    variables)` evaluates `dependsOn.condition`, `expression` and templated `defaults`, with
    `variables = {"inputs": <the inputs resolved so far, nested>}`; the caller's renderer adds
    whatever else its context holds (flow, execution); a `RenderError` it raises becomes that
    input's violation. Without a renderer, templated defaults stay
    literal (as in Kestra 0.20) and a condition or expression is a violation. `files` stores
    uploads. `now` is accepted for the callers' convenience; no 0.20 input rule reads the clock.

    Never raises for bad values: see `InputResolution.violations` (or `raise_if_invalid`).
    """
    del now  # part of the interface; typing and validation do not depend on the time
    return _Resolver(list(definitions), provided, render, files, path).run()


class _Resolver:
    def __init__(
        self,
        definitions: list[Any],
        provided: Mapping[str, Any],
        render: Render | None,
        files: FileSink | None,
        path: str,
    ) -> None:
        self.definitions, problems = read_definitions(definitions)
        self.by_id = {definition.id: definition for definition in self.definitions}
        self.provided = provided
        self.render = render
        self.files = files
        self.path = path
        self.values: dict[str, Any] = {}
        self.outcomes: dict[str, _Outcome] = {}
        self.messages: dict[str, str] = {}
        self.visiting: list[str] = []
        self.current: Any = None
        self.definition_violations = [
            Violation(self._path(problem.key), problem.message) for problem in problems
        ]

    def run(self) -> InputResolution:
        for definition in self.definitions:
            self._resolve(definition.id)
        order = [definition.id for definition in self.definitions]
        values = {key: self.values[key] for key in order if key in self.values}
        violations = self.definition_violations + [
            Violation(self._path(key), self.messages[key]) for key in order if key in self.messages
        ]
        return InputResolution(
            values=values,
            violations=violations,
            secret_ids=[d.id for d in self.definitions if d.type == "SECRET" and d.id in values],
            unknown=[key for key in self.provided if key not in self.by_id],
            skipped=[key for key in order if self.outcomes.get(key) is _Outcome.SKIPPED],
        )

    def _path(self, key: str) -> str:
        return f"{self.path}{key}" if key.startswith("[") else f"{self.path}.{key}"

    def _resolve(self, input_id: str) -> None:
        if input_id in self.outcomes:
            return
        if input_id in self.visiting:
            self._fail_cycle(self.visiting[self.visiting.index(input_id) :])
            return
        definition = self.by_id[input_id]
        self.visiting.append(input_id)
        for dependency in definition.depends_on:
            if dependency != input_id and dependency in self.by_id:
                self._resolve(dependency)
        self.visiting.pop()
        if input_id in self.outcomes:  # it was part of a cycle
            return
        self.current = None
        try:
            self._evaluate(definition)
        except InputValueError as error:
            self._fail(definition, error)

    def _fail_cycle(self, cycle: list[str]) -> None:
        listed = ", ".join([*cycle, cycle[0]])
        for member in cycle:
            if member not in self.outcomes:
                error = InputValueError(f"cycle dependency detected: [{listed}]", about_value=False)
                self._fail(self.by_id[member], error)

    def _fail(self, definition: InputDefinition, error: InputValueError) -> None:
        message = f"Invalid input for `{definition.id}`, {error.reason}"
        if error.about_value:
            message += f", but received `{_shown(self.current, definition.type == 'SECRET')}`"
        self.messages[definition.id] = message
        self.outcomes[definition.id] = _Outcome.INVALID

    def _evaluate(self, definition: InputDefinition) -> None:
        if not self._is_enabled(definition):
            self.outcomes[definition.id] = _Outcome.SKIPPED
            return
        choices = self._choices(definition)
        value = self._given(definition)
        if value is None:
            if definition.required:
                raise InputValueError("missing required input")
            self._accept(definition, None)
            return
        self.current = value
        extension = definition.raw.get("extension")
        target = Target(
            definition.id, self.files, extension if isinstance(extension, str) else None
        )
        parsed = parse_value(definition, value, target)
        self._accept(definition, check_value(definition, parsed, choices, target))

    def _is_enabled(self, definition: InputDefinition) -> bool:
        """Enabled when every dependency is, and the condition (if any) renders to `true`."""
        dependencies = [d for d in definition.depends_on if d != definition.id]
        missing = [d for d in dependencies if d not in self.by_id]
        if missing:
            raise InputValueError(
                f"it depends on a non-existent input `{missing[0]}`", about_value=False
            )
        if any(self.outcomes[d] is _Outcome.SKIPPED for d in dependencies):
            return False
        invalid = [d for d in dependencies if self.outcomes[d] is _Outcome.INVALID]
        if invalid and (definition.condition or definition.expression):
            raise InputValueError(
                f"it cannot be checked because the input `{invalid[0]}` it depends on is invalid",
                about_value=False,
            )
        return definition.condition is None or self._condition_holds(definition.condition)

    def _accept(self, definition: InputDefinition, value: Any) -> None:
        self.values[definition.id] = value
        self.outcomes[definition.id] = _Outcome.VALUE

    def _given(self, definition: InputDefinition) -> Any:
        """The submitted value, else the default; None when there is neither."""
        value = self.provided.get(definition.id)
        if _absent(definition, value):
            value = definition.defaults
            if self.render is not None and is_expression(value):
                value = self._render(value, "its default")
            elif definition.type == "DURATION":
                value = definition_duration(value)
        return None if _absent(definition, value) else value

    def _condition_holds(self, condition: str) -> bool:
        """Kestra enables the input only when the condition renders to boolean `true`; a
        renderer that can only produce text gives "true"."""
        result = self._render(condition, "its dependsOn condition")
        return result is True or (isinstance(result, str) and result.strip().lower() == "true")

    def _choices(self, definition: InputDefinition) -> list[str] | None:
        if definition.type not in CHOICE_TYPES:
            return None
        if definition.expression is None:
            return declared_choices(definition.raw, definition.type)
        return choices_from_expression(self._render(definition.expression, "its `expression`"))

    def _render(self, template: str, what: str) -> Any:
        if self.render is None:
            raise InputValueError(f"{what} needs an expression renderer", about_value=False)
        variables = {"inputs": nest_values(self.values)}
        try:
            return self.render(template, variables)
        except RenderError as error:
            # The flow author's template failed (undefined variable, syntax, a function): that
            # input's problem, reported like Kestra's "Invalid condition: ...". Anything else
            # a renderer raises is a bug and propagates.
            raise InputValueError(
                f"{what} cannot be rendered: {error}", about_value=False
            ) from None


def _absent(definition: InputDefinition, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, FileUpload):
        return value.is_blank()
    return is_blank(definition.type, value)


def _shown(value: Any, secret: bool) -> str:
    """A submitted value as messages quote it: SECRET values never appear."""
    if secret and value is not None:
        return MASK
    if value is None:
        return "null"
    if isinstance(value, FileUpload):
        text = value.name
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
