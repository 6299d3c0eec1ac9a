"""SECRET inputs stay sealed in the execution and are opened only for templates; their clear
values never reach a log line, from a task or from the executor."""

import pytest

from executions.engine.rendering import RenderError
from executions.engine.sealed_inputs import (
    SEALED_TYPE,
    is_sealed,
    mask_sealed,
    open_inputs,
    open_resumed,
    resumed_secret_texts,
    seal_inputs,
    secret_input_ids,
    secret_texts,
)
from executions.engine.services import EngineServices
from executions.engine.states import State
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import attempt, messages

PASSWORD = "S3cr3t-pass"


def seal(text: str) -> str:
    """A stand-in cipher: reversible, and the clear text never appears in the token."""
    return "tok:" + text[::-1].encode().hex()


def unseal(token: str) -> str:
    if not token.startswith("tok:"):
        raise ValueError("not a token of this key")
    return bytes.fromhex(token[4:]).decode()[::-1]


SERVICES = EngineServices(unseal=unseal)
INPUTS = """
inputs:
  - id: pw
    type: SECRET
  - id: user
    type: STRING
  - id: db.token
    type: SECRET
"""


def sealed(**values):
    return seal_inputs(values, ["pw", "db.token"], seal)


def test_it_seals_the_secret_values_at_their_paths_and_opens_them_again():
    clear = {"pw": PASSWORD, "user": "bob", "db": {"token": "tok-123456", "host": "h"}}
    stored = seal_inputs(clear, ["pw", "db.token", "missing.id"], seal)
    assert stored["user"] == "bob"
    assert stored["db"]["host"] == "h"
    assert is_sealed(stored["pw"])
    assert stored["pw"]["type"] == SEALED_TYPE
    assert is_sealed(stored["db"]["token"])
    assert PASSWORD not in repr(stored)
    assert "tok-123456" not in repr(stored)
    assert clear["db"]["token"] == "tok-123456"  # the caller's map is left alone
    assert open_inputs(stored, ["pw", "db.token"], unseal) == clear
    assert secret_texts(clear, ["pw", "db.token"]) == {PASSWORD, "tok-123456"}


def test_a_dotted_id_kept_flat_an_empty_optional_and_clear_values_are_handled():
    clear = {"db": "main", "db.pw": "flat-secret", "opt": None}
    stored = seal_inputs(clear, ["db.pw", "opt"], seal)
    assert stored["db"] == "main"
    assert stored["opt"] is None
    assert is_sealed(stored["db.pw"])
    assert open_inputs(stored, ["db.pw", "opt"], unseal)["db.pw"] == "flat-secret"
    # a run that never sealed anything (the in-process runner) reads clear values as they are
    assert open_inputs({"pw": "clear"}, ["pw"], None) == {"pw": "clear"}
    assert secret_input_ids([{"id": "a", "type": "SECRET"}, {"id": "b", "type": "STRING"}]) == ["a"]


def test_a_value_that_cannot_be_opened_is_a_render_error_naming_the_input():
    stored = sealed(pw=PASSWORD)
    with pytest.raises(RenderError, match="SECRET input 'pw' cannot be decrypted: not a token"):
        open_inputs(stored, ["pw"], lambda token: unseal("bad" + token))
    with pytest.raises(RenderError, match="cannot be decrypted in this run"):
        open_inputs(stored, ["pw"], None)


def test_a_task_gets_the_clear_value_and_its_logs_mask_it():
    body = (
        INPUTS
        + """
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message:
      - "password is {{ inputs.pw }}, token {{ inputs.db.token }}, user {{ inputs.user }}"
      - "same: {{ inputs.pw == 'S3cr3t-pass' }}"
"""
    )
    inputs = sealed(pw=PASSWORD, user="bob", db={"token": "tok-123456"})
    outcome = attempt(body, inputs=inputs, services=SERVICES)
    assert outcome.action.state is State.SUCCESS
    assert messages(outcome) == [
        ("INFO", "password is ********, token ********, user bob"),
        ("INFO", "same: true"),
    ]


def test_outputs_computed_from_a_secret_input_see_its_clear_value():
    body = (
        INPUTS
        + """
tasks:
  - id: t
    type: io.kestra.plugin.core.output.OutputValues
    values:
      same: "{{ inputs.pw == 'S3cr3t-pass' }}"
"""
    )
    outcome = attempt(body, inputs=sealed(pw=PASSWORD), services=SERVICES)
    assert outcome.action.outputs == {"values": {"same": "true"}}


def test_an_error_message_carrying_the_secret_is_masked():
    body = (
        INPUTS
        + """
tasks:
  - id: t
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "login refused for {{ inputs.pw }}"
"""
    )
    outcome = attempt(body, inputs=sealed(pw=PASSWORD), services=SERVICES)
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1] == ("ERROR", "login refused for ********")


def test_a_secret_that_cannot_be_decrypted_fails_the_attempt_clearly():
    body = INPUTS + "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    broken = EngineServices(unseal=lambda token: unseal("x"))
    outcome = attempt(body, inputs=sealed(pw=PASSWORD), services=broken)
    assert outcome.action.state is State.FAILED
    ((level, message),) = messages(outcome)
    assert level == "ERROR"
    assert message.startswith("The SECRET input 'pw' cannot be decrypted:")
    assert "tok:" not in message


def test_the_executor_masks_secrets_in_its_own_log_lines():
    result = run(
        INPUTS
        + """
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.pw }}"
outputs:
  - id: number
    type: INT
    value: "{{ inputs.pw }}"
""",
        sealed(pw=PASSWORD),
        services=SERVICES,
    )
    assert result.execution.current is State.FAILED
    assert is_sealed(result.execution.inputs["pw"])  # still sealed at the end of the run
    text = "\n".join(line.message for line in result.logs)
    assert PASSWORD not in text
    assert "Unable to convert the output to INT: invalid literal for int() with base 10: " in text
    assert "'********'" in text


def test_a_pauses_secret_on_resume_values_open_and_are_found_inside_loops_for_masking():
    outputs = {"onResume": seal_inputs({"pin": "1234", "who": "ada"}, ["pin"], seal)}
    assert is_sealed(outputs["onResume"]["pin"])
    assert open_resumed(outputs, ["pin"], unseal) == {"onResume": {"pin": "1234", "who": "ada"}}
    untouched = {"value": 1}
    assert open_resumed(untouched, ["pin"], unseal) is untouched
    with pytest.raises(RenderError, match="'pin' cannot be decrypted in this run"):
        open_resumed(outputs, ["pin"], None)
    variables = {  # a Pause in a ForEach: its outputs under each loop value
        "ask": {"a": {"onResume": {"pin": "1111", "who": "x"}}, "b": {"onResume": {"pin": ""}}},
        "other": {"onResume": {"pin": "not-this-one"}},
    }
    assert resumed_secret_texts(variables, {"ask": ("pin",)}) == {"1111"}


def test_readers_see_a_mask_where_a_value_is_sealed():
    outputs = {"onResume": seal_inputs({"pin": "1234", "who": "ada"}, ["pin"], seal), "n": [1]}
    assert mask_sealed(outputs, "***") == {"onResume": {"pin": "***", "who": "ada"}, "n": [1]}
