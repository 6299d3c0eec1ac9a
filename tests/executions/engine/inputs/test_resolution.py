"""Resolution as a whole: defaults, required, dependsOn, unknown ids, every violation at once,
and Kestra's own `inputs.yaml` conformance flow."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from executions.engine.inputs import FileUpload, resolve_inputs
from executions.engine.rendering import RenderError
from tenants.errors import Unprocessable
from tests.executions.engine.inputs.conftest import MemorySink, fake_render

CONFORMANCE = Path("/work/shared/kestra-conformance/flows/inputs.yaml")


def test_it_uses_a_literal_default_when_nothing_is_given():
    definitions = [{"id": "repeat", "type": "INT", "defaults": 2, "min": 1}]
    assert resolve_inputs(definitions, {}).values == {"repeat": 2}
    assert resolve_inputs(definitions, {"repeat": None}).values == {"repeat": 2}
    assert resolve_inputs(definitions, {"repeat": "5"}).values == {"repeat": 5}


def test_it_types_and_validates_defaults_like_given_values():
    definitions = [{"id": "when", "type": "DATETIME", "defaults": "2013-08-09T16:19:00+02:00"}]
    assert resolve_inputs(definitions, {}).values == {"when": "2013-08-09T14:19:00Z"}
    bad = [{"id": "n", "type": "INT", "defaults": 0, "min": 1}]
    assert [v.message for v in resolve_inputs(bad, {}).violations] == [
        "Invalid input for `n`, it must be more than `1`, but received `0`"
    ]


def test_it_renders_a_templated_default_with_earlier_inputs():
    definitions = [
        {"id": "user", "type": "STRING"},
        {"id": "greeting", "type": "STRING", "defaults": "Hello {{ inputs.user }}"},
        {"id": "copy", "type": "INT", "defaults": "{{ inputs.count }}"},
        {"id": "count", "type": "INT", "defaults": 3},
    ]
    result = resolve_inputs(definitions, {"user": "Ada"}, render=fake_render)
    assert result.values["greeting"] == "Hello Ada"
    # `copy` comes before `count` and does not depend on it: the variable is not there yet.
    assert [v.message for v in result.violations] == [
        "Invalid input for `copy`, its default cannot be rendered: "
        "Unable to find `count` used in the expression `inputs.count`"
    ]


def test_it_keeps_a_templated_default_literal_without_a_renderer():
    definitions = [{"id": "greeting", "type": "STRING", "defaults": "Hello {{ inputs.user }}"}]
    assert resolve_inputs(definitions, {}).values == {"greeting": "Hello {{ inputs.user }}"}


def test_it_reports_a_missing_required_input_with_kestras_message():
    result = resolve_inputs([{"id": "string", "type": "STRING"}], {})
    assert result.values == {}
    assert [(v.path, v.message) for v in result.violations] == [
        (
            "inputs.string",
            "Invalid input for `string`, missing required input, but received `null`",
        )
    ]


def test_it_keeps_an_optional_input_left_empty_as_null():
    definitions = [
        {"id": "bool", "type": "BOOLEAN", "required": False},
        {"id": "count", "type": "INT", "required": False},
    ]
    result = resolve_inputs(definitions, {"count": ""})
    assert result.values == {"bool": None, "count": None}
    assert result.violations == []


def test_it_treats_a_blank_form_field_as_not_given_but_an_empty_string_as_text():
    definitions = [
        {"id": "count", "type": "INT"},
        {"id": "empty", "type": "STRING", "defaults": "", "required": True},
        {"id": "text", "type": "STRING"},
    ]
    result = resolve_inputs(definitions, {"count": "", "text": ""})
    assert result.values == {"empty": "", "text": ""}
    assert [v.path for v in result.violations] == ["inputs.count"]


def test_it_reports_every_invalid_input_at_once_in_declaration_order():
    definitions = [
        {"id": "a", "type": "INT"},
        {"id": "b", "type": "STRING"},
        {"id": "c", "type": "BOOLEAN"},
        {"id": "d", "type": "DATE"},
        {"id": "e", "type": "FLOAT", "required": False},
    ]
    result = resolve_inputs(definitions, {"a": "x", "c": "maybe", "d": "tomorrow", "e": "1.5"})
    assert [v.path for v in result.violations] == ["inputs.a", "inputs.b", "inputs.c", "inputs.d"]
    assert result.values == {"e": 1.5}
    with pytest.raises(Unprocessable) as raised:
        result.raise_if_invalid()
    assert raised.value.violations == result.violations
    assert raised.value.message == "Invalid inputs: a, b, c, d"


def test_it_ignores_but_lists_unknown_inputs():
    result = resolve_inputs([{"id": "a", "type": "STRING"}], {"a": "x", "typo": "1", "b": 2})
    assert result.values == {"a": "x"}
    assert result.unknown == ["typo", "b"]
    assert result.violations == []
    result.raise_if_invalid()


def test_it_reads_the_legacy_name_as_the_id():
    result = resolve_inputs([{"name": "legacy", "type": "INT"}], {"legacy": "1"})
    assert result.values == {"legacy": 1}


def test_it_nests_dotted_ids_as_kestra_does():
    definitions = [
        {"id": "nested.string", "type": "STRING"},
        {"id": "nested.more.int", "type": "INT"},
        {"id": "top", "type": "STRING"},
    ]
    result = resolve_inputs(
        definitions, {"nested.string": "a string", "nested.more.int": "123", "top": "t"}
    )
    assert result.values == {"nested.string": "a string", "nested.more.int": 123, "top": "t"}
    assert result.nested() == {"nested": {"string": "a string", "more": {"int": 123}}, "top": "t"}


DEPENDENT = [
    {"id": "kind", "type": "SELECT", "values": ["cloud", "local"]},
    {
        "id": "region",
        "type": "STRING",
        "dependsOn": {"inputs": ["kind"], "condition": "{{ inputs.kind == 'cloud' }}"},
    },
    {"id": "zone", "type": "STRING", "required": False, "dependsOn": {"inputs": ["region"]}},
]


def test_it_resolves_an_input_whose_condition_holds():
    result = resolve_inputs(
        DEPENDENT, {"kind": "cloud", "region": "eu", "zone": "a"}, render=fake_render
    )
    assert result.values == {"kind": "cloud", "region": "eu", "zone": "a"}
    assert result.skipped == []


def test_it_skips_inputs_whose_condition_fails_and_their_dependents():
    # `region` is required but disabled, so missing it is fine; `zone` follows it.
    result = resolve_inputs(DEPENDENT, {"kind": "local", "zone": "a"}, render=fake_render)
    assert result.violations == []
    assert result.values == {"kind": "local"}
    assert result.skipped == ["region", "zone"]
    assert result.unknown == []


def test_it_enables_only_on_boolean_true_as_kestra_does():
    definitions = [
        {"id": "flag", "type": "STRING"},
        {"id": "extra", "type": "INT", "dependsOn": {"condition": "{{ inputs.flag }}"}},
    ]
    for flag, enabled in (("true", True), ("yes", False), ("1", False)):
        result = resolve_inputs(definitions, {"flag": flag, "extra": "1"}, render=fake_render)
        assert ("extra" in result.values) is enabled, flag


def test_it_resolves_dependencies_before_the_inputs_declared_earlier():
    definitions = [
        {
            "id": "first",
            "type": "STRING",
            "defaults": "after {{ inputs.second }}",
            "dependsOn": {"inputs": ["second"]},
        },
        {"id": "second", "type": "STRING", "defaults": "two"},
    ]
    result = resolve_inputs(definitions, {}, render=fake_render)
    assert result.values == {"first": "after two", "second": "two"}


def test_it_reports_a_dependency_on_a_missing_input():
    definitions = [{"id": "a", "type": "STRING", "dependsOn": {"inputs": ["ghost"]}}]
    result = resolve_inputs(definitions, {"a": "x"})
    assert [v.message for v in result.violations] == [
        "Invalid input for `a`, it depends on a non-existent input `ghost`"
    ]


def test_it_reports_a_dependency_cycle_on_each_member():
    definitions = [
        {"id": "a", "type": "STRING", "dependsOn": {"inputs": ["b"]}},
        {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a"]}},
        {"id": "c", "type": "STRING", "dependsOn": {"inputs": ["c"]}},
    ]
    result = resolve_inputs(definitions, {"a": "1", "b": "2", "c": "3"})
    assert [v.message for v in result.violations] == [
        "Invalid input for `a`, cycle dependency detected: [a, b, a]",
        "Invalid input for `b`, cycle dependency detected: [a, b, a]",
    ]
    assert result.values == {"c": "3"}


def test_it_does_not_evaluate_a_condition_over_an_invalid_input():
    definitions = [
        {"id": "count", "type": "INT"},
        {
            "id": "detail",
            "type": "STRING",
            "dependsOn": {"inputs": ["count"], "condition": "{{ inputs.count == '2' }}"},
        },
        {"id": "plain", "type": "STRING", "dependsOn": {"inputs": ["count"]}},
    ]
    result = resolve_inputs(definitions, {"count": "two", "plain": "p"}, render=fake_render)
    assert [v.message for v in result.violations] == [
        "Invalid input for `count`, expected `INT` (a whole number such as 42), but received `two`",
        "Invalid input for `detail`, it cannot be checked because the input `count` it "
        "depends on is invalid",
    ]
    assert result.values == {"plain": "p"}


def test_it_reports_a_condition_that_cannot_be_rendered():
    def failing(template, variables):
        raise RenderError("Unexpected token '}}'")

    definitions = [{"id": "a", "type": "STRING", "dependsOn": {"condition": "{{ inputs. }}"}}]
    result = resolve_inputs(definitions, {"a": "x"}, render=failing)
    assert [v.message for v in result.violations] == [
        "Invalid input for `a`, its dependsOn condition cannot be rendered: Unexpected token '}}'"
    ]


def test_it_lets_a_renderer_bug_propagate():
    def broken(template, variables):
        raise ZeroDivisionError("bug")

    definitions = [{"id": "a", "type": "STRING", "dependsOn": {"condition": "{{ x }}"}}]
    with pytest.raises(ZeroDivisionError):
        resolve_inputs(definitions, {"a": "x"}, render=broken)


def test_it_passes_only_resolved_inputs_to_the_renderer():
    seen = []

    def recording(template, variables):
        seen.append(variables)
        return True

    definitions = [
        {"id": "a.b", "type": "INT"},
        {"id": "c", "type": "STRING", "dependsOn": {"condition": "{{ ok }}"}},
        {"id": "d", "type": "STRING", "required": False},
    ]
    resolve_inputs(definitions, {"a.b": "1", "c": "x"}, render=recording)
    assert seen == [{"inputs": {"a": {"b": 1}}}]


def test_it_reports_malformed_definitions_without_stopping():
    definitions = [
        "not a map",
        {"type": "STRING"},
        {"id": "a", "type": "STRANGE"},
        {"id": "b", "type": "INT"},
        {"id": "b", "type": "STRING"},
    ]
    result = resolve_inputs(definitions, {"b": "1"})
    assert result.values == {"b": 1}
    assert [(v.path, v.message) for v in result.violations] == [
        ("inputs[0]", "an input definition must be a map"),
        ("inputs[1]", "an input definition needs an `id`"),
        ("inputs.a", "Invalid input for `a`, unknown input type `STRANGE`"),
        ("inputs.b", "Invalid input for `b`, duplicate input id"),
    ]


def test_it_uses_the_given_path_prefix_for_pause_inputs():
    result = resolve_inputs([{"id": "asked", "type": "STRING"}], {}, path="onResume")
    assert [v.path for v in result.violations] == ["onResume.asked"]


KESTRA_VALID = {
    "string": "myString",
    "enum": "ENUM_VALUE",
    "int": "42",
    "float": "42.42",
    "bool": "false",
    "instant": "2019-10-06T18:27:49Z",
    "date": "2019-10-06",
    "time": "18:27:49",
    "duration": "PT5M6S",
    "file": FileUpload("application-test.yml", b"kestra: test\n"),
    "json": '{"a": "b"}',
    "uri": "https://www.google.com",
    "nested.string": "a string",
    "nested.more.int": "123",
    "nested.bool": "true",
    "validatedString": "A123",
    "validatedInt": "12",
    "validatedDate": "2023-01-02",
    "validatedDateTime": "2023-01-01T00:00:10Z",
    "validatedDuration": "PT15S",
    "validatedFloat": "0.42",
    "validatedTime": "11:27:49",
    "secret": "secret",
    "array": "[1, 2, 3]",
    "yaml": "some: property\nalist:\n- of\n- values",
}


@pytest.fixture
def conformance_inputs() -> list[dict]:
    if not CONFORMANCE.exists():
        pytest.skip("the Kestra conformance flows are not available here")
    return yaml.safe_load(CONFORMANCE.read_text())["inputs"]


def test_it_types_every_input_of_kestras_inputs_flow(conformance_inputs):
    sink = MemorySink(
        namespace_uri="kestra:///io/kestra/tests/",
        execution_uri="kestra:///io/kestra/tests/inputs/executions/test/",
    )
    result = resolve_inputs(conformance_inputs, KESTRA_VALID, files=sink)
    assert result.violations == []
    nested = result.nested()
    assert nested["string"] == "myString"
    assert nested["int"] == 42
    assert nested["float"] == 42.42
    assert nested["bool"] is False
    assert nested["instant"] == "2019-10-06T18:27:49Z"
    assert nested["instantDefaults"] == "2013-08-09T14:19:00Z"
    assert nested["date"] == "2019-10-06"
    assert nested["time"] == "18:27:49"
    assert nested["duration"] == "PT5M6S"
    assert nested["file"] == (
        "kestra:///io/kestra/tests/inputs/executions/test/inputs/file/application-test.yml"
    )
    assert nested["json"] == {"a": "b"}
    assert nested["uri"] == "https://www.google.com"
    assert nested["nested"] == {"string": "a string", "bool": True, "more": {"int": 123}}
    assert nested["validatedTime"] == "11:27:49"
    assert nested["array"] == [1, 2, 3]
    assert nested["yaml"] == {"some": "property", "alist": ["of", "values"]}
    assert nested["optional"] is None
    assert nested["optionalFile"] is None
    assert nested["empty"] == ""
    assert result.secret_ids == ["secret"]
    assert nested["secret"] == "secret"  # encrypted at rest by the caller, not here


def test_it_reports_all_of_kestras_invalid_inputs_together(conformance_inputs):
    invalid = {
        **KESTRA_VALID,
        "string": None,
        "enum": "INVALID",
        "uri": "http:/bla",
        "validatedString": "foo",
        "validatedInt": "9",
        "validatedDate": "2024-01-01",
        "validatedDuration": "PT30S",
        "validatedFloat": "1.01",
        "validatedTime": "00:00:01",
        "array": '["s1", "s2"]',
    }
    result = resolve_inputs(conformance_inputs, invalid, files=MemorySink())
    messages = {v.path: v.message for v in result.violations}
    assert messages == {
        "inputs.string": "Invalid input for `string`, missing required input, but received `null`",
        "inputs.enum": "Invalid input for `enum`, it must match the values "
        "`[ENUM_VALUE, OTHER_ONE]`, but received `INVALID`",
        "inputs.uri": "Invalid input for `uri`, expected `URI` (an absolute URI such as "
        "https://example.com/data.csv), but received `http:/bla`",
        "inputs.validatedString": "Invalid input for `validatedString`, it must match the "
        "pattern `A\\d+`, but received `foo`",
        "inputs.validatedInt": "Invalid input for `validatedInt`, it must be more than `10`, "
        "but received `9`",
        "inputs.validatedDate": "Invalid input for `validatedDate`, it must be before "
        "`2023-12-31`, but received `2024-01-01`",
        "inputs.validatedDuration": "Invalid input for `validatedDuration`, It must be less "
        "than `PT20S`, but received `PT30S`",
        "inputs.validatedFloat": "Invalid input for `validatedFloat`, it must be less than "
        "`0.5`, but received `1.01`",
        "inputs.validatedTime": "Invalid input for `validatedTime`, it must be after `01:00`, "
        "but received `00:00:01`",
        "inputs.array": "Invalid input for `array`, Unable to parse array element as `INT` "
        'on `s1`, but received `["s1", "s2"]`',
    }
    # the valid ones are still typed; the invalid ones have no value
    assert result.values["int"] == 42
    assert "validatedInt" not in result.values
