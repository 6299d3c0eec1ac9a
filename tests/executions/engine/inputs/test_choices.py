"""SELECT, ENUM, MULTISELECT and ARRAY inputs."""

from __future__ import annotations

import pytest

from executions.engine.inputs import resolve_inputs
from tests.executions.engine.inputs.conftest import fake_render

SELECT = {"type": "SELECT", "values": ["happy", "curious", "sleepy"]}


def test_it_accepts_a_listed_select_value(one):
    assert one(SELECT, "curious") == ("curious", None)


@pytest.mark.parametrize("required", [True, False])
def test_it_always_checks_select_membership(one, required):
    # Kestra 0.20 skips the check when the input is optional (correction 10).
    value, message = one({**SELECT, "required": required}, "grumpy")
    assert value is None
    assert message == (
        "Invalid input for `x`, it must match the values `[happy, curious, sleepy]`, "
        "but received `grumpy`"
    )


def test_it_lets_allow_custom_value_through(one):
    assert one({**SELECT, "allowCustomValue": True}, "grumpy") == ("grumpy", None)


def test_it_reads_an_empty_select_option_as_not_given(one):
    assert one({**SELECT, "required": False}, "") == (None, None)
    assert one(SELECT, "")[1] == (
        "Invalid input for `x`, missing required input, but received `null`"
    )


def test_it_compares_a_typed_select_value_as_text(one):
    assert one({"type": "SELECT", "values": ["1", "2"]}, 2) == ("2", None)


def test_it_checks_legacy_enum_with_kestras_message(one):
    definition = {"type": "ENUM", "values": ["ENUM_VALUE", "OTHER_ONE"], "required": False}
    assert one(definition, "ENUM_VALUE") == ("ENUM_VALUE", None)
    assert one(definition, "INVALID")[1] == (
        "Invalid input for `x`, it must match the values `[ENUM_VALUE, OTHER_ONE]`, "
        "but received `INVALID`"
    )


def test_it_takes_select_values_from_an_expression_rendered_with_earlier_inputs():
    definitions = [
        {"id": "region", "type": "SELECT", "values": ["eu", "us"]},
        {
            "id": "zone",
            "type": "SELECT",
            "expression": "{{ inputs.zones }}",
            "dependsOn": {"inputs": ["zones"]},
        },
        {"id": "zones", "type": "ARRAY", "itemType": "STRING"},
    ]
    provided = {"region": "eu", "zones": ["eu-west-1", "eu-west-2"], "zone": "eu-west-2"}
    result = resolve_inputs(definitions, provided, render=fake_render)
    assert result.violations == []
    assert result.values["zone"] == "eu-west-2"

    wrong = resolve_inputs(definitions, {**provided, "zone": "us-east-1"}, render=fake_render)
    assert [v.message for v in wrong.violations] == [
        "Invalid input for `zone`, it must match the values `[eu-west-1, eu-west-2]`, "
        "but received `us-east-1`"
    ]


def test_it_reports_an_expression_that_does_not_give_a_list(one):
    value, message = one({"type": "SELECT", "expression": "{{ true }}"}, "a", render=fake_render)
    assert value is None
    assert message == (
        "Invalid input for `x`, Invalid expression result. Expected a list of strings, "
        "but received bool"
    )


def test_it_reports_an_expression_that_cannot_be_rendered(one):
    value, message = one(
        {"type": "SELECT", "expression": "{{ inputs.nowhere }}"}, "a", render=fake_render
    )
    assert value is None
    assert message.startswith("Invalid input for `x`, its `expression` cannot be rendered: ")


def test_it_needs_a_renderer_for_an_expression(one):
    value, message = one({"type": "SELECT", "expression": "{{ ['a'] }}"}, "a")
    assert value is None
    assert message == "Invalid input for `x`, its `expression` needs an expression renderer"


@pytest.mark.parametrize(
    ("_case", "given"),
    [("list", ["a", "c"]), ("JSON text", '["a", "c"]')],
)
def test_it_reads_multiselect_lists(one, _case, given):
    assert one({"type": "MULTISELECT", "values": ["a", "b", "c"]}, given) == (["a", "c"], None)


def test_it_reads_the_deprecated_options_of_a_multiselect(one):
    assert one({"type": "MULTISELECT", "options": ["a", "b"]}, ["b"]) == (["b"], None)


def test_it_names_every_stray_multiselect_item(one):
    value, message = one({"type": "MULTISELECT", "values": ["a", "b"]}, ["a", "x", "y"])
    assert value is None
    assert message == (
        "Invalid input for `x`, it must match the values `[a, b]` (`x`, `y` are not among "
        'them), but received `["a", "x", "y"]`'
    )


def test_it_types_multiselect_items_by_item_type(one):
    definition = {"type": "MULTISELECT", "values": ["1", "2", "3"], "itemType": "INT"}
    assert one(definition, ["1", 3]) == ([1, 3], None)


def test_it_refuses_both_values_and_options(one):
    value, message = one({"type": "MULTISELECT", "values": ["a"], "options": ["a"]}, ["a"])
    assert value is None
    assert message == "Invalid input for `x`, you can't define both `values` and `options`"


def test_it_refuses_a_multiselect_value_that_is_not_a_list(one):
    value, message = one({"type": "MULTISELECT", "values": ["a"]}, "a")
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `MULTISELECT`")


@pytest.mark.parametrize(
    ("_case", "item_type", "given", "expected"),
    [
        ("ints from JSON text", "INT", "[1, 2, 3]", [1, 2, 3]),
        ("ints from text items", "INT", ["1", "2"], [1, 2]),
        ("strings", "STRING", ["a", 1], ["a", "1"]),
        ("dates", "DATE", ["2024-01-01"], ["2024-01-01"]),
        ("durations normalized", "DURATION", ["P1D"], ["PT24H"]),
        ("json items", "JSON", ['{"a": 1}', {"b": 2}], [{"a": 1}, {"b": 2}]),
        ("empty", "INT", [], []),
    ],
)
def test_it_types_each_array_item(one, _case, item_type, given, expected):
    assert one({"type": "ARRAY", "itemType": item_type}, given) == (expected, None)


def test_it_names_the_array_item_that_does_not_parse(one):
    value, message = one({"type": "ARRAY", "itemType": "INT"}, '["s1", "s2"]')
    assert value is None
    assert message == (
        "Invalid input for `x`, Unable to parse array element as `INT` on `s1`, "
        'but received `["s1", "s2"]`'
    )


def test_it_needs_an_item_type_for_arrays(one):
    value, message = one({"type": "ARRAY"}, "[1]")
    assert value is None
    assert message == "Invalid input for `x`, an input of type ARRAY needs an `itemType`"


def test_it_refuses_arrays_of_arrays(one):
    assert one({"type": "ARRAY", "itemType": "ARRAY"}, "[[1]]")[1] == (
        "Invalid input for `x`, `itemType` cannot be `ARRAY`"
    )


def test_it_refuses_an_array_that_is_not_a_list(one):
    value, message = one({"type": "ARRAY", "itemType": "INT"}, "1, 2")
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `ARRAY` (a list")
