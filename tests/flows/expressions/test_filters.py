"""One test per filter; expected values from Kestra's tests (core/src/test/java/io/kestra/
core/runners/pebble/filters/*Test.java) and Pebble 3.2.2's filter sources."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from flows.expressions import ExpressionError
from tests.flows.expressions.support import r

NOW = dt.datetime(2013, 9, 8, 16, 19, 12, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
SECOND = {
    "string": "string",
    "int": 1,
    "float": 1.123,
    "list": ["string", 1, 1.123],
    "bool": True,
    "map": {"string": "string", "int": 1, "float": 1.123},
}


# -- Pebble core filters


def test_it_abbreviates():
    assert r("{{ 'this is a long sentence' | abbreviate(7) }}") == "this..."
    assert r("{{ 'short' | abbreviate(10) }}") == "short"


def test_it_takes_abs():
    assert r("{{ -5 | abs }} {{ -2.5 | abs }}") == "5 2.5"
    with pytest.raises(ExpressionError, match="abs"):
        r("{{ 'a' | abs }}")


def test_it_encodes_and_decodes_base64():
    assert r("{{ 'Kestra' | base64encode }}") == "S2VzdHJh"
    assert r("{{ 'S2VzdHJh' | base64decode }}") == "Kestra"
    with pytest.raises(ExpressionError, match="Base64"):
        r("{{ '***' | base64decode }}")


def test_it_capitalizes_and_titles():
    assert r("{{ '  hello world' | capitalize }}") == "  Hello world"
    assert r("{{ 'hello big world' | title }}") == "Hello Big World"


def test_it_uses_default_for_null_empty_and_undefined():
    assert r("{{ missing | default('d') }}") == "d"
    assert r("{{ x | default('d') }} {{ '' | default('e') }} {{ [] | default('f') }}", x=None) == (
        "d e f"
    )
    assert r("{{ 'v' | default('d') }} {{ 0 | default('d') }}") == "v 0"
    assert r("{{ inputs.missing.deep | default('d') }}", inputs={}) == "d"


def test_it_takes_first_and_last():
    assert r("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }}") == "1 3"
    assert r("{{ 'abc' | first }} {{ 'abc' | last }}") == "a c"
    assert r("{{ [] | first }}") == ""


def test_it_joins():
    assert r("{{ [1, 'a', null] | join(', ') }}") == "1, a, null"
    assert r("{{ ['a', 'b'] | join }}") == "ab"


def test_it_measures_length():
    assert r("{{ 'abc' | length }} {{ [1, 2] | length }} {{ {'a': 1} | length }}") == "3 2 1"
    assert r("{{ x | length }}", x=None) == "0"


def test_it_changes_case():
    assert (
        r("{{ 'Kestra' | upper }} {{ 'Kestra' | lower }} {{ true | upper }}")
        == "KESTRA kestra TRUE"
    )


def test_it_trims():
    assert r("{{ '  a b \n' | trim }}") == "a b"


def test_it_merges_maps_and_lists():
    assert r("{{ {'a': 1} | merge({'b': 2}) }}") == '{"a":1,"b":2}'
    assert r("{{ [1] | merge([2, 3]) }}") == "[1,2,3]"
    assert r("{{ x | merge([1]) }}", x=None) == "[1]"


def test_it_reverses_and_sorts():
    assert r("{{ [1, 3, 2] | reverse }}") == "[2,3,1]"
    assert r("{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | rsort }}") == "[1,2,3] [3,2,1]"
    assert r("{{ ['b', 'a'] | sort }}") == '["a","b"]'


def test_it_slices():
    assert r("{{ [1, 2, 3, 4] | slice(1, 3) }} {{ 'kestra' | slice(2) }}") == "[2,3] stra"
    with pytest.raises(ExpressionError, match="toIndex must be smaller"):
        r("{{ [1] | slice(0, 5) }}")


def test_it_splits_with_a_java_regex():
    assert r("{{ 'a,b,,c,,' | split(',') }}") == '["a","b","","c"]'
    assert r("{{ 'a.b.c' | split('\\.') }}") == '["a","b","c"]'
    assert r("{{ 'a,b,c' | split(',', 2) }}") == '["a","b,c"]'


def test_it_hashes():
    assert r("{{ 'hello' | sha256 }}") == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert r("{{ 'hello' | sha1 }}") == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    assert r("{{ 'hello' | md5 }}") == "5d41402abc4b2a76b9719d911017c592"
    assert r("{{ 'hello' | sha512 }}").startswith("9b71d224bd62f378")
    with pytest.raises(ExpressionError, match="Need a string to hash"):
        r("{{ 1 | md5 }}")


def test_it_url_encodes_and_decodes_like_java():
    assert r("{{ 'Kestra rulez ! ~*' | urlencode }}") == "Kestra+rulez+%21+%7E*"
    assert r("{{ 'Kestra rulez !' | urlencode | urldecode }}") == "Kestra rulez !"


def test_it_formats_numbers_with_java_patterns():
    assert r('{{ var | numberFormat("#.##") }}', var=1.232654) == "1.23"
    assert r("{{ 1234567.891 | numberFormat('#,##0.00') }}") == "1,234,567.89"
    assert r("{{ 0.256 | numberFormat('#%') }} {{ 5 | numberFormat('000') }}") == "26% 005"
    assert r("{{ 2.5 | numberFormat('#') }} {{ 3.5 | numberFormat('#') }}") == "2 4"  # HALF_EVEN
    assert r("{{ 1234.5 | numberFormat }}") == "1,234.5"


# -- Kestra's filters


def test_it_chunks():
    assert r("{{ list | chunk(2) }}", list=[1, 2, 3, 4, 5, 6, 7, 8, 9]) == (
        "[[1,2],[3,4],[5,6],[7,8],[9]]"
    )
    with pytest.raises(ExpressionError):
        r("{{ test | chunk(2) }}", test=1)


def test_it_names_java_classes():
    assert r("{{ 'a' | className }} {{ 1 | className }} {{ true | className }}") == (
        "java.lang.String java.lang.Integer java.lang.Boolean"
    )
    assert r("{{ {} | className }} {{ [] | className }}") == (
        "java.util.LinkedHashMap java.util.ArrayList"
    )


def test_it_formats_dates():
    template = (
        "{{ zoned | date(format='iso', timeZone='Europe/Paris') }}\n"
        '{{ zoned | date(format="iso_sec", timeZone="Europe/Paris") }}\n'
        '{{ local | date(format="yyyy-MM-dd HH:mm:ss.SSSSSSXXX", timeZone="Europe/Paris") }}\n'
        '{{ local | date(format="yyyy-MM-dd HH:mm:ss.SSSSSSXXX", timeZone="UTC") }}'
    )
    assert r(template, zoned=NOW, local=NOW.replace(tzinfo=None)) == (
        "2013-09-08T17:19:12.123456+02:00\n"
        "2013-09-08T17:19:12+02:00\n"
        "2013-09-08 16:19:12.123456+02:00\n"
        "2013-09-08 16:19:12.123456Z"
    )


def test_it_parses_date_strings():
    template = (
        '{{ "July 24, 2001" | date("yyyy-MM-dd", existingFormat="MMMM dd, yyyy") }}\n'
        '{{ "2013-09-08T17:19:12+02:00" | date(timeZone="Europe/Paris") }}\n'
        '{{ "2013-09-08T17:19:12" | date(timeZone="Europe/Paris") }}\n'
        '{{ "2013-09-08" | date(timeZone="Europe/Paris") }}\n'
        "{{ 'Tue, 08 Feb 2022 19:38:26 GMT' | date(existingFormat='rfc_1123_date_time',"
        ' timeZone="Europe/Paris") }}'
    )
    assert r(template) == (
        "2001-07-24\n"
        "2013-09-08T17:19:12.000000+02:00\n"
        "2013-09-08T17:19:12.000000+02:00\n"
        "2013-09-08T00:00:00.000000+02:00\n"
        "2022-02-08T20:38:26.000000+01:00"
    )


def test_it_formats_dates_with_named_formats_and_java_letters():
    d = dt.datetime(2024, 1, 5, 15, 4, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert r("{{ d | date('iso_date_time', timeZone='Europe/Paris') }}", d=d) == (
        "2024-01-05T15:04:05+01:00[Europe/Paris]"
    )
    assert r("{{ d | date('iso_instant') }} {{ d | date('sql_seq') }}", d=d) == (
        "2024-01-05T14:04:05Z 2024-01-05 14:04:05"
    )
    assert r("{{ d | date(\"EEE, d MMM yy h:mm a 'at' Q\", timeZone='Europe/Paris') }}", d=d) == (
        "Fri, 5 Jan 24 3:04 PM at 1"
    )
    assert r("{{ 0 | date('yyyy-MM-dd HH:mm') }}") == "1970-01-01 00:00"
    with pytest.raises(ExpressionError, match="could not be parsed"):
        r("{{ 'not a date' | date }}")


def test_it_adds_to_dates():
    assert r('{{ zoned | dateAdd(-1, "DAYS", timeZone="Europe/Paris") }}', zoned=NOW) == (
        "2013-09-07T17:19:12.123456+02:00"
    )
    assert r("{{ '2024-01-31T00:00:00Z' | dateAdd(1, 'MONTHS', format='yyyy-MM-dd') }}") == (
        "2024-02-29"
    )
    assert r("{{ '2024-01-01T00:00:00Z' | dateAdd(90, 'MINUTES', format='HH:mm') }}") == "01:30"
    with pytest.raises(ExpressionError, match=r"ChronoUnit\.FORTNIGHTS"):
        r("{{ '2024-01-01T00:00:00Z' | dateAdd(1, 'FORTNIGHTS') }}")


def test_it_gives_timestamps():
    assert r('{{ zoned | timestamp(timeZone="Europe/Paris") }}', zoned=NOW) == "1378653552"
    assert r("{{ zoned | timestampNano }}", zoned=NOW) == "1378653552123456000"
    # Kestra 0.20 adds microseconds to epoch nanoseconds; kept for compatibility
    assert r("{{ zoned | timestampMicro }}", zoned=NOW) == "1378653552000123456"
    assert r("{{ (z | timestamp) > (z | dateAdd(-1, 'DAYS') | timestamp) }}", z=NOW) == "true"


def test_it_runs_jq_and_always_returns_a_list():
    assert r('{{ [1, 2, 3] | jq(".[0]") | first }}') == "1"
    assert r('{{ my_vars | jq(".test[0]") }}', my_vars={"test": [1, 2, 3]}) == "[1]"
    assert r('{{ vars | jq(".second[]") }}', vars={"second": [1, 2, 3]}) == "[1,2,3]"
    assert r('{{ vars | jq(".second.map") | first }}', vars={"second": SECOND}) == (
        '{"string":"string","int":1,"float":1.123}'
    )
    assert r("{{ '{\"a\": {\"b\": true}}' | jq('.a.b') | first }}") == "true"
    assert r('{% set o = v | jq(".object") %}{{ o[0].key }}', v={"object": {"key": "value"}}) == (
        "value"
    )
    with pytest.raises(ExpressionError, match="Unable to parse jq value"):
        r("{{ [1] | jq('.[') }}")


def test_it_escapes_characters():
    assert r("{{ \"L'eau c'est la vie\" | escapeChar('single') }}") == "L\\'eau c\\'est la vie"
    assert r("{{ '\"Hello\"' | escapeChar('double') }}") == '\\"Hello\\"'
    assert r("{{ \"L'eau c'est la vie\" | escapeChar('shell') }}") == "L'\\''eau c'\\''est la vie"
    assert r("{{ '' | escapeChar('shell') }}") == ""
    for kind in ("foo", ""):
        with pytest.raises(ExpressionError, match="escapeChar"):
            r("{{ 'Hello' | escapeChar('" + kind + "') }}")


def test_it_writes_json():
    v = {"second": SECOND}
    assert r("{{ v.second.string | toJson }} {{ v.second.int | toJson }}", v=v) == '"string" 1'
    assert r("{{ v.second.float | toJson }} {{ v.second.bool | toJson }}", v=v) == "1.123 true"
    assert r("{{ v.second.list | toJson }}", v=v) == '["string",1,1.123]'
    assert r('{{ {"empty_object":{}} | toJson }}') == '{"empty_object":{}}'
    assert r("{{ null | toJson }} {{ v.second.string | json }}", v=v) == 'null "string"'
    paris = dt.timezone(dt.timedelta(hours=2))
    assert r("{{ d | toJson }}", d=dt.datetime(2013, 9, 8, 16, 19, tzinfo=paris)) == (
        '"2013-09-08T16:19:00+02:00"'
    )


def test_it_writes_ion():
    v = {"second": SECOND}
    assert r("{{ v.second.string | toIon }} {{ v.second.int | toIon }}", v=v) == '"string" 1'
    assert r("{{ v.second.float | toIon }}", v=v) == "1.123e0"
    assert r("{{ v.second.map | toIon }}", v=v) == '{string:"string",int:1,float:1.123e0}'
    assert r('{{ {"empty_object":{}} | toIon }} {{ null | toIon }}') == "{empty_object:{}} null"


def test_it_writes_yaml():
    v = {"second": SECOND}
    assert r("{{ v.second.string | yaml }}", v=v) == "string\n"
    assert r("{{ v.second.int | yaml }}{{ v.second.bool | yaml }}", v=v) == "1\ntrue\n"
    assert r("{{ v.second.list | yaml }}", v=v) == " - string\n - 1\n - 1.123\n"
    rendered = r("{{ v.second.map | yaml }}", v=v)
    assert "int: 1\n" in rendered
    assert "float: 1.123\n" in rendered
    assert "string: string\n" in rendered
    assert r("{{ {'a': 'true', 'b': ''} | yaml }}") == 'a: "true"\nb: ""\n'


def test_it_lists_keys_and_values():
    assert r("{{ v | keys }}", v=["a", "b", "c"]) == "[0,1,2]"
    assert r("{{ v | keys }}", v=SECOND) == '["string","int","float","list","bool","map"]'
    assert json.loads(r("{{ v.map | values }}", v=SECOND)) == ["string", 1, 1.123]
    with pytest.raises(ExpressionError, match="'values' filter can only be applied to Map"):
        r("{{ [1] | values }}")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ "12.3" | number | className }}', "java.lang.Float"),
        ('{{ "2147483647" | number | className }}', "java.lang.Integer"),
        ('{{ "9223372036854775807" | number | className }}', "java.lang.Long"),
        (
            "{{ \"9223372036854775807\" | number('BIGDECIMAL') | className }}",
            "java.math.BigDecimal",
        ),
        (
            "{{ \"9223372036854775807\" | number('BIGINTEGER') | className }}",
            "java.math.BigInteger",
        ),
        ("{{ \"9223372036854775807\" | number('DOUBLE') | className }}", "java.lang.Double"),
        ('{{ "12.3" | number + 1 }}', "13.3"),
    ],
)
def test_it_parses_numbers(template, expected):
    assert r(template) == expected


def test_it_slugifies():
    assert r('{{ "Test\t\t\ntest*" | slugify }}') == "test-test"
    assert r("{{ 'Héllo Wörld_2' | slugify }}") == "hello-world-2"


def test_it_takes_substrings():
    assert r("{{ 'a.b.c' | substringBefore('.') }}") == "a"
    assert r("{{ 'a.b.c' | substringAfter(separator='.') }}") == "b.c"
    assert r("{{ 'a.b.c' | substringBeforeLast(separator='.') }}") == "a.b"
    assert r("{{ 'a.b.c' | substringAfterLast('.') }}") == "c"
    assert r("{{ 'abc' | substringBefore('x') }}|{{ 'abc' | substringAfter('x') }}") == "abc|"


def test_it_flattens():
    assert r("{{ [1, [2, 3], [[4]]] | flatten }}") == "[1,2,3,[4]]"
    assert r("{{ nested | flatten | first }}", nested=[["a", "b"], "c"]) == "a"


def test_it_indents():
    assert r("{{ null | indent(2) }}|{{ '' | indent(2) }}|{{ 'string' | indent(2) }}") == "||string"
    assert r('{{ "\n\n" | indent(2) }}') == "\n  \n  "
    assert r('{{ "first line\r\nsecond line" | indent(2) }}') == "first line\r\n  second line"
    assert r('{{ "first line\nsecond line" | indent(2, "\t") }}') == "first line\n\t\tsecond line"


def test_it_nindents():
    assert r("{{ 'string' | nindent(2) }}|{{ 1 | nindent(2) }}") == "\n  string|\n  1"
    assert r('{{ "\n\n" | nindent(2) }}') == "\n  \n  \n  "
    assert r('{{ "first line\rsecond line" | nindent(2) }}') == "\r  first line\r  second line"


def test_it_tests_prefixes_and_suffixes():
    assert r('{{ "Hello World" | startsWith("Hello") }}') == "true"
    assert r('{{ "Hello World" | endsWith("World") }} {{ "Hello" | endsWith("x") }}') == (
        "true false"
    )


def test_it_replaces_with_a_map():
    assert r("{{ 'john doe is john doe' | replace({'john': 'jane'}) }}") == "jane doe is jane doe"
    assert r("{{ 'aa1bb2cc3dd4ee5' | replace({'(\\d)': '-$1-'}, regexp=true) }}") == (
        "aa-1-bb-2-cc-3-dd-4-ee-5-"
    )
    assert r("{{ ['ab', {'k': 'ab'}] | replace({'a': 'x'}) }}") == '["xb",{"k":"xb"}]'
    with pytest.raises(ExpressionError, match="replace_pairs"):
        r("{{ 'a' | replace }}")


def test_it_refuses_an_unknown_filter():
    with pytest.raises(ExpressionError, match=r"Filter \[nope\] does not exist"):
        r("{{ 1 | nope }}")


def test_it_refuses_too_many_arguments():
    with pytest.raises(ExpressionError, match="The argument at position 2 is not allowed"):
        r("{{ 'a.b' | substringBefore('.', 'x') }}")
