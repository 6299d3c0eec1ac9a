"""Flow-level `concurrency`: QUEUE / CANCEL / FAIL when every slot is taken, queued executions
started in creation order as slots free, decided under the flow row's lock. Driven by hand
(Celery sends recorded) and on two real worker processes with concurrent submissions."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from django.db import connection

from executions import concurrency, services, snapshots
from executions.engine.flow import load_flow
from executions.engine.model import new_execution
from executions.engine.states import State
from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create
from tests.executions.conftest import ROOT, celery_worker

pytestmark = pytest.mark.django_db(transaction=True)

TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}


def flow(behavior: str = "QUEUE", limit: int = 1, task: str = "") -> str:
    task = task or (
        "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: hi {{ execution.id }}\n"
    )
    return (
        "id: limited\nnamespace: company.team\n"
        f"concurrency:\n  limit: {limit}\n  behavior: {behavior}\ntasks:\n{task}"
    )


SLEEP = "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.3S\n"


def _create(acme) -> Execution:
    return services.execution_create(
        tenant=acme, namespace="company.team", flow_id="limited", provided={}
    )


def _row(acme, execution_id: str) -> Execution:
    return Execution.objects.for_tenant(acme).get(pk=execution_id)


def _history(acme, execution_id: str) -> list[str]:
    return [state for state, _ in _row(acme, execution_id).histories]


def _logs(acme, execution_id: str) -> list[tuple[str, str]]:
    rows = LogEntry.objects.for_tenant(acme).filter(execution_id=execution_id)
    return [(r.level, r.message) for r in rows.order_by("timestamp", "id")]


def _run_sent(acme, sent) -> None:
    """Deliver the recorded messages as the broker would, until none is left."""
    while sent:
        name, args, kwargs = sent.pop(0)
        if name == "run":
            services.task_run_execute(
                tenant=acme, execution_id=args[1], task_run_id=args[2], **kwargs
            )
        else:
            services.execution_advance(tenant=acme, execution_id=args[1])


# -- the rule, pure ------------------------------------------------------------------------


def test_the_rule_is_read_from_the_flow():
    assert concurrency.rule_of(load_flow(flow("CANCEL", 3))) == concurrency.Rule(3, "CANCEL")
    default = load_flow(flow().replace("  behavior: QUEUE\n", ""))
    assert concurrency.rule_of(default) == concurrency.Rule(1, "QUEUE")
    plain = "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
    assert concurrency.rule_of(load_flow(plain + "    message: x\n")) is None


@pytest.mark.parametrize(
    ("behavior", "state", "history", "logs"),
    [
        (
            "QUEUE",
            State.QUEUED,
            ["CREATED", "QUEUED"],
            [("INFO", "Flow is queued due to concurrency limit exceeded, 2 running(s)")],
        ),
        ("CANCEL", State.CANCELLED, ["CREATED", "CANCELLED"], []),
        (
            "FAIL",
            State.FAILED,
            ["CREATED", "FAILED"],
            [("ERROR", "Flow is FAILED due to concurrency limit exceeded")],
        ),
    ],
)
def test_a_full_flow_holds_a_new_execution_by_its_behavior(behavior, state, history, logs):
    now = datetime.fromisoformat("2024-12-20T10:00:00+00:00")
    created = new_execution(namespace="n", flow_id="f", flow_revision=1, now=now)
    rule = concurrency.Rule(2, behavior)
    assert concurrency.held(created, rule, 1, now) == (created, [])
    after, lines = concurrency.held(created, rule, 2, now)
    assert after.current is state
    assert [t.state.value for t in after.state.histories] == history
    assert [(line.level, line.message) for line in lines] == logs


def test_validation_places_a_bad_behavior_and_limit_on_their_lines():
    from flows.spec import validate_flow_source

    result = validate_flow_source(
        "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: x\nconcurrency:\n  limit: 0\n  behavior: WAIT\n"
    )
    found = {v.path: (v.line, v.message) for v in result.violations}
    assert found["concurrency.limit"][0] == 8
    assert found["concurrency.behavior"][0] == 9
    assert "QUEUE, CANCEL, FAIL" in found["concurrency.behavior"][1]


# -- by hand, broker messages recorded -----------------------------------------------------


def test_queue_holds_the_second_execution_and_starts_it_when_the_first_ends(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first, second, third = _create(acme), _create(acme), _create(acme)
    assert first.state == "RUNNING"
    assert (second.state, third.state) == ("QUEUED", "QUEUED")
    assert _history(acme, second.id) == ["CREATED", "QUEUED"]
    assert _logs(acme, second.id) == [
        ("INFO", "Flow is queued due to concurrency limit exceeded, 1 running(s)")
    ]
    assert not TaskRun.objects.for_tenant(acme).filter(execution_id=second.id).exists()
    assert [args[1] for _, args, _ in sent] == [first.id]  # nothing sent for queued ones

    _, args, _ = sent.pop(0)
    services.task_run_execute(tenant=acme, execution_id=first.id, task_run_id=args[2])
    assert _row(acme, first.id).state == "SUCCESS"
    # the transaction that ended the first started the oldest queued one, not the third
    assert _history(acme, second.id) == ["CREATED", "QUEUED", "RUNNING"]
    assert _row(acme, third.id).state == "QUEUED"
    assert sent == [("advance", (acme.pk, second.id), {})]
    _run_sent(acme, sent)
    assert _history(acme, second.id) == ["CREATED", "QUEUED", "RUNNING", "SUCCESS"]
    assert _history(acme, third.id) == ["CREATED", "QUEUED", "RUNNING", "SUCCESS"]
    assert f"hi {third.id}" in {message for _, message in _logs(acme, third.id)}


def test_unqueue_starts_a_queued_execution_past_the_limit(acme, alice, alice_api, sent):
    """Kestra's `unqueue`: the user takes an extra slot; the queue goes on afterwards."""
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first, second, third = _create(acme), _create(acme), _create(acme)

    response = alice_api.post(f"/api/v1/acme/executions/{third.id}/unqueue")

    assert response.status_code == 200, response.json()
    assert response.json()["state"]["current"] == "RUNNING"
    assert _history(acme, third.id) == ["CREATED", "QUEUED", "RUNNING"]
    assert ("INFO", "Unqueued by a user") in _logs(acme, third.id)
    assert _row(acme, second.id).state == "QUEUED"  # the others keep their place
    again = alice_api.post(f"/api/v1/acme/executions/{third.id}/unqueue")
    assert again.status_code == 409
    assert "only a QUEUED execution can be unqueued" in again.json()["message"]
    _run_sent(acme, sent)
    assert [_row(acme, e.id).state for e in (first, second, third)] == ["SUCCESS"] * 3


def test_force_run_acts_on_each_unfinished_state_and_refuses_an_ended_one(
    acme, alice, alice_api, sent
):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first, second = _create(acme), _create(acme)
    forced = alice_api.post(f"/api/v1/acme/executions/{second.id}/force-run")
    assert forced.status_code == 200, forced.json()
    assert _history(acme, second.id) == ["CREATED", "QUEUED", "RUNNING"]
    _run_sent(acme, sent)
    assert [_row(acme, e.id).state for e in (first, second)] == ["SUCCESS", "SUCCESS"]

    third = _create(acme)
    sent.clear()  # its message is lost: force-run hands it to the executor again
    again = alice_api.post(f"/api/v1/acme/executions/{third.id}/force-run")
    assert again.status_code == 200
    assert sent == [("advance", (acme.pk, third.id), {})]

    ended = alice_api.post(f"/api/v1/acme/executions/{second.id}/force-run")
    assert ended.status_code == 409
    assert "only an unfinished execution can be forced to run" in ended.json()["message"]
    unknown = alice_api.post("/api/v1/acme/executions/nope/force-run")
    assert unknown.status_code == 404


def test_the_execution_page_offers_start_now_to_a_queued_execution(acme, alice, client, sent):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    _create(acme)
    queued = _create(acme)
    client.force_login(alice)
    html = client.get(f"/ui/acme/executions/{queued.id}").content.decode()
    assert f'action="/ui/acme/executions/{queued.id}/unqueue"' in html
    assert "concurrency limit is reached" in html
    response = client.post(f"/ui/acme/executions/{queued.id}/unqueue", follow=True)
    assert f"Execution {queued.id} left the queue: it runs now." in response.content.decode()
    assert _row(acme, queued.id).state == "RUNNING"


def test_cancel_and_fail_end_the_new_execution_at_once(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=flow("CANCEL"))
    first, second = _create(acme), _create(acme)
    assert (first.state, second.state) == ("RUNNING", "CANCELLED")
    assert _history(acme, second.id) == ["CREATED", "CANCELLED"]
    assert _row(acme, second.id).end_date is not None

    from flows.services import flow_update

    flow_update(
        tenant=acme, user=alice, namespace="company.team", flow_id="limited", source=flow("FAIL")
    )
    third = _create(acme)
    assert _history(acme, third.id) == ["CREATED", "FAILED"]
    assert _logs(acme, third.id) == [("ERROR", "Flow is FAILED due to concurrency limit exceeded")]
    _run_sent(acme, sent)
    assert _row(acme, first.id).state == "SUCCESS"
    assert _create(acme).state == "RUNNING"  # the slot is free again


def test_a_limit_above_one_admits_that_many(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE", limit=2))
    states = [_create(acme).state for _ in range(4)]
    assert states == ["RUNNING", "RUNNING", "QUEUED", "QUEUED"]
    _run_sent(acme, sent)
    rows = Execution.objects.for_tenant(acme).order_by("start_date")
    assert [row.state for row in rows] == ["SUCCESS"] * 4


def test_an_execution_that_ends_while_queued_frees_no_slot(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first, second, third = _create(acme), _create(acme), _create(acme)
    row = _row(acme, second.id)
    row.tenant = acme
    before = snapshots.snapshot(row, [])
    from executions.engine.actions import EndExecution
    from executions.engine.apply import apply_actions

    after = apply_actions(before, [EndExecution(State.CANCELLED)], before.state.start_date)
    snapshots.save(tenant=acme, row=row, before=before, after=after, wake_at=None)
    assert _row(acme, third.id).state == "QUEUED"  # the first still holds the only slot
    assert _row(acme, first.id).state == "RUNNING"


def test_killing_the_running_execution_starts_the_queued_one(acme, alice, sent):
    from executions.lifecycle import execution_kill

    flow_create(tenant=acme, user=alice, source=flow("QUEUE", task=SLEEP))
    first, second, third = _create(acme), _create(acme), _create(acme)
    sent.clear()
    execution_kill(tenant=acme, execution_id=third.id)  # a queued one: frees no slot
    assert _history(acme, third.id)[:2] == ["CREATED", "QUEUED"]
    assert _row(acme, third.id).state == "KILLED"
    assert _row(acme, second.id).state == "QUEUED"
    assert sent == []
    execution_kill(tenant=acme, execution_id=first.id)
    assert _row(acme, first.id).state == "KILLED"
    assert _history(acme, second.id) == ["CREATED", "QUEUED", "RUNNING"]
    assert ("advance", (acme.pk, second.id), {}) in sent


def test_a_created_execution_reaching_the_executor_is_admitted_like_a_new_one(acme, alice, sent):
    """A replay or a deferred first decision: CREATED rows go through the same gate."""
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first = _create(acme)
    sent.clear()
    now = first.start_date
    created = new_execution(
        namespace="company.team", flow_id="limited", flow_revision=1, now=now, tenant_id="acme"
    )
    snapshots.save(tenant=acme, before=None, after=created, wake_at=None)
    services.execution_advance(tenant=acme, execution_id=created.id)
    assert _history(acme, created.id) == ["CREATED", "QUEUED"]
    assert sent == []


def test_the_scheduler_backstop_starts_queued_executions_with_a_free_slot(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE"))
    first, second = _create(acme), _create(acme)
    sent.clear()
    assert concurrency.queued_start_due() == 0  # the first still runs
    # the first ends by a path that does not release (a raw update): the waker repairs it
    Execution.objects.for_tenant(acme).filter(pk=first.id).update(state="KILLED")
    assert concurrency.queued_start_due() == 1
    assert _history(acme, second.id) == ["CREATED", "QUEUED", "RUNNING"]
    assert sent == [("advance", (acme.pk, second.id), {})]


def test_a_flow_without_concurrency_runs_no_concurrency_query(acme, alice, sent):
    from django.test.utils import CaptureQueriesContext

    flow_create(
        tenant=acme,
        user=alice,
        source=flow().replace("concurrency:\n  limit: 1\n  behavior: QUEUE\n", ""),
    )
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            _create(acme)
        _run_sent(acme, sent)
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in statements if "FOR UPDATE" in sql and "flows_flow" in sql]
    assert not [sql for sql in statements if "COUNT(" in sql]
    assert set(Execution.objects.for_tenant(acme).values_list("state", flat=True)) == {"SUCCESS"}


# -- concurrent submissions on two real worker processes ---------------------------------


@pytest.fixture
def second_worker(celery_worker_process, tmp_path):
    """Another Celery worker process (executor and worker queues) beside the session's."""
    with celery_worker(tmp_path / "worker-2.log", "second") as log_path:
        yield log_path


def _overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one instant (an end before a start at the same date)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def _submit_concurrently(tenant, count: int) -> list[str]:
    ids: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def submit():
        try:
            barrier.wait()
            ids.append(_create(tenant).id)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return ids


@pytest.mark.parametrize("limit", [1, 2])
def test_concurrent_submissions_never_exceed_the_limit_on_two_workers(
    limit, celery_worker_process, second_worker, acme, alice
):
    flow_create(tenant=acme, user=alice, source=flow("QUEUE", limit=limit, task=SLEEP))
    ids = _submit_concurrently(acme, 6)
    deadline = time.monotonic() + 60
    rows = Execution.objects.for_tenant(acme).filter(pk__in=ids)
    most_seen = 0
    while set(rows.values_list("state", flat=True)) - TERMINAL:
        holding = rows.exclude(state__in=TERMINAL | {"QUEUED"}).count()
        most_seen = max(most_seen, holding)
        assert time.monotonic() < deadline, (
            list(rows.values_list("id", "state")),
            celery_worker_process.read_text()[-2000:],
            second_worker.read_text()[-2000:],
        )
        time.sleep(0.02)
    assert most_seen <= limit
    finals = list(rows.order_by("start_date", "id"))
    assert [row.state for row in finals] == ["SUCCESS"] * 6
    queued = [row for row in finals if "QUEUED" in [s for s, _ in row.histories]]
    assert len(queued) >= 6 - limit  # all arrived together: only `limit` found a slot

    def date(row, state):
        return next(datetime.fromisoformat(d) for s, d in row.histories if s == state)

    # a slot is held from the start (RUNNING, dated under the flow's lock) to the end
    spans = [(date(row, "RUNNING"), row.end_date) for row in finals]
    assert _overlap(spans) <= limit
    # queued ones left the queue in creation order
    started = sorted(queued, key=lambda row: date(row, "RUNNING"))
    assert [row.id for row in started] == [row.id for row in queued]


# -- Kestra's conformance flows (a Pause holds the slot), on a real worker ---------------

CORPUS = ROOT.parent / "shared" / "kestra-conformance" / "flows"


def _conformance_flow(acme, alice, name: str):
    if not (CORPUS / name).is_file():
        pytest.skip("the Kestra conformance corpus is not here")
    return flow_create(tenant=acme, user=alice, source=(CORPUS / name).read_text())


def _until(acme, execution_id: str, states: set[str], log_path, timeout: float = 30) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        row = _row(acme, execution_id)
        if row.state in states:
            return row
        assert time.monotonic() < deadline, (row.state, log_path.read_text()[-3000:])
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("name", "second_history", "second_end"),
    [
        ("flow-concurrency-queue-pause.yml", ["CREATED", "QUEUED", "RUNNING"], "SUCCESS"),
        ("flow-concurrency-cancel-pause.yml", ["CREATED", "CANCELLED"], "CANCELLED"),
    ],
)
def test_a_paused_execution_holds_its_slot(
    name, second_history, second_end, celery_worker_process, acme, alice
):
    """EXPECTED.md: limit 1 and the first execution PAUSED (a Pause with a 1 s delay): with
    QUEUE the second waits QUEUED and both end SUCCESS; with CANCEL the second is CANCELLED
    at once and the first ends SUCCESS."""
    flow = _conformance_flow(acme, alice, name)

    def create():
        return services.execution_create(
            tenant=acme, namespace=flow.namespace.name, flow_id=flow.flow_id, provided={}
        )

    first = create()
    _until(acme, first.id, {"PAUSED"}, celery_worker_process)
    second = create()
    assert second.state == ("QUEUED" if second_end == "SUCCESS" else "CANCELLED")
    first_row = _until(acme, first.id, TERMINAL, celery_worker_process)
    second_row = _until(acme, second.id, TERMINAL, celery_worker_process)
    assert first_row.state == "SUCCESS"
    assert second_row.state == second_end
    states = [state for state, _ in second_row.histories]
    assert states[: len(second_history)] == second_history
    if second_end == "CANCELLED":
        assert states == second_history
    else:  # it ran the flow once the first had ended: its Pause, then the log
        assert states[-1] == "SUCCESS"
        assert "PAUSED" in states
        left_queue = datetime.fromisoformat(second_row.histories[2][1])
        assert first_row.end_date <= left_queue  # it left the queue when the first ended
