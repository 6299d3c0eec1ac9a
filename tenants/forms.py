"""Forms of the tenant pages: namespaces, members, tenants."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms

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
