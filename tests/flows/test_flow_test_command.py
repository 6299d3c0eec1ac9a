"""`manage.py flow test PATH`: one JSON document on stdout, exit 0/1/2, problems on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FLOW = """id: greet
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: world
  - id: times
    type: INT
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}"
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.who | upper }}"
"""


def _flow_test(path: Path, *inputs: str) -> subprocess.CompletedProcess[str]:
    args = [a for item in inputs for a in ("--input", item)]
    return subprocess.run(
        [sys.executable, "manage.py", "flow", "test", str(path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_runs_a_flow_and_prints_one_execution_document(tmp_path):
    path = tmp_path / "greet.yml"
    path.write_text(FLOW)
    result = _flow_test(path, "who=Aviary")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["state"]["current"] == "SUCCESS"
    assert document["inputs"]["who"] == "Aviary"
    runs = {run["taskId"]: run for run in document["taskRunList"]}
    assert runs["answer"]["outputs"] == {"value": "AVIARY"}
    assert any(log["message"] == "Hello Aviary" for log in document["logs"])


def test_it_exits_1_when_the_execution_fails(tmp_path):
    path = tmp_path / "fail.yml"
    path.write_text(
        "id: fail\nnamespace: company.team\ntasks:\n"
        "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n    errorMessage: nope\n"
    )
    result = _flow_test(path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["state"]["current"] == "FAILED"
    assert any("nope" in log["message"] for log in document["logs"])


def test_it_exits_2_on_invalid_inputs_and_runs_nothing(tmp_path):
    path = tmp_path / "greet.yml"
    path.write_text(FLOW)
    result = _flow_test(path, "times=many")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "inputs.times" in result.stderr


def test_it_exits_2_on_an_invalid_flow(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("id: bad\nnamespace: company.team\ntasks: []\n")
    result = _flow_test(path)
    assert result.returncode == 2
    assert f"{path}:3: tasks" in result.stderr
