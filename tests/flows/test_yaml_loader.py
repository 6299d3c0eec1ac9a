"""YAML loading with positions: lines, duplicates, alias bombs and document splitting."""

from __future__ import annotations

import json
import time

import pytest

from flows.spec.yaml_loader import (
    MAX_ALIAS_NODES,
    YamlLoadError,
    load_yaml_document,
    load_yaml_with_positions,
    split_documents,
)

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_it_returns_data_and_one_based_positions():
    data, positions = load_yaml_with_positions("id: x\ntasks:\n  - id: a\n    type: T\n  - id: b\n")
    assert data == {"id": "x", "tasks": [{"id": "a", "type": "T"}, {"id": "b"}]}
    assert positions["id"] == (1, 1)
    assert positions["tasks"] == (2, 1)
    assert positions["tasks[0]"] == (3, 5)
    assert positions["tasks[0].type"] == (4, 5)
    assert positions["tasks[1].id"] == (5, 5)


def test_it_brackets_keys_that_contain_dots():
    _, positions = load_yaml_with_positions("labels:\n  system.readOnly: 'true'\n")
    assert positions["labels['system.readOnly']"] == (2, 3)


def test_it_keeps_timestamps_as_the_text_written():
    data, _ = load_yaml_with_positions("d: 2024-12-03\nt: 2013-08-09T14:19:00Z\n")
    assert data == {"d": "2024-12-03", "t": "2013-08-09T14:19:00Z"}


def test_it_returns_json_serialisable_data():
    data, _ = load_yaml_with_positions(
        "n: .nan\ni: -.inf\nd: 2024-01-01\nyes: on\n1: one\nnull: x\nf: 1.5\n"
    )
    json.dumps(data, allow_nan=False)
    assert data == {
        "n": ".nan",
        "i": "-.inf",
        "d": "2024-01-01",
        "true": True,
        "1": "one",
        "null": "x",
        "f": 1.5,
    }


def test_it_raises_with_line_and_column_on_a_syntax_error():
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_with_positions("id: a\nnamespace: b: c\n")
    assert caught.value.line == 2
    assert caught.value.column == 13
    assert caught.value.message == "Invalid YAML: mapping values are not allowed here"


def test_it_reports_duplicate_keys_with_the_first_line():
    loaded = load_yaml_document("id: a\nother: 1\nid: b\n")
    assert [(p.path, p.line, p.column) for p in loaded.problems] == [("id", 3, 1)]
    assert "Duplicate key 'id' (first defined on line 1)" in loaded.problems[0].message


def test_the_strict_loader_refuses_duplicate_keys():
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_with_positions("a:\n  b: 1\n  b: 2\n")
    assert (caught.value.line, caught.value.path) == (3, "a.b")


def test_it_refuses_a_billion_laughs_quickly():
    started = time.perf_counter()
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_with_positions(LAUGHS)
    assert time.perf_counter() - started < 1.0
    assert f"more than {MAX_ALIAS_NODES} nodes" in caught.value.message
    assert caught.value.line is not None


def test_it_expands_a_few_aliases_and_merge_keys():
    data, positions = load_yaml_with_positions(
        "base: &base {type: T, message: m}\nfirst: *base\nsecond:\n  <<: *base\n  message: own\n"
    )
    assert data["first"] == {"type": "T", "message": "m"}
    assert data["second"] == {"message": "own", "type": "T"}
    assert positions["second.message"] == (5, 3)


def test_it_refuses_a_recursive_alias():
    with pytest.raises(YamlLoadError, match="refers to itself"):
        load_yaml_with_positions("a: &a\n  b: *a\n")


def test_it_refuses_excessive_nesting():
    with pytest.raises(YamlLoadError, match="nested more than"):
        load_yaml_with_positions("a: " + "[" * 300 + "]" * 300 + "\n")


def test_it_reports_unsupported_tags():
    loaded = load_yaml_document("a: !!binary aGVsbG8=\nb: !custom x\n")
    assert [(p.path, p.line) for p in loaded.problems] == [("a", 1), ("b", 2)]
    assert "Unsupported YAML tag" in loaded.problems[0].message


def test_an_empty_document_is_none():
    assert load_yaml_document("# only a comment\n").data is None


def test_split_documents_keeps_each_text_byte_for_byte():
    first = "id: a\r\nnamespace: x\r\n"
    second = "# comment\nid: b\nnamespace: x\n"
    assert split_documents(first + "---\n" + second + "--- # end\n") == [first, second]


def test_split_documents_drops_empty_documents():
    assert split_documents("---\nid: a\n---\n\n# nothing\n---\n") == ["id: a\n"]
    assert split_documents("   \n") == []


def test_split_documents_returns_a_single_document_unchanged():
    text = "id: a\nmessage: '--- not a separator'\n"
    assert split_documents(text) == [text]


def test_it_places_control_characters_on_their_line():
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_with_positions("id: x\nmessage: a\x07b\n")
    assert (caught.value.line, caught.value.column) == (2, 11)
    assert "unacceptable character" in caught.value.message
