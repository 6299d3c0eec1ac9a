"""kv.Set, kv.Get, kv.GetKeys and kv.Delete over an in-memory KV store."""

from datetime import date, datetime, timedelta

import pytest

from executions.engine.local import MemoryKV
from executions.engine.states import State
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import messages, outputs_of, run_task

SET = "io.kestra.plugin.core.kv.Set"
GET = "io.kestra.plugin.core.kv.Get"
KEYS = "io.kestra.plugin.core.kv.GetKeys"
DELETE = "io.kestra.plugin.core.kv.Delete"
NS = "company.team"


class RecordingKV(MemoryKV):
    def __init__(self) -> None:
        super().__init__(NS)
        self.ttls: list[timedelta | None] = []

    def set(self, key, value, namespace=None, *, ttl=None, overwrite=True):
        self.ttls.append(ttl)
        super().set(key, value, namespace, ttl=ttl, overwrite=overwrite)


def test_it_sets_a_value_in_the_flow_namespace_and_reads_it_back_in_a_flow():
    kv = MemoryKV(NS)
    result = run(
        f"""
        tasks:
          - id: set
            type: {SET}
            key: "{{{{ flow.id }}}}-count"
            value: "{{{{ 42 }}}}"
          - id: get
            type: {GET}
            key: test-count
        """,
        kv=kv,
    )
    assert result.execution.current is State.SUCCESS
    assert kv.values == {(NS, "test-count"): 42}
    assert outputs_of(result, "get") == {"value": 42}


def test_it_renders_a_text_value_as_text_and_a_map_recursively():
    kv = MemoryKV(NS)
    run_task(SET, key="a", value="id={{ flow.id }}", kv=kv)
    run_task(SET, key="b", value={"flow": "{{ flow.id }}", "n": [1, "{{ task.id }}"]}, kv=kv)
    run_task(SET, key="c", value=7, kv=kv)
    assert kv.values[(NS, "a")] == "id=test"
    assert kv.values[(NS, "b")] == {"flow": "test", "n": [1, "t"]}
    assert kv.values[(NS, "c")] == 7


@pytest.mark.parametrize(
    ("kv_type", "text", "stored"),
    [
        ("NUMBER", "3.5", 3.5),
        ("NUMBER", "12", 12),
        ("BOOLEAN", "TRUE", True),
        ("BOOLEAN", "yes", False),
        ("JSON", '{"a": [1, 2]}', {"a": [1, 2]}),
        ("DURATION", "PT1H30M", timedelta(hours=1, minutes=30)),
        ("DATE", "2024-12-20", date(2024, 12, 20)),
        ("DATETIME", "2024-12-20T10:00:00Z", datetime.fromisoformat("2024-12-20T10:00:00+00:00")),
        ("STRING", "42", "42"),
    ],
)
def test_it_converts_a_text_value_to_its_kv_type(kv_type, text, stored):
    kv = MemoryKV(NS)
    outcome = run_task(SET, key="k", value=text, kvType=kv_type, kv=kv)
    assert outcome.action.state is State.SUCCESS
    assert kv.values[(NS, "k")] == stored


def test_it_fails_a_value_that_is_not_of_its_kv_type():
    outcome = run_task(SET, key="k", value="abc", kvType="NUMBER", kv=MemoryKV(NS))
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1][1].startswith("Unable to convert 'abc' to NUMBER")


def test_it_writes_to_another_namespace_when_told():
    kv = MemoryKV(NS)
    run_task(SET, key="k", value="v", namespace="other.{{ flow.id }}", kv=kv)
    assert kv.values == {("other.test", "k"): "v"}


def test_it_refuses_to_overwrite_when_overwrite_is_false_with_kestras_message():
    kv = MemoryKV(NS)
    kv.set("k", "old")
    outcome = run_task(SET, key="k", value="new", overwrite=False, kv=kv)
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [
        (
            "ERROR",
            "Cannot set value for key 'k'. Key already exists and `overwrite` is set to `false`.",
        )
    ]
    assert kv.values[(NS, "k")] == "old"
    assert run_task(SET, key="fresh", value="v", overwrite=False, kv=kv).action.state is (
        State.SUCCESS
    )


def test_it_hands_the_ttl_to_the_store_and_refuses_a_negative_one():
    kv = RecordingKV()
    run_task(SET, key="k", value="v", ttl="PT10M", kv=kv)
    run_task(SET, key="k", value="v", kv=kv)
    assert kv.ttls == [timedelta(minutes=10), None]
    outcome = run_task(SET, key="k", value="v", ttl="-PT1M", kv=kv)
    assert messages(outcome)[-1] == ("ERROR", "ttl cannot be negative")


def test_it_refuses_an_invalid_key_with_kestras_message():
    outcome = run_task(SET, key="-bad key", value="v", kv=MemoryKV(NS))
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1][1].startswith("Key must start with an alphanumeric character")


def test_it_gets_null_for_a_missing_key_or_fails_when_told():
    kv = MemoryKV(NS)
    assert run_task(GET, key="nope", kv=kv).action.outputs == {"value": None}
    outcome = run_task(GET, key="nope", errorOnMissing=True, kv=kv)
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [
        (
            "ERROR",
            "No value found for key 'nope' in namespace 'company.team' and `errorOnMissing` "
            "is set to true",
        )
    ]


def test_it_gets_a_value_of_another_namespace():
    kv = MemoryKV(NS)
    kv.set("k", {"a": 1}, "other")
    assert run_task(GET, key="k", namespace="other", kv=kv).action.outputs == {"value": {"a": 1}}
    assert run_task(GET, key="k", kv=kv).action.outputs == {"value": None}


def test_it_lists_keys_with_a_prefix():
    kv = MemoryKV(NS)
    for key in ("app.one", "app.two", "db.url"):
        kv.set(key, 1)
    kv.set("app.elsewhere", 1, "other")
    assert run_task(KEYS, prefix="app.", kv=kv).action.outputs == {"keys": ["app.one", "app.two"]}
    assert run_task(KEYS, kv=kv).action.outputs == {"keys": ["app.one", "app.two", "db.url"]}
    assert run_task(KEYS, namespace="other", kv=kv).action.outputs == {"keys": ["app.elsewhere"]}


def test_it_deletes_a_key_and_says_whether_it_existed():
    kv = MemoryKV(NS)
    kv.set("k", 1)
    assert run_task(DELETE, key="k", kv=kv).action.outputs == {"deleted": True}
    assert kv.values == {}
    assert run_task(DELETE, key="k", kv=kv).action.outputs == {"deleted": False}
    outcome = run_task(DELETE, key="k", errorOnMissing=True, kv=kv)
    assert outcome.action.state is State.FAILED
    assert "No value found for key 'k' in namespace 'company.team'" in messages(outcome)[-1][1]


def test_it_fails_clearly_without_a_kv_store():
    outcome = run_task(GET, key="k")
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [("ERROR", "The KV store is not available in this run")]
