"""`manage.py flow validate|test`: work with flow files, without a server or a database.

`flow validate PATH...` prints `path:line: message` for each problem and exits 0 when every
flow is valid, 2 if not (a directory stands for the .yml/.yaml files under it).
`flow test PATH [--input KEY=VALUE ...] [--flows-dir DIR]` runs the flow in this process and
prints ONE JSON document (the execution in Kestra's shape plus its logs); exit 0
SUCCESS/WARNING, 1 FAILED, KILLED or CANCELLED, 2 when the flow or an input is invalid
(problems on stderr). The flows its Subflow and ForEachItem tasks start are looked up by
namespace and id in the YAML files under DIR; their executions run too and are included
under `subflowExecutions`, each with its own logs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from executions.engine.local import run_flow_file
from flows.spec import validate_flow_source
from flows.spec.yaml_loader import split_documents

INVALID_EXIT = 2


class Command(BaseCommand):
    help = "Work with flow files. `flow validate PATH...` checks them."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="validate flow YAML files or directories")
        validate.add_argument("paths", nargs="+", metavar="PATH")
        test = sub.add_parser("test", help="run one flow file in this process")
        test.add_argument("path", metavar="PATH")
        test.add_argument(
            "--flows-dir",
            metavar="DIR",
            dest="flows_dir",
            help=(
                "a directory of flow files: the flows that Subflow and ForEachItem tasks "
                "start, found by namespace and id (files that are not valid flows are "
                "reported on stderr; one id in two files stops the run, exit 2). Their "
                "executions run in this process and are printed under 'subflowExecutions', "
                "each with its own logs; the exit code is the tested flow's"
            ),
        )
        test.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            dest="inputs",
            help="an input value (repeatable); a FILE input takes a local path",
        )

    def handle(self, *args: object, action: str, **options: Any) -> None:
        if action == "test":
            self._test(options["path"], options["inputs"], options["flows_dir"])
            return
        files = list(_expand(options["paths"]))
        problems = 0
        for path in files:
            problems += self._validate_file(path)
        checked = f"{len(files)} file(s) checked"
        if problems:
            self.stderr.write(f"{problems} problem(s), {checked}")
            sys.exit(INVALID_EXIT)
        self.stdout.write(f"All valid, {checked}")

    def _test(self, path: str, inputs: list[str], flows_dir: str | None) -> None:
        raw: dict[str, str] = {}
        for item in inputs:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--input expects KEY=VALUE, got '{item}'", returncode=2)
            raw[key] = value
        try:
            source = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.stderr.write(f"{path}:0: cannot read: {error}")
            sys.exit(INVALID_EXIT)
        result = run_flow_file(source, raw, flows_dir=flows_dir, path=path)
        for warning in result.warnings:
            self.stderr.write(f"{warning.path}:{warning.line or 0}: warning: {warning.message}")
        for problem in result.problems:
            where = f"{problem.path}: " if problem.path else ""
            self.stderr.write(f"{path}:{problem.line or 0}: {where}{problem.message}")
        if result.document is not None:
            self.stdout.write(json.dumps(result.document, default=str))
        sys.exit(result.exit_code)

    def _validate_file(self, path: Path) -> int:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.stdout.write(f"{path}:0: cannot read: {error}")
            return 1
        count = 0
        offset = 0
        for document in split_documents(text) or [text]:
            start = text.find(document, offset)
            line_base = text.count("\n", 0, start) if start >= 0 else 0
            offset = max(offset, start + len(document))
            result = validate_flow_source(document)
            for violation in result.violations:
                line = (violation.line or 1) + line_base
                where = f"{violation.path}: " if violation.path else ""
                self.stdout.write(f"{path}:{line}: {where}{violation.message}")
                count += 1
            for warning in result.warnings:
                line = (warning.line or 1) + line_base
                self.stderr.write(f"{path}:{line}: warning: {warning.path}: {warning.message}")
        return count


def _expand(paths: list[str]):  # type: ignore[no-untyped-def]
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"})
        else:
            yield path
