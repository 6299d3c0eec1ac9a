"""Kestra's truthiness of rendered conditions (TruthUtils) and the masking of secrets."""

from __future__ import annotations

import pytest

from flows.expressions import RenderContext, mask_secrets, render, render_typed, truthy
from tests.flows.expressions.support import FLOW_VARIABLES, FakeServices


@pytest.mark.parametrize("value", [None, "", "false", "0", "-0"])
def test_it_treats_exactly_kestras_false_values_as_false(value):
    assert truthy(value) is False


@pytest.mark.parametrize(
    "value", ["true", "1", "False", "FALSE", "no", "null", "0.0", " ", " false", "off", "x"]
)
def test_it_treats_everything_else_as_true(value):
    assert truthy(value) is True


def test_it_prints_typed_values_before_judging_them():
    assert truthy(False) is False
    assert truthy(0) is False
    assert truthy(True) is True
    assert truthy(0.0) is True  # prints "0.0"
    assert truthy([]) is True  # prints "[]"


def test_it_judges_rendered_conditions():
    ctx = RenderContext({"inputs": {"run": False, "count": 0, "name": "x"}})
    assert truthy(render("{{ inputs.run }}", ctx)) is False
    assert truthy(render("{{ inputs.count }}", ctx)) is False
    assert truthy(render("{{ inputs.name == 'x' }}", ctx)) is True
    assert truthy(render_typed("{{ inputs.count > 1 }}", ctx)) is False


def test_it_masks_every_revealed_secret():
    services = FakeServices()
    ctx = RenderContext(dict(FLOW_VARIABLES), services)
    line = render("calling with {{ secret('MY_SECRET') }}", ctx)
    assert mask_secrets(line, ctx.secrets_seen) == "calling with ******"


def test_it_masks_longer_secrets_first_and_every_occurrence():
    text = "a=abcdef b=abcd c=abcdef"
    assert mask_secrets(text, ["abcd", "abcdef"]) == "a=****** b=****** c=******"


def test_it_leaves_very_short_secrets_and_empty_text_alone():
    assert mask_secrets("value 1 and abc", ["1", "abc", ""]) == "value 1 and abc"
    assert mask_secrets("", ["secret"]) == ""
    assert mask_secrets("no secret here", []) == "no secret here"
