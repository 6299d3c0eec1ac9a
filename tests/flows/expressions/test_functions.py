"""One test per function; expected values from Kestra's tests (core/src/test/java/io/kestra/
core/runners/pebble/functions/*Test.java and PebbleVariableRendererTest.recursive)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from flows.expressions import ExpressionError, RenderContext, render, render_typed
from tests.flows.expressions.support import FLOW_VARIABLES, FakeServices, r


def rs(template: str, services: FakeServices | None = None, **variables) -> str:
    """Render with the flow/execution variables and the fake services."""
    return render(template, RenderContext({**FLOW_VARIABLES, **variables}, services))


def test_it_gives_now_in_a_zone_and_format():
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert r("{{ now() }}").startswith(today)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r("{{ now() }}"))
    assert r("{{ now(format='iso_local_date') }}") == today
    lisbon = r("{{ now(timeZone='Europe/Lisbon', format='yyyy-MM-dd') }}")
    assert (
        lisbon
        == dt.datetime.now(dt.UTC)
        .astimezone(__import__("zoneinfo").ZoneInfo("Europe/Lisbon"))
        .date()
        .isoformat()
    )


def test_it_parses_json_with_from_json_and_json():
    assert r('{{ fromJson(\'{"test1": 1, "test2": 2}\').test1 }}') == "1"
    assert r('{{ fromJson(\'{"test1": [{"test1": 666}, 2, 3]}\').test1[0].test1 }}') == "666"
    assert r("{{ fromJson('[1, 2, 3]')[0] }}") == "1"
    assert r("{{ fromJson('{\"empty_object\":{}}') }}") == '{"empty_object":{}}'
    assert r("{{ fromJson(null) }}") == ""
    assert r("{{ json('{\"test1\": 1}').test1 }}") == "1"
    with pytest.raises(ExpressionError, match="expects an argument 'json'"):
        r("{{ fromJson() }}")
    with pytest.raises(ExpressionError, match="Invalid json"):
        r("{{ fromJson('{not: json}') }}")


def test_it_parses_yaml():
    source = (
        "# comment\nstring: string\nint: 123\nbool: true\nfloat: 1.23\n"
        'instant: "1918-02-24T00:00:00Z"\ndate: 1991-08-20\ntime: "23:59:59"\n'
        'object:\n  key: "value"\n  child:\n    key: "value"\narray:\n  - string\n'
        "answer: yes\n"
    )
    y = {"yaml": source}
    assert r("{{ yaml(yaml).string }} {{ yaml(yaml).int }} {{ yaml(yaml).bool }}", **y) == (
        "string 123 true"
    )
    assert r("{{ yaml(yaml).float }} {{ yaml(yaml).instant }}", **y) == "1.23 1918-02-24T00:00:00Z"
    assert r("{{ yaml(yaml).date }} {{ yaml(yaml).time }}", **y) == "1991-08-20 23:59:59"
    assert r("{{ yaml(yaml).object.child.key }} {{ yaml(yaml).array[0] }}", **y) == "value string"
    assert r("{{ yaml(yaml).answer }}", **y) == "yes"  # only true/false are booleans
    with pytest.raises(ExpressionError, match="with type string"):
        r("{{ yaml(1) }}")


def test_it_parses_ion():
    ion = '{date:2024-04-21T23:00:00.000Z, title:"Main_Page",views:109787}'
    assert r("{{ fromIon('" + ion + "').title }}") == "Main_Page"
    assert r("{{ fromIon('" + ion + "').views + 1 }}") == "109788"
    assert r("{{ fromIon(null) }}") == ""
    assert render_typed(
        "{{ fromIon(x) }}",
        RenderContext({"x": "a::{'k 1':[1.5, 2d1, 3e0, null.int, \"\\u00e9\"], s:sym}"}),
    ) == {"k 1": [Decimal("1.5"), Decimal("2E+1"), 3.0, None, "é"], "s": "sym"}
    with pytest.raises(ExpressionError):
        r("{{ fromIon() }}")
    with pytest.raises(ExpressionError, match="Invalid ion"):
        r("{{ fromIon('{not: ion') }}")


def test_it_picks_the_current_each_output():
    outputs = {"a": {"x": {"value": "ax"}, "y": {"value": "ay"}}}
    variables = {
        "outputs": {"t": outputs},
        "parents": [{"taskrun": {"value": "a"}}],
        "taskrun": {"value": "y"},
    }
    assert r("{{ currentEachOutput(outputs.t).value }}", **variables) == "ay"
    with pytest.raises(ExpressionError, match="with type map"):
        r("{{ currentEachOutput('x') }}", **variables)


def test_it_reads_secrets_and_records_them_for_masking():
    services = FakeServices()
    ctx = RenderContext(dict(FLOW_VARIABLES), services)
    assert render("token={{ secret('my_secret') }}", ctx) == "token=s3cr3t-value"
    assert ctx.secrets_seen == {"s3cr3t-value"}
    assert ("secret", "company.team", "my_secret") in services.calls
    assert render("[{{ secret('unknown') }}]", ctx) == "[]"  # OSS: a missing secret is null


def test_it_reads_the_kv_store():
    services = FakeServices()
    assert rs("{{ kv('my-key').field }}", services) == "value"
    assert rs("{{ kv('absent') }}", services) == ""
    assert rs("{{ kv('my-key', 'company.team', false).field }}", services) == "value"
    assert rs("{{ kv('my-key', namespace='other') ?? 'none' }}", services) == "none"
    with pytest.raises(ExpressionError) as error:
        rs("{{ kv('my-key', 'company', true).field }}", services)
    assert error.value.message == "The key 'my-key' does not exist in the namespace 'company'."


def test_it_says_which_function_has_no_service():
    for call in ("kv('k')", "secret('k')", "read('f')", "errorLogs()"):
        name = call.split("(")[0]
        with pytest.raises(ExpressionError, match=re.escape(f"{name}() is not available here")):
            rs("{{ " + call + " }}")


def test_it_reads_namespace_files_and_execution_files():
    services = FakeServices()
    uri = "kestra:///company/team/my-flow/executions/exec1/tasks/t/run1/out.txt"
    assert rs("{{ read('data/readme.txt') }}", services) == "namespace file"
    assert rs("{{ read(uri) }}", services, uri=uri) == "file body"
    other = "kestra:///company/team/my-flow/executions/other/tasks/t/run1/out.txt"
    with pytest.raises(ExpressionError, match="didn't belong to the current execution"):
        rs("{{ read(uri) }}", services, uri=other)
    parent = {"namespace": "company.team", "flowId": "my-flow", "executionId": "other"}
    services.files[other] = "parent file"
    assert rs("{{ read(uri) }}", services, uri=other, trigger=parent) == "parent file"


def test_it_builds_file_uris():
    assert rs("{{ fileURI(fileA) }}", fileA="test") == "kestra:///company/team/_files/test"
    assert rs("{{ fileURI('/dir/f.txt') }}") == "kestra:///company/team/_files/dir/f.txt"
    with pytest.raises(ExpressionError, match=r"Path must not contain '\.\./'"):
        rs("{{ fileURI(fileA) }}", fileA="../test")


def test_it_measures_file_sizes():
    services = FakeServices()
    uri = "kestra:///company/team/my-flow/executions/exec1/tasks/t/run1/out.txt"
    assert rs("{{ fileSize(uri) }}", services, uri=uri) == "9"
    with pytest.raises(ExpressionError, match="Unable to create the URI"):
        rs("{{ fileSize('relative.txt') }}", services)


def test_it_lists_error_logs():
    services = FakeServices()
    template = "{% for log in errorLogs() %}- {{ log.taskId }}: {{ log.message }}{% endfor %}"
    assert rs(template, services) == "- fail: Task failure"
    services.logs = []
    assert rs("{{ errorLogs() }}", services) == "[]"


def test_it_renders_values_holding_expressions():
    variables = {
        "first": "1",
        "second": "{{first}}",
        "third": "{{second}}",
        "fourth": "{{render(third, recursive=false)}}",
        "map": {"third": "{{third}}"},
        "list": ["{{third}}"],
    }
    assert r("{{ third }}", **variables) == "{{second}}"
    assert r("{{ render(third, recursive=false) }}", **variables) == "{{first}}"
    assert r("{{ render(third) }}", **variables) == "1"
    assert r("{{ render(fourth) }}", **variables) == "1"
    assert r("{{ map }}", **variables) == '{"third":"{{third}}"}'
    assert r("{{ render(map, recursive=false) }}", **variables) == '{"third":"{{second}}"}'
    assert r("{{ render(map) }}", **variables) == '{"third":"1"}'
    assert r("{{ render(list) }}", **variables) == '["1"]'
    assert r("{{ render(input) }} {{ render(n) }} {{ render(b) }}", input="test", n=42, b=True) == (
        "test 42 true"
    )
    assert r("{{ render(x) }}", x=None) == ""


def test_it_renders_once_with_render_once():
    assert r("{{ renderOnce(input) }}", input="test") == "test"
    assert r("{{ renderOnce(input) }}", input="{{someOtherVar}}", someOtherVar="test") == "test"
    assert (
        r(
            "{{ renderOnce(input) }}",
            input="{{someOtherVar}}",
            someOtherVar="{{yetAnotherVar}}",
            yetAnotherVar="test",
        )
        == "{{yetAnotherVar}}"
    )


def test_it_stops_endless_rendering():
    with pytest.raises(ExpressionError, match="Too many rendering attempts"):
        r("{{ render(first) }}", first="{{second}}", second="{{first}}")


def test_it_encrypts_and_decrypts():
    key = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    encrypted = r("{{ encrypt(secretKey, 'toto') }}", secretKey=key)
    assert encrypted != "toto"
    assert r("{{ decrypt(secretKey, '" + encrypted + "') }}", secretKey=key) == "toto"
    with pytest.raises(ExpressionError, match="two arguments"):
        r("{{ encrypt('toto') }}")
    with pytest.raises(ExpressionError, match="Unable to decrypt"):
        r("{{ decrypt(k, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') }}", k=key)


def test_it_prints_the_context():
    rendered = r("{{ printContext() }}", test="value", array=["a", "b", "c"])
    assert json.loads(rendered) == {"test": "value", "array": ["a", "b", "c"]}
    assert json.loads(r("{% set x = 1 %}{{ fetchContext() }}"))["x"] == 1


def test_it_builds_ranges_with_range():
    assert r("{{ range(1, 5, 2) }}") == "[1,3,5]"
    with pytest.raises(ExpressionError, match="different than 0"):
        r("{{ range(1, 5, 0) }}")


def test_it_takes_min_and_max():
    assert r("{{ max(1, 5, 3) }} {{ min(4, 2.5, 3) }}") == "5 2.5"


def test_it_refuses_an_unknown_function():
    with pytest.raises(ExpressionError, match=r"Function or Macro \[nope\] does not exist"):
        r("{{ nope() }}")


def test_it_calls_a_few_java_methods():
    assert r("{{ 'a,b'.split(',') }} {{ 'Kestra'.toUpperCase() }}") == '["a","b"] KESTRA'
    assert r("{{ items.size() }} {{ items.size }} {{ 'abc'.length() }}", items=[1, 2]) == "2 2 3"
    assert r("{{ m.keySet() }} {{ m.containsKey('a') }}", m={"a": 1}) == '["a"] true'
    with pytest.raises(ExpressionError, match="does not exist on this value"):
        r("{{ 'a'.format() }}")
