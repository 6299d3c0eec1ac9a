"""Pebble syntax and Kestra's rendering rules.

Expected values come from Kestra's own tests (core/src/test/java/io/kestra/core/runners/
pebble/PebbleVariableRendererTest, NullCoalescingExpressionTest,
UndefinedCoalescingExpressionTest) and Pebble 3.2.2's semantics.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
from types import MappingProxyType

import pytest

from flows.expressions import ExpressionError, RenderContext, render, render_typed, render_value
from tests.flows.expressions.support import r

VARS = {
    "block": {"test": {"child": "awesome"}},
    "inner": "test",
    "list": ["string", 1, 1.123],
    "map": {"string": "string", "int": 1, "float": 1.123},
    "null": None,
}


# -- output (PebbleVariableRendererTest.out / autoJson)


def test_it_prints_strings_numbers_and_booleans_as_java_does():
    assert r("{{ s }}", s="string") == "string"
    assert r("{{ i }}", i=1) == "1"
    assert r("{{ f }}", f=1.123) == "1.123"
    assert r("{{ b }}", b=True) == "true"
    assert r("{{ 1.0 }} {{ 10000000.0 }} {{ 0.0001 }}") == "1.0 1.0E7 1.0E-4"


def test_it_prints_lists_and_maps_as_compact_json():
    assert r("{{ list }}", **VARS) == '["string",1,1.123]'
    assert r("{{ map }}", **VARS) == '{"string":"string","int":1,"float":1.123}'
    assert r("{{ list }} // {{ map }}", **VARS).startswith('["string",1,1.123] // {')
    assert r("{{ m }}", m={"é": "ü"}) == '{"é":"ü"}'


def test_it_prints_null_as_nothing():
    assert r("{{ list[3] is defined ? bla : null }}", **VARS) == ""
    assert r("[{{ null }}]") == "[]"


def test_it_prints_dates_with_java_tostring():
    paris = dt.timezone(dt.timedelta(hours=2))
    assert r("{{ d }}", d=dt.datetime(2013, 9, 8, 16, 19, tzinfo=paris)) == "2013-09-08T16:19+02:00"


def test_it_returns_a_string_without_tags_unchanged():
    assert r("no {expression} here") == "no {expression} here"
    assert r("a } b { c") == "a } b { c"


def test_it_keeps_trailing_newlines_and_carriage_returns():
    assert r("line {{ x }}\r\nnext\n", x=1) == "line 1\r\nnext\n"


def test_it_drops_comments_and_trims_whitespace_with_dashes():
    assert r("a {# a comment #}b") == "a b"
    assert r("a   {{- 'x' -}}   b") == "axb"


# -- literals and operators


def test_it_reads_string_literals_with_both_quotes_and_only_quote_escapes():
    assert r("{{ 'single' }} {{ \"double\" }}") == "single double"
    assert r("{{ 'it\\'s' }}") == "it's"
    assert r('{{ "a \\"b\\"" }}') == 'a "b"'
    assert r("{{ '\\d+' }}") == "\\d+"  # Pebble keeps other backslashes
    assert r('{{ "\\n" }}') == "\\n"


def test_it_interpolates_double_quoted_strings():
    assert r('{{ "Hello #{name}, #{1 + 1}!" }}', name="Kestra") == "Hello Kestra, 2!"
    assert r("{{ 'no #{interpolation}' }}") == "no #{interpolation}"


def test_it_reads_boolean_null_and_number_literals():
    assert r("{{ true }} {{ TRUE }} {{ false }} {{ FALSE }}") == "true true false false"
    assert r("{{ null }}{{ NULL }}{{ none }}{{ NONE }}") == ""
    assert r("{{ 42 }} {{ 4.5 }}") == "42 4.5"


def test_it_builds_list_and_map_literals():
    assert r("{{ [1, 'a', true] }}") == '[1,"a",true]'
    assert r("{{ {'a': 1, 'b': [2]} }}") == '{"a":1,"b":[2]}'
    assert r("{{ [] }} {{ {} }}") == "[] {}"


def test_it_concatenates_with_tilde():
    assert r('{{ "apple" ~ "pear" ~ "banana" }}') == "applepearbanana"
    assert r("{{ 'n=' ~ 1 ~ null ~ true }}") == "n=1true"


def test_it_binds_filters_tighter_than_comparisons_but_looser_than_tilde():
    assert r("{{ 'a' ~ 'b' | upper }}") == "AB"  # Pebble: (a ~ b) | upper
    assert r("{{ -1 | abs }}") == "1"  # unary minus binds first
    assert r("{{ 'abc' | length == 3 }}") == "true"


def test_it_does_java_arithmetic():
    assert r("{{ 1 + 2 * 3 }}") == "7"
    assert r("{{ (1 + 2) * 3 }}") == "9"
    assert r("{{ 5 / 2 }} {{ -5 / 2 }} {{ 5.0 / 2 }}") == "2 -2 2.5"
    assert r("{{ 7 % 3 }} {{ -7 % 3 }}") == "1 -1"
    assert r("{{ 1 - 3 }} {{ -x }}", x=4) == "-2 -4"


def test_it_concatenates_strings_with_plus():
    assert r("{{ 'a' + 1 }} {{ 1 + 'a' }} {{ 'a' + null }}") == "a1 1a anull"


def test_it_refuses_division_by_zero_and_arithmetic_on_text():
    with pytest.raises(ExpressionError, match="/ by zero"):
        r("{{ 1 / 0 }}")
    with pytest.raises(ExpressionError, match="invalid operands"):
        r("{{ true * 2 }}")


def test_it_compares_numbers_across_types_but_not_booleans():
    assert r("{{ 1 == 1.0 }} {{ 1 != 2 }} {{ 'a' == 'a' }}") == "true true true"
    assert r("{{ 1 == true }} {{ 2 > 1 }} {{ 2 >= 2 }} {{ 1 < 0.5 }} {{ 1 <= 1 }}") == (
        "false true true false true"
    )
    assert r("{{ 1 equals 1 }}") == "true"
    assert r("{{ null < 1 }}") == "false"


def test_it_refuses_to_order_strings():
    with pytest.raises(ExpressionError, match="invalid operands for mathematical comparison"):
        r("{{ 'a' < 'b' }}")


def test_it_evaluates_and_or_not_with_pebble_truthiness():
    assert r("{{ true and false }} {{ true or false }} {{ not false }}") == "false true true"
    assert r("{{ 1 and 'x' }} {{ 0 or '' }}") == "true false"
    assert r("{{ not true == false }}") == "true"  # Pebble: (not true) == false


def test_it_short_circuits_and_or():
    assert r("{{ false and missing }} {{ true or missing }}") == "false true"


def test_it_refuses_null_in_and():
    with pytest.raises(ExpressionError, match="null value used in and"):
        r("{{ x and true }}", x=None)


def test_it_evaluates_the_ternary_operator():
    assert r("{{ true ? 'yes' : 'no' }} {{ 0 ? 'yes' : 'no' }}") == "yes no"
    assert r("{{ null ? 'yes' : 'no' }}") == "no"
    assert r("{{ a ? b ? 1 : 2 : 3 }}", a=True, b=False) == "2"


def test_it_tests_contains():
    assert r("{{ [1, 2] contains 2 }} {{ [1, 2] contains [1, 2] }}") == "true true"
    assert r("{{ {'a': 1} contains 'a' }} {{ 'kestra' contains 'str' }}") == "true true"
    assert r("{{ null contains 1 }}") == "false"


def test_it_builds_inclusive_ranges():
    assert r("{{ 0..3 }}") == "[0,1,2,3]"
    assert r("{{ range(0, 3) }} {{ range(3, 0, -1) }}") == "[0,1,2,3] [3,2,1,0]"
    assert r("{{ range('a', 'c') }}") == '["a","b","c"]'


# -- tests


def test_it_tests_defined_and_not_defined():
    assert r("{{ inner.bla is not defined ? block.test.child : null }}", **VARS) == "awesome"
    assert r("{{ block.test.child is defined ? block.test.child : inner.bla }}", **VARS) == (
        "awesome"
    )
    assert r("{{ block[missing].child is defined ? null : block[inner].child }}", **VARS) == (
        "awesome"
    )
    assert r("{{ null is defined }}", **VARS) == "false"  # defined means "not null" in Pebble


def test_it_tests_null_empty_even_odd_iterable_map_json():
    assert r("{{ x is null }} {{ 1 is not null }}", x=None) == "true true"
    assert r("{{ '  ' is empty }} {{ [] is empty }} {{ {} is empty }} {{ 0 is empty }}") == (
        "true true true false"
    )
    assert r("{{ 2 is even }} {{ 3 is odd }} {{ 3 is even }}") == "true true false"
    assert r("{{ [1] is iterable }} {{ {} is iterable }} {{ {} is map }}") == "true false true"
    assert r("{{ '{\"a\": 1}' is json }} {{ 'nope' is json }}") == "true false"


def test_it_refuses_an_unknown_test():
    with pytest.raises(ExpressionError, match=r"Test \[unknown\] does not exist"):
        r("{{ 1 is unknown }}")


# -- strict variables and coalescing (NullCoalescing / UndefinedCoalescing tests)


def test_it_fails_on_an_undefined_variable_naming_it():
    with pytest.raises(ExpressionError) as error:
        r("{{ inputs.nme }}", inputs={"name": "x"})
    assert str(error.value) == "Unable to render `{{ inputs.nme }}`: 'nme' is undefined"
    assert error.value.message == "'nme' is undefined"
    assert error.value.expression == "{{ inputs.nme }}"


def test_it_fails_on_an_undefined_root_variable():
    with pytest.raises(ExpressionError, match="Unable to find `missing2` used in the expression"):
        r("{{ missing is defined ? missing : missing2 }}")
    with pytest.raises(
        ExpressionError,
        match=re.escape(
            "Unable to find `missing` used in the expression `{{ missing }}` at line 1"
        ),
    ):
        r("{{ missing }}")


def test_it_fails_on_an_index_out_of_bounds_and_on_attributes_of_null():
    with pytest.raises(ExpressionError, match="index 3 is out of bounds"):
        r("{{ list[3] }}", **VARS)
    with pytest.raises(ExpressionError, match="of null"):
        r("{{ x.y }}", x=None)


def test_it_reads_attributes_by_dot_and_subscript():
    assert r("{{ block['test'] }}", **VARS) == '{"child":"awesome"}'
    assert r("{{ block['test']['child'] }} {{ block[inner].child }}", **VARS) == "awesome awesome"
    assert r("{{ list[0] }} {{ list.1 }}", **VARS) == "string 1"
    assert r("{{ outputs['task-1'].value + 1 }}", outputs={"task-1": {"value": 41}}) == "42"


def test_it_null_coalesces_undefined_and_null():
    assert r("{{ inner.bla ?? block.test.child }}", **VARS) == "awesome"
    assert r("{{ block.test.child ?? inner.bla }}", **VARS) == "awesome"
    assert r(
        "{{ block[missing].child ?? block[missing2].child ?? block[inner].child }}", **VARS
    ) == ("awesome")
    assert r("{{ null ?? 'IS NULL' }} {{ undefined ?? 'IS UNDEFINED' }}", **VARS) == (
        "IS NULL IS UNDEFINED"
    )
    assert r("{{ block ?? 'UNDEFINED' }}", block={}) == "{}"
    with pytest.raises(ExpressionError, match="Unable to find `missing2` used in the expression"):
        r("{{ missing ?? missing2 }}", **VARS)


def test_it_undefined_coalesces_only_undefined():
    assert r("{{ null ??? 'IS NULL' }}", **VARS) == ""
    assert r("{{ undefined ??? 'IS UNDEFINED' }}") == "IS UNDEFINED"


def test_it_catches_undefined_anywhere_in_the_left_operand():
    assert r("{{ (missing | upper) ?? 'caught' }}") == "caught"
    assert r("{{ missing.deep.path ?? 'caught' }}") == "caught"


def test_it_evaluates_the_left_operand_of_coalescing_once():
    # the right side is evaluated only when needed: no function call behind a defined value
    assert r("{{ x ?? kv('never-called') }}", x="present") == "present"


# -- statements


def test_it_renders_if_elseif_else():
    template = "{% if n > 2 %}big{% elseif n > 1 %}mid{% else %}small{% endif %}"
    assert [r(template, n=n) for n in (3, 2, 1)] == ["big", "mid", "small"]


def test_it_uses_pebble_truthiness_in_if():
    assert r("{% if 'false' %}yes{% endif %}") == "yes"  # a non-empty string is true
    assert r("{% if 0 %}yes{% else %}no{% endif %}") == "no"
    with pytest.raises(ExpressionError, match="null value given to if statement"):
        r("{% if x %}yes{% endif %}", x=None)


def test_it_loops_with_else_and_pebble_loop_variables():
    template = (
        "{% for x in xs %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% else %}none{% endfor %}"
    )
    assert r(template, xs=["a", "b"]) == "0/2:a 1/2:b "
    assert r(template, xs=[]) == "none"
    assert (
        r(
            "{% for x in xs %}{{ loop.first }}{{ loop.last }}{{ loop.revindex }} {% endfor %}",
            xs=[1, 2],
        )
        == "truefalse1 falsetrue0 "
    )


def test_it_iterates_maps_as_entries():
    assert r("{% for e in m %}{{ e.key }}={{ e.value }};{% endfor %}", m={"a": 1, "b": 2}) == (
        "a=1;b=2;"
    )


def test_it_sets_variables_visible_after_a_loop():
    template = "{% set t = 0 %}{% for x in [1, 2, 3] %}{% set t = t + x %}{% endfor %}{{ t }}"
    assert r(template) == "6"


def test_it_defines_and_calls_macros():
    assert r("{% macro hi(name='you') %}Hi {{ name }}{% endmacro %}{{ hi('Bob') }} {{ hi() }}") == (
        "Hi Bob Hi you"
    )


def test_it_applies_filter_blocks():
    assert r("{% filter upper %}hello {{ x }}{% endfilter %}", x="world") == "HELLO WORLD"


def test_it_keeps_raw_blocks_literal():
    assert r("See some code {% raw %}{{ var }}{% endraw %}", var=1) == "See some code {{ var }}"
    assert r("See some code {%raw%}{{ var }}{%endraw%}", var=1) == "See some code {{ var }}"
    assert r("See some code {%-  raw%}{{ var }}{%endraw -%}", var=1) == "See some code {{ var }}"
    assert (
        r("{% raw %}{{ a }}{% endraw %} and {% raw %}{{ b }}{% endraw %}") == "{{ a }} and {{ b }}"
    )
    assert r("{% raw %}\n{{ multi }}\n{% endraw %}") == "\n{{ multi }}\n"


def test_it_refuses_tags_kestra_disables():
    for tag in ("include 'x'", "import 'x'", "extends 'x'", "autoescape true", "block b"):
        with pytest.raises(ExpressionError, match="Unknown tag"):
            r("{% " + tag + " %}")


def test_it_reports_syntax_errors():
    with pytest.raises(ExpressionError, match="syntax error"):
        r("{{ | toJson }}")
    with pytest.raises(ExpressionError, match="syntax error"):
        r("{{ {not: json} | toJson }}")
    with pytest.raises(ExpressionError, match="syntax error"):
        r("{{ get missing }}")


def test_it_names_the_line_of_an_error_in_a_multiline_template():
    with pytest.raises(ExpressionError) as error:
        r("line one\nline two {{ missing }}")
    assert error.value.line == 2
    assert "at line 2" in str(error.value)


# -- rendering modes


def test_it_renders_once_unless_asked():
    variables = {"first": "1", "second": "{{first}}", "third": "{{second}}"}
    assert r("{{ third }}", **variables) == "{{second}}"


def test_it_renders_every_string_of_a_value_keys_included():
    ctx = RenderContext({"test": "top", "test2": "awesome"})
    value = {"string": "{{test}}", "list": ["{{test}}", "{{test2}}"], "int": 1, "{{test}}": 2}
    assert render_value(value, ctx) == {
        "string": "top",
        "list": ["top", "awesome"],
        "int": 1,
        "top": 2,
    }
    assert render_value({"numbers": [1, 2, 3]}, ctx) == {"numbers": [1, 2, 3]}


def test_it_names_the_property_path_in_errors():
    ctx = RenderContext({"inputs": {}})
    with pytest.raises(ExpressionError) as error:
        render_value({"tasks": [{"message": "{{ inputs.nme }}"}]}, ctx)
    assert error.value.path == "tasks[0].message"
    assert str(error.value) == (
        "Unable to render `{{ inputs.nme }}` in `tasks[0].message`: 'nme' is undefined"
    )
    with pytest.raises(ExpressionError, match="in `message`"):
        render_value("{{ inputs.nme }}", ctx, path="message")


def test_it_returns_native_values_for_a_single_expression_when_typed():
    ctx = RenderContext({"n": 3, "items": [1, 2], "flag": False, "nothing": None})
    assert render_typed("{{ n + 1 }}", ctx) == 4
    assert render_typed("{{ items }}", ctx) == [1, 2]
    assert render_typed(" {{ flag }} ", ctx) is False
    assert render_typed("{{ nothing }}", ctx) is None
    assert render_typed("{{ {'a': n} }}", ctx) == {"a": 3}
    assert render_typed("n={{ n }}", ctx) == "n=3"
    assert render_typed("plain", ctx) == "plain"


def test_it_renders_from_plain_mappings():
    assert render("{{ a.b }}", RenderContext({"a": {"b": "c"}})) == "c"


def test_it_passes_null_for_macro_arguments_left_out():
    template = '{% macro m(a, b="x") %}[{{ a }}{{ b }}]{% endmacro %}{{ m() }}{{ m(1, 2) }}'
    assert r(template) == "[x][12]"


def test_it_reads_not_before_is_as_pebble_does():
    assert r("{{ not missing is defined }}") == "false"  # (not missing) is defined


def test_it_wraps_integers_at_64_bits_like_java_longs():
    assert r("{{ 9223372036854775807 + 1 }}") == "-9223372036854775808"
    template = "{% set x = 3 %}{% for i in range(1, 60) %}{% set x = x * x %}{% endfor %}{{ x }}"
    assert r(template).lstrip("-").isdigit()


def test_it_reads_any_mapping():
    ctx = RenderContext(MappingProxyType({"a": MappingProxyType({"b": "c"})}))
    assert render("{{ a.b }} {{ a }}", ctx) == 'c {"b":"c"}'


def test_it_keeps_expression_errors_picklable():
    with pytest.raises(ExpressionError) as caught:
        render_value({"message": "{{ nope }}"}, RenderContext({}))
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert str(copy) == str(caught.value)
    assert (copy.expression, copy.message, copy.path) == (
        "{{ nope }}",
        "Unable to find `nope` used in the expression",
        "message",
    )
