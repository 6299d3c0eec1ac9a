"""Forms of the execution pages: the list's filter bar (kept in the URL) and the launch form,
generated from a flow's `inputs:`.

The launch form only gathers what was typed: the browser gets hints (required, type, pattern,
bounds), and the inputs are typed and validated by `execution_create`, the same rules as the
API; its violations come back to the fields they name."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from django import forms
from django.http import QueryDict
from django.utils.http import urlencode

from executions.engine.inputs import FileUpload
from executions.page_selectors import RANGES, STATES, ExecutionQuery
from flows.spec.formats import is_expression
from tenants.errors import Violation

RANGE_CHOICES = [
    ("all", "All time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
]
FIELD_PREFIX = "inputs."
"""Input fields are named by their violation path, `inputs.<id>`: no input id can collide
with the labels field or the CSRF token."""
_LOCAL_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")


def parse_labels(raw: str) -> list[tuple[str, str]]:
    """`key:value, key2:value2` as pairs; a ValidationError names the malformed item."""
    pairs = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise forms.ValidationError(f"Expected key:value, got '{item}'")
        pairs.append((key.strip(), value.strip()))
    return pairs


class ExecutionFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    namespace = forms.CharField(required=False, max_length=150, label="Namespace")
    flow_id = forms.CharField(required=False, max_length=100, label="Flow")
    state = forms.MultipleChoiceField(
        required=False, choices=[(s, s) for s in STATES], label="States"
    )
    labels = forms.CharField(
        required=False,
        max_length=1000,
        label="Labels",
        help_text="key:value, separated by commas (all must match)",
    )
    range = forms.ChoiceField(required=False, choices=RANGE_CHOICES, label="Time range")
    day = forms.DateField(
        required=False,
        label="Day",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Expected a date such as 2026-11-01"},
        help_text="started on this UTC day",
    )

    def clean_labels(self) -> tuple[tuple[str, str], ...]:
        return tuple(parse_labels(self.cleaned_data["labels"]))

    def to_query(self, **fixed: str) -> ExecutionQuery:
        """The query, with `fixed` filters (a flow's tab pins namespace and flow_id)."""
        data = self.cleaned_data
        return ExecutionQuery(
            q=data.get("q", "").strip(),
            namespace=fixed.get("namespace", data.get("namespace", "").strip()),
            flow_id=fixed.get("flow_id", data.get("flow_id", "").strip()),
            states=tuple(data.get("state") or ()),
            labels=data.get("labels", ()),
            since=RANGES[data.get("range") or "all"],
            day=data.get("day"),
        )

    def selected_states(self) -> list[str]:
        return list(self["state"].value() or [])


FILTER_KEYS = tuple(ExecutionFilterForm.base_fields)


def filter_query_string(params: QueryDict) -> str:
    """The filters in `params` as a query string in a fixed order, without paging or empty
    values: what a saved search keeps and what its link applies."""
    pairs = [
        (key, value)
        for key in FILTER_KEYS
        for value in params.getlist(key)
        if value.strip() and not (key == "range" and value == "all")
    ]
    return urlencode(pairs)


class SavedSearchForm(forms.Form):
    """The filter bar's "Save search": a name for the filters in `query` (the list's query
    string). `replace` comes from the "Replace it" button offered when the name is taken."""

    name = forms.CharField(
        max_length=100,
        label="Search name",
        error_messages={
            "required": "Give the search a name.",
            "max_length": "A name has at most %(limit_value)d characters (this one has "
            "%(show_value)d).",
        },
    )
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    replace = forms.BooleanField(required=False)


class MultiValueField(forms.Field):
    """Several values (a multiple select) passed on as they came: the engine checks them."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


class LaunchForm(forms.Form):
    """The inputs of one flow, then labels. Every input field is optional for Django: the
    execution service decides, so its messages (Kestra's) are the ones shown."""

    field_prefix = FIELD_PREFIX

    labels = forms.CharField(
        required=False,
        max_length=2000,
        label="Labels",
        help_text="key:value, separated by commas, e.g. team:data, env:prod",
        widget=forms.TextInput(attrs={"placeholder": "team:data, env:prod"}),
    )

    def __init__(self, definitions: Iterable[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = self.fields.pop("labels")
        self.input_types: dict[str, str] = {}
        for definition in definitions:
            if not isinstance(definition, Mapping):
                continue
            input_id = definition.get("id") or definition.get("name")
            if not isinstance(input_id, str) or not input_id:
                continue
            kind = str(definition.get("type") or "STRING").upper()
            kind = "BOOLEAN" if kind == "BOOL" else kind
            name = self.field_prefix + input_id
            self.fields[name] = input_field(definition, input_id, kind)
            self.input_types[name] = kind
        self.fields["labels"] = labels

    @property
    def has_files(self) -> bool:
        return "FILE" in self.input_types.values()

    def input_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.input_types]

    def clean_labels(self) -> list[tuple[str, str]]:
        return parse_labels(self.cleaned_data["labels"])

    def provided(self) -> dict[str, Any]:
        """What `execution_create` takes: input id -> text or FileUpload; fields left empty
        are left out, so defaults and `required` apply."""
        provided: dict[str, Any] = {}
        for name, kind in self.input_types.items():
            value = self.cleaned_data.get(name)
            input_id = name.removeprefix(self.field_prefix)
            if kind == "FILE":
                if value:
                    provided[input_id] = FileUpload(value.name, value.read(), value.size)
            elif isinstance(value, list):
                if value:
                    provided[input_id] = json.dumps(value)
            elif value not in (None, ""):
                if kind == "DATETIME" and _LOCAL_DATETIME.fullmatch(value):
                    value += "Z"  # the field says UTC; the engine wants a zone
                provided[input_id] = value
        return provided

    def add_violations(self, violations: Iterable[Violation]) -> None:
        """Each violation next to the field it names (`inputs.<id>`, `labels...`); the rest
        (a broken definition in the flow) above the form."""
        for violation in violations:
            if violation.path in self.fields:
                self.add_error(violation.path, violation.message)
            elif violation.path.startswith("labels"):
                self.add_error("labels", violation.message)
            else:
                self.add_error(None, str(violation))


class ResumeForm(LaunchForm):
    """The `onResume` inputs of a paused Pause task, fields named by their violation path
    (`onResume.<id>`); typed and validated by `execution_resume`, like the launch form's."""

    field_prefix = "onResume."

    def __init__(self, definitions: Iterable[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(definitions, *args, **kwargs)
        del self.fields["labels"]


def input_field(definition: Mapping[str, Any], input_id: str, kind: str) -> forms.Field:
    """The form field of one input, with the browser hints its definition allows."""
    default = definition.get("defaults")
    templated = is_expression(default)
    depends = isinstance(definition.get("dependsOn"), Mapping)
    required = _required(definition.get("required"))
    field = _typed_field(definition, kind, None if templated else default)
    field.required = False
    field.label = str(definition.get("displayName") or input_id)
    description = definition.get("description")
    field.help_text = str(description) if description else ""
    field.input_type = kind  # type: ignore[attr-defined]
    field.input_id = input_id  # type: ignore[attr-defined]
    field.input_required = required  # type: ignore[attr-defined]
    field.templated_default = default if templated else None  # type: ignore[attr-defined]
    attrs = field.widget.attrs
    if required and default is None and not depends:
        attrs["required"] = True
    if templated and "placeholder" not in attrs:
        attrs["placeholder"] = f"default: {default}"
    return field


def _typed_field(definition: Mapping[str, Any], kind: str, default: Any) -> forms.Field:
    if kind in ("STRING", "SECRET", "EMAIL", "URI", "DURATION"):
        return _text_field(definition, kind, default)
    if kind in ("INT", "FLOAT"):
        attrs: dict[str, Any] = {"step": "1" if kind == "INT" else "any"}
        for key in ("min", "max"):
            if definition.get(key) is not None:
                attrs[key] = str(definition[key])
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), initial=_text(default))
    if kind == "BOOLEAN":
        choices = [("", "—"), ("true", "true"), ("false", "false")]
        return forms.CharField(widget=forms.Select(choices=choices), initial=_text(default))
    if kind in ("SELECT", "ENUM", "MULTISELECT"):
        return _choice_field(definition, kind, default)
    if kind in ("DATETIME", "DATE", "TIME"):
        return _temporal_field(definition, kind, default)
    if kind == "FILE":
        extension = definition.get("extension")
        attrs = {"accept": extension} if isinstance(extension, str) and extension else {}
        return forms.FileField(widget=forms.FileInput(attrs=attrs))
    if kind == "ARRAY":
        widget = forms.Textarea(attrs={"rows": 3, "placeholder": '["a", "b"]'})
        return forms.CharField(strip=False, widget=widget, initial=_json_text(default))
    if kind == "JSON":
        widget = forms.Textarea(attrs={"rows": 4, "placeholder": '{"key": "value"}'})
        return forms.CharField(strip=False, widget=widget, initial=_json_text(default))
    if kind == "YAML":
        widget = forms.Textarea(attrs={"rows": 4, "placeholder": "key: value"})
        initial = (
            default
            if isinstance(default, str) or default is None
            else yaml.safe_dump(default, sort_keys=False)
        )
        return forms.CharField(strip=False, widget=widget, initial=initial)
    return forms.CharField(strip=False, initial=_text(default))


def _text_field(definition: Mapping[str, Any], kind: str, default: Any) -> forms.Field:
    attrs: dict[str, Any] = {}
    if kind in ("STRING", "SECRET"):
        validator = definition.get("validator")
        if isinstance(validator, str) and validator:
            attrs["pattern"] = validator
            attrs["title"] = f"Must match {validator}"
        for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
            if isinstance(definition.get(key), int):
                attrs[attr] = definition[key]
    if kind == "SECRET":
        attrs["autocomplete"] = "off"
        return forms.CharField(strip=False, widget=forms.PasswordInput(attrs=attrs))
    if kind == "EMAIL":
        return forms.CharField(widget=forms.EmailInput(attrs=attrs), initial=_text(default))
    if kind == "URI":
        attrs.update(inputmode="url", placeholder="https://example.com/data.csv")
    if kind == "DURATION":
        attrs["placeholder"] = "PT5M"
    return forms.CharField(strip=False, widget=forms.TextInput(attrs=attrs), initial=_text(default))


def _choice_field(definition: Mapping[str, Any], kind: str, default: Any) -> forms.Field:
    values = definition.get("values")
    if values is None and kind == "MULTISELECT":
        values = definition.get("options")
    literal = isinstance(values, list) and not definition.get("expression")
    if not literal or definition.get("allowCustomValue") is True:
        hint = '["a", "b"]' if kind == "MULTISELECT" else "a value"
        if literal:
            hint = ", ".join(_text(v) for v in values)
        widget = forms.TextInput(attrs={"placeholder": hint})
        initial = _json_text(default) if kind == "MULTISELECT" else _text(default)
        return forms.CharField(strip=False, widget=widget, initial=initial)
    choices = [(_text(v), _text(v)) for v in values if v is not None]
    if kind == "MULTISELECT":
        initial = [_text(v) for v in default] if isinstance(default, list) else None
        widget = forms.SelectMultiple(choices=choices, attrs={"size": min(len(choices), 8)})
        return MultiValueField(widget=widget, initial=initial)
    return forms.CharField(
        widget=forms.Select(choices=[("", "—"), *choices]), initial=_text(default)
    )


def _temporal_field(definition: Mapping[str, Any], kind: str, default: Any) -> forms.Field:
    html_type = {"DATETIME": "datetime-local", "DATE": "date", "TIME": "time"}[kind]
    attrs: dict[str, Any] = {"type": html_type}
    if kind != "DATE":
        attrs["step"] = "1"
    initial = _text(default)
    if kind == "DATETIME" and initial:
        initial = _utc_local(initial)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), initial=initial)


def _utc_local(text: str) -> str | None:
    """A zoned date-time as the UTC wall-clock value a datetime-local field shows."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _required(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return bool(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, indent=2)
