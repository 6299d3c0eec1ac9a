from dataclasses import replace
from datetime import UTC, datetime, timedelta

from executions.engine.model import (
    CORRELATION_ID,
    Attempt,
    Label,
    TaskRun,
    merge_labels,
    new_execution,
    new_id,
    replay_execution,
)
from executions.engine.states import State, StateHistory, Transition

T0 = datetime(2024, 12, 20, 10, 0, tzinfo=UTC)


def _execution():
    return new_execution(
        execution_id="exec1",
        namespace="company.team",
        flow_id="hello",
        flow_revision=3,
        now=T0,
        inputs={"name": "world"},
        flow_labels=[Label("team", "data"), Label("system.readOnly", "true")],
        labels=[Label("env", "prod")],
    )


def test_it_creates_an_execution_with_flow_labels_and_a_correlation_id():
    execution = _execution()
    assert execution.current is State.CREATED
    assert execution.labels == (
        Label("team", "data"),
        Label("env", "prod"),
        Label(CORRELATION_ID, "exec1"),
    )
    assert execution.original_created_date == T0
    assert execution.attempt_number == 1


def test_it_keeps_a_correlation_id_given_by_the_caller():
    execution = new_execution(
        execution_id="exec2",
        namespace="n",
        flow_id="f",
        flow_revision=1,
        now=T0,
        labels=[Label(CORRELATION_ID, "root")],
    )
    assert execution.label_map()[CORRELATION_ID] == "root"


def test_it_writes_kestras_execution_json():
    running = StateHistory((Transition(State.CREATED, T0), Transition(State.RUNNING, T0)))
    task_run = TaskRun(
        id="tr1",
        task_id="hello",
        state=StateHistory(
            (
                Transition(State.CREATED, T0),
                Transition(State.RUNNING, T0),
                Transition(State.SUCCESS, T0 + timedelta(seconds=2)),
            )
        ),
        value="v1",
        attempts=(Attempt(StateHistory.start(T0, State.RUNNING)),),
        outputs={"value": "x"},
    )
    execution = replace(_execution(), state=running, task_runs=(task_run,))
    data = execution.to_kestra_json()
    assert data["id"] == "exec1"
    assert data["namespace"] == "company.team"
    assert data["flowId"] == "hello"
    assert data["flowRevision"] == 3
    assert data["state"]["current"] == "RUNNING"
    assert data["state"]["histories"] == [
        {"state": "CREATED", "date": "2024-12-20T10:00:00Z"},
        {"state": "RUNNING", "date": "2024-12-20T10:00:00Z"},
    ]
    assert data["inputs"] == {"name": "world"}
    assert data["labels"][0] == {"key": "team", "value": "data"}
    assert data["metadata"] == {"attemptNumber": 1, "originalCreatedDate": "2024-12-20T10:00:00Z"}
    [run] = data["taskRunList"]
    assert run["id"] == "tr1"
    assert run["taskId"] == "hello"
    assert run["parentTaskRunId"] is None
    assert run["value"] == "v1"
    assert run["executionId"] == "exec1"
    assert run["state"]["current"] == "SUCCESS"
    assert run["state"]["endDate"] == "2024-12-20T10:00:02Z"
    assert run["outputs"] == {"value": "x"}
    assert run["attempts"] == [
        {
            "state": {
                "current": "RUNNING",
                "histories": [{"state": "RUNNING", "date": "2024-12-20T10:00:00Z"}],
                "startDate": "2024-12-20T10:00:00Z",
                "endDate": None,
            }
        }
    ]


def test_it_merges_labels_keeping_places_and_taking_new_values():
    merged = merge_labels([Label("a", "1"), Label("b", "2")], [Label("b", "3"), Label("c", "4")])
    assert merged == (Label("a", "1"), Label("b", "3"), Label("c", "4"))


def test_it_replays_an_execution_as_a_new_attempt():
    execution = _execution()
    replay = replay_execution(execution, now=T0 + timedelta(minutes=1), execution_id="exec3")
    assert replay.id == "exec3"
    assert replay.parent_id == "exec1"
    assert replay.attempt_number == 2
    assert replay.original_created_date == T0
    assert replay.current is State.CREATED
    assert replay.task_runs == ()
    assert replay.inputs == execution.inputs
    assert replay.labels == execution.labels


def test_it_makes_kestra_like_ids():
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(value) == 22 and value.isalnum() for value in ids)
