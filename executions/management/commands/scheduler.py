"""`manage.py scheduler`: the scheduler process. Runs periodic jobs and hands work to the
workers through the broker: Schedule triggers, Flow triggers, wake-ups, sweepers."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandParser

from config.celery import ensure_broker_folders
from executions.concurrency import queued_start_due
from executions.periodic import PeriodicJob, SchedulerLoop
from executions.services import executions_wake_due, task_runs_recover_lost
from executions.sla import MONITOR_INTERVAL, monitors_process
from executions.tasks import housekeeping
from triggers.flow_triggers import transitions_drain
from triggers.scheduler import ScheduleJob, schedule_locks_release

HOUR = 3600.0


class Command(BaseCommand):
    help = "Run the scheduler in the foreground until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tick", type=float, default=0.1, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="run due jobs once and exit")

    def handle(self, *args: object, tick: float, once: bool, **options: object) -> None:
        logging.getLogger("aviary").setLevel(logging.INFO)
        ensure_broker_folders()
        schedule_triggers = ScheduleJob()
        loop = SchedulerLoop(
            [
                PeriodicJob("schedule-locks", 1.0, schedule_locks_release),
                PeriodicJob("housekeeping", HOUR, lambda: housekeeping.delay()),
                PeriodicJob("wake-executions", 1.0, executions_wake_due),
                PeriodicJob("recover-lost-task-runs", 5.0, task_runs_recover_lost),
                PeriodicJob("start-queued-executions", 5.0, queued_start_due),
                # short turns: the SLA job behind it must run within its second
                PeriodicJob("flow-triggers", 0.5, lambda: transitions_drain(seconds=0.25)),
                PeriodicJob("sla-monitors", MONITOR_INTERVAL, monitors_process),
            ],
            tick=tick,
        )
        if once:
            schedule_triggers()
            ran = ["schedule-triggers", *loop.run_once()]
            self.stdout.write(f"ran: {', '.join(ran)}")
            return
        loop.install_signal_handlers()
        # Schedule triggers in a thread of their own: a tick starts on time even while one of
        # the loop's jobs runs
        thread = schedule_triggers.serve_in_thread(loop.stopping)
        self.stdout.write("Scheduler running (Ctrl-C to stop)")
        loop.run_forever()
        thread.join(timeout=30)
