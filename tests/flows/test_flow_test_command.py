"""`manage.py flow test PATH`: one JSON document on stdout, exit 0/1/2, problems on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from executions.engine.local import run_flow_file

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


PARENT = """id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      who: Ada
"""
CHILD = """id: child
namespace: company.team
inputs:
  - id: who
    type: STRING
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}"
"""


def _flows(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    for name, source in files.items():
        (directory / f"{name}.yml").write_text(source)
    return directory


def _flow_test_dir(path: Path, flows: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "flow", "test", str(path), "--flows-dir", str(flows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_runs_the_subflows_from_the_flows_directory_and_prints_them(tmp_path):
    flows = _flows(tmp_path, parent=PARENT, child=CHILD, notes="just: notes\n")
    result = _flow_test_dir(flows / "parent.yml", flows)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["state"]["current"] == "SUCCESS"
    (child,) = document["subflowExecutions"]
    assert child["flowId"] == "child"
    assert child["trigger"]["variables"]["executionId"] == document["id"]
    assert document["taskRunList"][0]["outputs"]["executionId"] == child["id"]
    assert any(log["message"] == "Hello Ada" for log in child["logs"])
    assert not any(log["message"] == "Hello Ada" for log in document["logs"])
    assert f"{flows / 'notes.yml'}:1: warning:" in result.stderr  # not a flow: said, skipped


def test_it_exits_1_when_a_subflow_fails_the_parent(tmp_path):
    failing = CHILD.replace("io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.execution.Fail")
    failing = failing.replace("message:", "errorMessage:")
    flows = _flows(tmp_path, child=failing)
    path = tmp_path / "parent.yml"
    path.write_text(PARENT)
    result = _flow_test_dir(path, flows)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["subflowExecutions"][0]["state"]["current"] == "FAILED"


def test_it_exits_2_when_two_files_define_the_same_flow(tmp_path):
    flows = _flows(tmp_path, child=CHILD, copy=CHILD)
    path = tmp_path / "parent.yml"
    path.write_text(PARENT)
    result = _flow_test_dir(path, flows)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Flow company.team.child is defined twice" in result.stderr


def test_a_subflow_naming_a_missing_or_invalid_flow_fails_with_the_reason(tmp_path):
    flows = _flows(tmp_path, child=CHILD.replace("type: STRING", "type: NOPE"))
    result = run_flow_file(PARENT, {}, flows_dir=flows)
    assert result.exit_code == 1
    messages = [log["message"] for log in result.document["logs"]]
    assert any(m.startswith("Cannot execute an invalid flow: ") for m in messages), messages
    assert [w.path for w in result.warnings] == [str(flows / "child.yml")]
    missing = run_flow_file(PARENT, {}, flows_dir=tmp_path / "nowhere")
    assert missing.exit_code == 2
    assert "is not a directory" in missing.problems[0].message
    alone = run_flow_file(PARENT, {})
    assert alone.exit_code == 1
    assert "Unable to find flow 'company.team'.'child'" in str(alone.document["logs"])
