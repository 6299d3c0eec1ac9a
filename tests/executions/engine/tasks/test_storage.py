"""storage.Delete, storage.Size and storage.Concat over an in-memory storage."""

import pytest

from executions.engine.local import MemoryStorage
from executions.engine.states import State
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import messages, outputs_of, run_task

DELETE = "io.kestra.plugin.core.storage.Delete"
SIZE = "io.kestra.plugin.core.storage.Size"
CONCAT = "io.kestra.plugin.core.storage.Concat"
A = "kestra:///company/team/a.txt"
B = "kestra:///company/team/b.txt"
TASK_DIR = "kestra:///company/team/test/executions/exec/tasks/t/tr-1/"


@pytest.fixture
def storage():
    storage = MemoryStorage()
    storage.put(A, b"alpha")
    storage.put(B, "b\u00e9ta".encode())
    return storage


def test_it_gives_the_size_of_a_file_in_bytes(storage):
    outcome = run_task(SIZE, uri=B, storage=storage)
    assert outcome.action.state is State.SUCCESS
    assert outcome.action.outputs == {"size": 5}


def test_it_fails_the_size_of_a_missing_file(storage):
    outcome = run_task(SIZE, uri="kestra:///company/team/nope", storage=storage)
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [("ERROR", "Unable to find file 'kestra:///company/team/nope'")]


def test_it_deletes_a_file_and_says_whether_it_existed(storage):
    outcome = run_task(DELETE, uri=A, storage=storage)
    assert outcome.action.outputs == {"uri": A, "deleted": True}
    assert not storage.exists(A)
    assert run_task(DELETE, uri=A, storage=storage).action.outputs == {"uri": A, "deleted": False}


def test_it_fails_to_delete_a_missing_file_when_told(storage):
    outcome = run_task(DELETE, uri=A + "x", errorOnMissing=True, storage=storage)
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [("ERROR", f"Unable to find file '{A}x'")]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "https://example.com/a",
            "Invalid internal storage scheme, got uri 'https://example.com/a'",
        ),
        ("/company/team/a.txt", "Invalid internal storage uri, got uri '/company/team/a.txt'"),
    ],
)
def test_it_refuses_a_uri_outside_the_internal_storage(storage, uri, message):
    outcome = run_task(SIZE, uri=uri, storage=storage)
    assert messages(outcome) == [("ERROR", message)]


def test_it_concatenates_files_with_a_separator_after_each_one(storage):
    outcome = run_task(CONCAT, files=[A, "{{ flow.namespace }}"], separator="\n", storage=storage)
    assert outcome.action.state is State.FAILED  # "company.team" is no kestra:// URI
    outcome = run_task(CONCAT, files=[A, B], separator="\n", extension=".txt", storage=storage)
    assert outcome.action.state is State.SUCCESS
    uri = outcome.action.outputs["uri"]
    assert uri.startswith(TASK_DIR)
    assert uri.endswith(".txt")
    assert storage.get(uri) == "alpha\nb\u00e9ta\n".encode()


def test_it_concatenates_files_given_as_a_json_string_without_separator(storage):
    outcome = run_task(CONCAT, files=f'["{B}", "{A}"]', storage=storage)
    uri = outcome.action.outputs["uri"]
    assert uri.endswith(".tmp")
    assert storage.get(uri) == "b\u00e9taalpha".encode()


def test_it_concatenates_the_files_of_a_previous_task_in_a_flow(storage):
    result = run(
        f"""
        tasks:
          - id: first
            type: {CONCAT}
            files: ["{A}", "{A}"]
          - id: second
            type: {CONCAT}
            files: '["{{{{ outputs.first.uri }}}}", "{B}"]'
            separator: "|"
        """,
        storage=storage,
    )
    assert result.execution.current is State.SUCCESS
    assert storage.get(outputs_of(result, "second")["uri"]) == "alphaalpha|b\u00e9ta|".encode()


def test_it_fails_to_concatenate_a_missing_file_or_invalid_files(storage):
    outcome = run_task(CONCAT, files=[A, "kestra:///nope"], storage=storage)
    assert messages(outcome) == [("ERROR", "No file at kestra:///nope")]
    outcome = run_task(CONCAT, files="not json", storage=storage)
    assert messages(outcome)[0][1].startswith("Invalid `files` property, expected a JSON array")


def test_it_fails_clearly_without_a_storage():
    outcome = run_task(SIZE, uri=A)
    assert messages(outcome) == [("ERROR", "The internal storage is not available in this run")]
