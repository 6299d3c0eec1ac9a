"""`manage.py up`: web server, Celery worker and scheduler in the foreground, as one unit.

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too, so a
half-running Aviary never looks healthy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandParser

from config.celery import ensure_broker_folders
from config.processes import celery_worker_command, gunicorn_command

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and the scheduler until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("AVIARY_BIND", "127.0.0.1:8080"))
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args: object, bind: str, concurrency: int, **options: object) -> None:
        ensure_broker_folders()
        python = sys.executable
        commands = {
            "web": gunicorn_command(bind),
            "worker": celery_worker_command("worker@%h", concurrency),
            "scheduler": [python, "manage.py", "scheduler"],
        }
        processes: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, start_new_session=True)
        self.stdout.write(self.style.SUCCESS(f"Aviary is up on http://{bind}/ (Ctrl-C stops it)"))
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        self._stop_all(processes)
        sys.exit(exit_code)

    def _stop_all(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()  # each stops its own children (pool, gunicorn workers)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                os.killpg(process.pid, signal.SIGKILL)
        self.stdout.write("Aviary stopped")
