"""`manage.py bench NAME [--quick]`: Aviary's benchmarks, one JSON object per benchmark on
stdout. The code lives in `bench/`; see bench/README.md."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import environment, runner


class Command(BaseCommand):
    help = (
        "Run benchmarks on PostgreSQL and Redis: latency, throughput, overhead, foreach, api, "
        "triggers or all."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=[*runner.BENCHMARKS, "all"])
        parser.add_argument(
            "--quick", action="store_true", help="tiny parameters: checks that it runs"
        )

    def handle(self, *args: object, name: str, quick: bool, **options: object) -> None:
        env = environment.wanted_environment()
        try:
            environment.check_servers(env)
        except environment.BenchError as error:
            raise CommandError(str(error)) from None
        if environment.must_reexec():
            # Settings were read without the benchmark database: run again with it.
            manage = str(environment.ROOT / "manage.py")
            argv = [sys.executable, manage, "bench", name, *(["--quick"] if quick else [])]
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, argv, env)  # noqa: S606 - this very command, again
        if environment.ensure_database(env["DATABASE_URL"]):
            self.stderr.write(f"[bench] created database {env['DATABASE_URL'].rsplit('/', 1)[1]}")
        names = list(runner.BENCHMARKS) if name == "all" else [name]
        exit_code = runner.run(names, quick=quick, out=self.stdout, log=self.stderr)
        if exit_code:
            raise SystemExit(exit_code)
