"""`manage.py flow validate PATH...`: check flow files as the API would, without a database.

Prints `path:line: message` for each problem and exits 0 when every flow is valid, 2 if not.
A directory stands for the .yml/.yaml files under it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

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

    def handle(self, *args: object, action: str, paths: list[str], **options: object) -> None:
        if action != "validate":  # pragma: no cover - argparse refuses other actions
            raise CommandError(f"unknown action {action}")
        files = list(_expand(paths))
        problems = 0
        for path in files:
            problems += self._validate_file(path)
        checked = f"{len(files)} file(s) checked"
        if problems:
            self.stderr.write(f"{problems} problem(s), {checked}")
            sys.exit(INVALID_EXIT)
        self.stdout.write(f"All valid, {checked}")

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
