"""Forms of the tenant pages: namespaces, members, tenants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml
from django import forms

from flows.spec.formats import parse_duration
from tenants.kv_values import KV_TYPES
from tenants.models import NAMESPACE_PATTERN, TENANT_SLUG_PATTERN


class VariablesField(forms.CharField):
    """Namespace variables typed as YAML (a mapping), as Kestra's editor shows them."""

    widget = forms.Textarea(attrs={"rows": 6, "class": "mono"})

    def to_python(self, value: Any) -> dict[str, Any]:
        text = super().to_python(value)
        if not text.strip():
            return {}
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise forms.ValidationError(f"Invalid YAML{where}") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise forms.ValidationError("Variables must be a mapping of names to values")
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return yaml.safe_dump(value, sort_keys=False) if value else ""
        return value


class NamespaceForm(forms.Form):
    name = forms.RegexField(
        label="Namespace",
        regex=NAMESPACE_PATTERN,
        max_length=150,
        help_text="Dot-separated, e.g. company.team.data (lower-case letters, digits, . - _)",
        error_messages={"invalid": "Use lower-case letters, digits, '.', '-' and '_'"},
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    variables = VariablesField(required=False, help_text="YAML mapping, e.g. `region: eu-west-1`")


class NamespaceEditForm(forms.Form):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    variables = VariablesField(required=False, help_text="YAML mapping, e.g. `region: eu-west-1`")


class MemberAddForm(forms.Form):
    email = forms.EmailField(help_text="An existing Aviary user")


class TenantForm(forms.Form):
    slug = forms.RegexField(
        regex=TENANT_SLUG_PATTERN,
        max_length=64,
        help_text="Used in URLs: lower-case letters, digits, - and _",
        error_messages={"invalid": "Use lower-case letters, digits, '-' and '_'"},
    )
    name = forms.CharField(max_length=200)


class KVForm(forms.Form):
    """A KV entry typed on the page: the value is text, converted by its type."""

    namespace = forms.RegexField(
        regex=NAMESPACE_PATTERN,
        max_length=150,
        error_messages={"invalid": "Use lower-case letters, digits, '.', '-' and '_'"},
    )
    key = forms.CharField(max_length=255, help_text="Letters, digits, '.', '_' and '-'")
    kv_type = forms.ChoiceField(
        label="Type",
        choices=[(t, t.title()) for t in KV_TYPES],
        initial="STRING",
    )
    value = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text="JSON for the JSON type; ISO-8601 for dates (2024-05-01), date-times and "
        "durations (PT1H)",
    )
    ttl = forms.CharField(
        label="Expires after",
        required=False,
        max_length=40,
        help_text="Optional ISO-8601 duration, e.g. PT1H or P7D",
    )

    def clean_ttl(self) -> timedelta | None:
        raw = self.cleaned_data["ttl"].strip()
        if not raw:
            return None
        try:
            ttl = parse_duration(raw)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if ttl <= timedelta(0):
            raise forms.ValidationError("Must be a positive duration")
        return ttl


class SecretForm(forms.Form):
    namespace = forms.RegexField(
        regex=NAMESPACE_PATTERN,
        max_length=150,
        error_messages={"invalid": "Use lower-case letters, digits, '.', '-' and '_'"},
    )
    key = forms.RegexField(
        regex=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=255,
        help_text="Read in flows with {{ secret('KEY') }}; child namespaces see it too",
        error_messages={"invalid": "Use letters, digits, '_', '.' and '-'"},
    )
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        strip=False,
        max_length=64 * 1024,
        help_text="Stored encrypted; never shown again",
    )
    description = forms.CharField(required=False, max_length=500)
