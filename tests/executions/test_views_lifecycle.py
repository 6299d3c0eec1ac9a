"""The execution page's Control card: Pause while running, Resume (with the paused Pause
task's onResume form) while paused, Kill until it ends; each button asks first."""

from __future__ import annotations

import pytest

from executions import lifecycle
from tests.executions import lifecycle_support as support
from tests.executions.lifecycle_support import TWO_STEPS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def _card(html: str) -> str:
    start = html.index('id="execution-controls"')
    return html[start : html.index("</section>", start)]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_running_execution_offers_pause_and_kill_each_asking_first(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    card = _card(alice_web.get(f"/ui/acme/executions/{execution.id}").content.decode())
    assert f'action="/ui/acme/executions/{execution.id}/pause"' in card
    assert f'action="/ui/acme/executions/{execution.id}/kill"' in card
    assert "/resume" not in card
    assert card.count("data-confirm=") == 2


def test_a_paused_execution_offers_its_on_resume_form(acme, alice, alice_web, sent):
    execution = support.paused(acme, alice, sent)
    card = _card(alice_web.get(f"/ui/acme/executions/{execution.id}").content.decode())
    assert "Paused by task <code>ask</code>" in card
    assert f'action="/ui/acme/executions/{execution.id}/resume"' in card
    assert 'enctype="multipart/form-data"' in card
    for name in ("onResume.answer", "onResume.amount", "onResume.proof", "onResume.note"):
        assert f'name="{name}"' in card
    assert "/pause" not in card
    assert f'action="/ui/acme/executions/{execution.id}/kill"' in card
    assert f'action="/ui/acme/executions/{execution.id}/restart"' in card


def test_restart_from_the_card_lets_the_paused_task_go_on(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, support.PAUSE_THEN_LOG)
    support.drive(acme, sent)
    assert support.row(acme, execution.id).state == "PAUSED"
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/restart", follow=True)
    assert "Execution restarted: its failed or paused task runs go on." in _messages(response)
    support.drive(acme, sent)
    assert support.row(acme, execution.id).state == "SUCCESS"
    assert support.runs(acme, execution.id) == {"wait": "SUCCESS", "after": "SUCCESS"}


def test_a_manually_paused_execution_offers_no_restart(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    lifecycle.execution_pause(tenant=acme, execution_id=execution.id)
    card = _card(alice_web.get(f"/ui/acme/executions/{execution.id}").content.decode())
    assert f'action="/ui/acme/executions/{execution.id}/resume"' in card
    assert "/restart" not in card


def test_an_ended_execution_has_no_control_card(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    support.drive(acme, sent)
    html = alice_web.get(f"/ui/acme/executions/{execution.id}").content.decode()
    assert 'id="execution-controls" aria-labelledby="controls-title"  hidden' in html
    assert "/kill" not in _card(html)


def test_the_live_fragment_swaps_the_card_in(acme, alice, alice_web, sent):
    execution = support.paused(acme, alice, sent)
    html = alice_web.get(f"/ui/acme/executions/{execution.id}/live").content.decode()
    card = _card(html)
    assert 'hx-swap-oob="true"' in html[html.index('id="execution-controls"') - 200 :]
    assert 'hx-preserve="true"' in card


def test_pause_then_resume_from_the_page(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/pause", follow=True)
    assert response.status_code == 200
    assert any("paused" in message for message in _messages(response))
    assert support.row(acme, execution.id).state == "PAUSED"
    support.drive(acme, sent)
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/resume", follow=True)
    assert f"Execution {execution.id} resumed." in _messages(response)
    support.drive(acme, sent)
    assert support.row(acme, execution.id).state == "SUCCESS"


def test_invalid_on_resume_values_come_back_next_to_their_fields(acme, alice, alice_web, sent):
    execution = support.paused(acme, alice, sent)
    response = alice_web.post(
        f"/ui/acme/executions/{execution.id}/resume", {"onResume.amount": "99"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Invalid onResume inputs: 2 problem(s)" in html
    answer = html[html.index('data-input="answer"') :]
    assert "missing required input" in answer[: answer.index('data-input="amount"')]
    amount = html[html.index('data-input="amount"') :]
    assert (
        "it must be less than `10`, but received `99`" in amount[: amount.index("</div>\n  </div>")]
    )
    assert support.row(acme, execution.id).state == "PAUSED"
    assert sent == []


def test_resume_from_the_page_with_on_resume_values(acme, alice, alice_web, sent):
    execution = support.paused(acme, alice, sent)
    response = alice_web.post(
        f"/ui/acme/executions/{execution.id}/resume",
        {"onResume.answer": "yes", "onResume.amount": "3"},
        follow=True,
    )
    assert f"Execution {execution.id} resumed." in _messages(response)
    support.drive(acme, sent)
    assert support.runs(acme, execution.id) == {"ask": "SUCCESS", "last": "SUCCESS"}


def test_kill_from_the_page_and_a_second_kill_says_it_ended(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/kill", follow=True)
    assert f"Execution {execution.id} killed." in _messages(response)
    assert support.row(acme, execution.id).state == "KILLED"
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/kill", follow=True)
    assert _messages(response) == [
        f"Execution {execution.id} has already ended (KILLED): it cannot be killed"
    ]


def test_pausing_an_ended_execution_says_why(acme, alice, alice_web, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    support.drive(acme, sent)
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/pause", follow=True)
    assert _messages(response) == [
        f"Execution {execution.id} cannot be paused: The execution is not running."
    ]


def test_the_resume_page_of_an_execution_that_is_not_paused_sends_back(
    acme, alice, alice_web, sent
):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_web.get(f"/ui/acme/executions/{execution.id}/resume", follow=True)
    assert _messages(response) == [f"Execution {execution.id} is not paused, it is RUNNING."]


@pytest.mark.parametrize("action", ["kill", "pause", "resume"])
def test_another_tenants_execution_is_a_404(acme, alice, client, mallory, sent, action):
    execution = support.paused(acme, alice, sent)
    client.force_login(mallory)
    response = client.post(f"/ui/globex/executions/{execution.id}/{action}")
    assert response.status_code == 404
    assert support.row(acme, execution.id).state == "PAUSED"
