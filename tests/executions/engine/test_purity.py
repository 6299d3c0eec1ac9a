"""The engine core imports nothing from Django, DRF, Celery or a database driver."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import sys
import executions.engine.commands, executions.engine.decide, executions.engine.runner
import executions.engine.services, executions.engine.worker
forbidden = ("django", "rest_framework", "celery", "psycopg")
print(sorted({m.split(".")[0] for m in sys.modules} & set(forbidden)))
"""


def test_it_runs_without_django_celery_or_a_database():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
