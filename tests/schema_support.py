"""Shared by the Schemathesis tests (the whole API, the triggers API, the webhook): the
OpenAPI document read from the app itself, the checks every case must pass, and the
Hypothesis settings they run under."""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

# The document is read from the app itself (no database needed for it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

# Never a 500, never a response outside its own schema or content type.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def fuzzed(max_examples: int) -> Callable:
    """Hypothesis settings of a Schemathesis test: repeatable cases, no deadline (requests
    reach PostgreSQL), and no health check against the test's function-scoped fixtures."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
