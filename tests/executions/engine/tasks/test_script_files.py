"""Glob matching of `outputFiles` (java.nio glob syntax) and working-directory paths."""

from pathlib import Path

import pytest

from executions.engine.tasks.base import TaskFailed
from executions.engine.tasks.script_files import glob_regex, inside, matching_files


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.txt", "a.txt", True),
        ("*.txt", "sub/a.txt", False),
        ("**.txt", "sub/deep/a.txt", True),
        ("**/*.txt", "a.txt", False),
        ("**/*.txt", "sub/a.txt", True),
        ("?.csv", "a.csv", True),
        ("?.csv", "ab.csv", False),
        ("report.{csv,json}", "report.json", True),
        ("report.{csv,json}", "report.xml", False),
        ("[a-c]*.log", "b1.log", True),
        ("[!a-c]*.log", "b1.log", False),
        ("data\\*.txt", "data*.txt", True),
        ("data\\*.txt", "data1.txt", False),
        ("out/result.txt", "out/result.txt", True),
    ],
)
def test_it_matches_like_java_nio_globs(pattern, path, matches):
    import re

    assert bool(re.fullmatch(glob_regex(pattern), path)) is matches


def test_it_refuses_an_unclosed_pattern():
    with pytest.raises(TaskFailed, match="missing"):
        glob_regex("report.{csv")


def test_it_matches_files_skipping_the_output_dir_and_symbolic_links(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "skip.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to("/etc/hostname")
    found = matching_files(tmp_path, ["**.txt", "*.txt"], tmp_path / "out")
    assert found == [tmp_path / "keep.txt"]
    absolute = matching_files(tmp_path, [f"regex:{tmp_path}/k.*"], None)
    assert absolute == [tmp_path / "keep.txt"]


def test_it_resolves_paths_inside_the_working_directory_only(tmp_path: Path):
    assert inside(tmp_path, "a/b.txt") == (tmp_path / "a" / "b.txt").resolve()
    for name in ("../x", "/abs", "a/../../x", ""):
        with pytest.raises(TaskFailed, match="relative path inside"):
            inside(tmp_path, name)
