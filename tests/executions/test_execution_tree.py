"""The execution page's task-run tree: flowables are expandable nodes, a loop's task runs are
grouped by iteration (its value, or a WaitFor's loop count) with the state and attempts of
each iteration, nested loops inside their iteration."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from executions import services
from executions.engine.states import State
from executions.page_selectors import _together, execution_live
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

LOOPS = """id: loops
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    concurrencyLimit: 0
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: [1, 2, 3]
        tasks:
          - id: say
            type: io.kestra.plugin.core.log.Log
            message: "{{ parent.taskrun.value }}-{{ taskrun.value }}"
      - id: check
        type: io.kestra.plugin.core.flow.If
        condition: "{{ taskrun.value == 'b' }}"
        then:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            allowFailure: true
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: l
      - id: right
        type: io.kestra.plugin.core.log.Log
        message: r
"""


def drive(acme, sent) -> None:
    while sent:
        name, args, kwargs = sent.pop(0)
        if name == "run":
            services.task_run_execute(
                tenant=acme, execution_id=args[1], task_run_id=args[2], **kwargs
            )
        else:
            services.execution_advance(tenant=acme, execution_id=args[1])


@pytest.fixture
def ended(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=LOOPS)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="loops", provided={}
    )
    drive(acme, sent)
    return row.id


def test_a_loop_groups_its_task_runs_by_iteration(acme, ended):
    live = execution_live(
        tenant=acme, execution_id=ended, min_level="INFO", q="", now=timezone.now()
    )
    assert live.execution.state == "WARNING"
    each, fan = live.tree
    assert [g.label for g in each.iterations] == ["a", "b"]
    a, b = each.iterations
    assert (a.state, a.task_runs, a.attempts) == ("SUCCESS", 2, 0)  # inner and check: flowables
    assert [child.run.task_id for child in a.children] == ["inner", "check"]
    assert (b.state, b.open, a.open) == ("WARNING", True, False)
    inner = a.children[0]
    assert [(g.label, g.state, g.task_runs, g.attempts) for g in inner.iterations] == [
        ("1", "SUCCESS", 1, 1),
        ("2", "SUCCESS", 1, 1),
        ("3", "SUCCESS", 1, 1),
    ]
    check = b.children[1]
    assert check.iterations == []  # an If's children run in its own iteration
    assert [c.run.task_id for c in check.children] == ["boom"]
    assert fan.iterations == []  # parallel branches are plain children
    assert [c.run.task_id for c in fan.children] == ["left", "right"]


def test_the_state_of_an_iteration_takes_its_task_runs_together():
    assert _together([State.SUCCESS, State.SKIPPED]) == "SUCCESS"
    assert _together([State.SUCCESS, State.WARNING]) == "WARNING"
    assert _together([State.FAILED, State.WARNING, State.KILLED]) == "KILLED"
    assert _together([State.SUCCESS, State.CREATED, State.RUNNING]) == "RUNNING"
    assert _together([State.SUCCESS, State.PAUSED]) == "PAUSED"


def test_the_page_shows_expandable_nodes_and_iterations(acme, alice, client, ended):
    client.force_login(alice)
    page = client.get(f"/ui/acme/executions/{ended}").content.decode()
    # each, its two inner loops, the If of "b" (the If of "a" ran nothing), fan
    assert page.count('class="task-node"') == 5
    assert page.count('class="task-iteration"') == 2 + 3 * 2
    assert 'aria-label="Iterations of each"' in page
    assert 'data-iteration="a"' in page
    assert 'data-iteration="3"' in page
    # a succeeded iteration starts closed, one with a warning open
    iterations = re.findall(
        r'<details class="task-iteration" id="([^"]+)" data-remember ?(open)?>', page
    )
    assert [bool(is_open) for _, is_open in iterations[:1]] == [False]
    assert any(is_open for _, is_open in iterations)
