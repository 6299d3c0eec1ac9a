"""`manage.py flow validate PATH...`: `path:line: message` per problem, exit 0 or 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import flow_yaml

ROOT = Path(__file__).resolve().parents[2]


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "flow", "validate", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_exits_0_when_every_flow_is_valid(tmp_path):
    (tmp_path / "a.yml").write_text(flow_yaml("a"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(flow_yaml("b"))
    result = _validate(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 file(s)" in result.stdout


def test_it_prints_path_line_message_and_exits_2(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(flow_yaml("good"))
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "id: bad\nnamespace: company.team\ntasks:\n"
        "  - id: a\n    type: io.kestra.plugin.core.log.Nope\n"
    )
    result = _validate(good, bad)
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert lines
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert any(line.startswith(f"{bad}:5: ") and "Nope" in line for line in lines)


def test_it_numbers_lines_within_multi_document_files(tmp_path):
    path = tmp_path / "two.yml"
    path.write_text(flow_yaml("one") + "---\nid: two\nnamespace: company.team\ntasks: []\n")
    result = _validate(path)
    assert result.returncode == 2
    assert f"{path}:10: " in result.stdout  # `tasks: []` is line 10 of the file


def test_it_reports_a_missing_file(tmp_path):
    result = _validate(tmp_path / "missing.yml")
    assert result.returncode == 2
    assert "cannot read" in result.stdout


def test_it_validates_the_example_flows():
    result = _validate(ROOT / "flows" / "examples")
    assert result.returncode == 0, result.stdout
