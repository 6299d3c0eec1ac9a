"""STRING, SECRET, INT, FLOAT, BOOLEAN, EMAIL, URI, JSON and YAML inputs, given as text or
as typed values, with their constraints."""

from __future__ import annotations

import pytest

from executions.engine.inputs import resolve_inputs


@pytest.mark.parametrize(
    ("_case", "given", "expected"),
    [
        ("text", "myString", "myString"),
        ("empty text is a value", "", ""),
        ("integer", 42, "42"),
        ("float", 4.5, "4.5"),
        ("boolean in JSON spelling", True, "true"),
    ],
)
def test_it_reads_strings_and_turns_scalars_into_text(one, _case, given, expected):
    assert one({"type": "STRING"}, given) == (expected, None)


def test_it_refuses_a_structured_value_for_a_string(one):
    value, message = one({"type": "STRING"}, {"a": 1})
    assert value is None
    assert message == 'Invalid input for `x`, expected `STRING` (text), but received `{"a": 1}`'


def test_it_matches_the_whole_string_against_the_validator(one):
    assert one({"type": "STRING", "validator": r"A\d+"}, "A123") == ("A123", None)
    value, message = one({"type": "STRING", "validator": r"A\d+"}, "A123b")
    assert value is None
    assert message == (
        "Invalid input for `x`, it must match the pattern `A\\d+`, but received `A123b`"
    )


def test_it_checks_minimum_and_maximum_lengths(one):
    definition = {"type": "STRING", "minLength": 2, "maxLength": 3}
    assert one(definition, "abc") == ("abc", None)
    assert one(definition, "a")[1] == (
        "Invalid input for `x`, it must be at least 2 characters long, but received `a`"
    )
    assert one(definition, "abcd")[1] == (
        "Invalid input for `x`, it must be at most 3 characters long, but received `abcd`"
    )


def test_it_reports_a_broken_validator_as_a_definition_problem(one):
    value, message = one({"type": "STRING", "validator": "("}, "x")
    assert value is None
    assert message.startswith("Invalid input for `x`, its validator `(` is not a valid regular")
    assert "but received" not in message


@pytest.mark.parametrize(
    ("_case", "given", "expected"),
    [
        ("text", "42", 42),
        ("signed text", "-7", -7),
        ("plus sign", "+7", 7),
        ("typed", 42, 42),
        ("largest Java int", "2147483647", 2147483647),
    ],
)
def test_it_reads_integers(one, _case, given, expected):
    assert one({"type": "INT"}, given) == (expected, None)


@pytest.mark.parametrize(
    ("_case", "given", "shown"),
    [
        ("words", "abc", "abc"),
        ("decimal text", "4.2", "4.2"),
        ("blank inside", " 42", " 42"),
        ("typed float", 4.2, "4.2"),
        ("typed boolean", True, "true"),
        ("list", [1], "[1]"),
    ],
)
def test_it_refuses_what_is_not_an_integer(one, _case, given, shown):
    value, message = one({"type": "INT"}, given)
    assert value is None
    assert message == (
        f"Invalid input for `x`, expected `INT` (a whole number such as 42), but received `{shown}`"
    )


def test_it_refuses_integers_beyond_java_int(one):
    value, message = one({"type": "INT"}, "2147483648")
    assert value is None
    assert "between -2147483648 and 2147483647" in message


def test_it_checks_integer_bounds_with_kestra_messages(one):
    definition = {"type": "INT", "min": 10, "max": 20}
    assert one(definition, "12") == (12, None)
    assert one(definition, "10") == (10, None)
    assert one(definition, "9")[1] == (
        "Invalid input for `x`, it must be more than `10`, but received `9`"
    )
    assert one(definition, 21)[1] == (
        "Invalid input for `x`, it must be less than `20`, but received `21`"
    )


@pytest.mark.parametrize(
    ("_case", "given", "expected"),
    [
        ("text", "42.42", 42.42),
        ("integer text", "3", 3.0),
        ("exponent", "1e3", 1000.0),
        ("typed float", 0.5, 0.5),
        ("typed int", 2, 2.0),
    ],
)
def test_it_reads_floats(one, _case, given, expected):
    assert one({"type": "FLOAT"}, given) == (expected, None)


@pytest.mark.parametrize("given", ["abc", "NaN", "Infinity", "1e39", "1_000", False])
def test_it_refuses_what_is_not_a_finite_float(one, given):
    value, message = one({"type": "FLOAT"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `FLOAT`")


def test_it_checks_float_bounds_with_kestra_messages(one):
    definition = {"type": "FLOAT", "min": 0.1, "max": 0.5}
    assert one(definition, "0.42") == (0.42, None)
    assert one(definition, "0.01")[1] == (
        "Invalid input for `x`, it must be more than `0.1`, but received `0.01`"
    )
    assert one({"type": "FLOAT", "max": 1}, "1.01")[1] == (
        "Invalid input for `x`, it must be less than `1.0`, but received `1.01`"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("true", True), ("false", False), ("TRUE", True), ("False", False), (True, True)],
)
def test_it_reads_booleans(one, given, expected):
    assert one({"type": "BOOLEAN"}, given) == (expected, None)


def test_it_reads_the_bool_alias_as_boolean(one):
    assert one({"type": "BOOL"}, "true") == (True, None)


@pytest.mark.parametrize("given", ["yes", "1", 1, "tru"])
def test_it_refuses_booleans_kestra_would_silently_read_as_false(one, given):
    value, message = one({"type": "BOOLEAN"}, given)
    assert value is None
    assert message == (
        f"Invalid input for `x`, expected `BOOLEAN` (true or false), but received `{given}`"
    )


def test_it_accepts_and_refuses_emails(one):
    assert one({"type": "EMAIL"}, "jane.doe+ci@example.com") == ("jane.doe+ci@example.com", None)
    value, message = one({"type": "EMAIL"}, "jane@")
    assert value is None
    assert message == (
        "Invalid input for `x`, expected `EMAIL` (an email address such as jane@example.com), "
        "but received `jane@`"
    )


@pytest.mark.parametrize(
    "given",
    [
        "https://www.google.com",
        "http://localhost:8080/api?x=1",
        "s3://bucket/key.csv",
        "file:///tmp/data.csv",
    ],
)
def test_it_accepts_absolute_uris(one, given):
    assert one({"type": "URI"}, given) == (given, None)


@pytest.mark.parametrize("given", ["http:/bla", "www.google.com", "/relative/path", "http://"])
def test_it_refuses_what_is_not_an_absolute_uri(one, given):
    value, message = one({"type": "URI"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `URI` (an absolute URI")
    assert message.endswith(f"but received `{given}`")


def test_it_refuses_a_uri_with_blanks_or_a_bad_port(one):
    assert one({"type": "URI"}, "http://exa mple.com")[1] is not None
    assert one({"type": "URI"}, "http://example.com:port/")[1] is not None


@pytest.mark.parametrize(
    ("_case", "given", "expected"),
    [
        ("object text", '{"a": "b"}', {"a": "b"}),
        ("empty object", "{}", {}),
        ("list text", "[1, 2]", [1, 2]),
        ("scalar text", "42", 42),
        ("structured map (correction 11)", {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        ("structured list", [1, "two"], [1, "two"]),
        ("typed number", 3, 3),
    ],
)
def test_it_reads_json_text_or_structured_values(one, _case, given, expected):
    assert one({"type": "JSON"}, given) == (expected, None)


def test_it_refuses_invalid_json_text(one):
    value, message = one({"type": "JSON"}, "{a: b}")
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `JSON` (JSON text or a JSON value)")
    assert "not valid JSON" in message
    assert message.endswith("but received `{a: b}`")


def test_it_refuses_json_constants_that_json_does_not_have(one):
    assert one({"type": "JSON"}, "NaN")[1] is not None


def test_it_reads_yaml_text_or_structured_values(one):
    text = "some: property\nalist:\n- of\n- values\nwhen: 2024-01-01\n"
    assert one({"type": "YAML"}, text) == (
        {"some": "property", "alist": ["of", "values"], "when": "2024-01-01"},
        None,
    )
    assert one({"type": "YAML"}, {"k": ["v"]}) == ({"k": ["v"]}, None)


def test_it_refuses_invalid_yaml(one):
    value, message = one({"type": "YAML"}, "a: [b\nc: d")
    assert value is None
    assert "not valid YAML" in message


def test_it_returns_secret_ids_and_never_echoes_a_secret_value():
    definitions = [
        {"id": "token", "type": "SECRET", "validator": "tok_[a-z]+"},
        {"id": "password", "type": "SECRET"},
        {"id": "note", "type": "STRING", "required": False},
    ]
    good = resolve_inputs(definitions, {"token": "tok_abc", "password": "hunter2"})
    assert good.values == {"token": "tok_abc", "password": "hunter2", "note": None}
    assert good.secret_ids == ["token", "password"]

    bad = resolve_inputs(definitions, {"token": "leaked-value", "password": "hunter2"})
    assert [v.message for v in bad.violations] == [
        "Invalid input for `token`, it must match the pattern `tok_[a-z]+`, but received `********`"
    ]
    assert "leaked-value" not in str(bad.violations)
    assert bad.secret_ids == ["password"]
