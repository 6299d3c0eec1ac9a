"""The fixtures of tests/executions (a real Celery worker, the recorded Celery sends and the
in-process driver) for the trigger tests. Imported, the session worker is this package's
own: an xdist process that runs both packages starts one worker for each."""

from tests.executions.conftest import (  # noqa: F401 - fixtures
    celery_worker_process,
    drive,
    sent,
)
