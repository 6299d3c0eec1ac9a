"""Schemathesis against the project's own OpenAPI document: the flows and namespaces API
must never answer 500 nor break its own response schema, whatever the input."""

from __future__ import annotations

import pytest
import schemathesis

from accounts.services import api_token_create
from flows.services import flow_create
from tests.conftest import flow_yaml
from tests.schema_support import CHECKS, fuzzed, schema

schemathesis.serializer.alias("application/x-yaml", "application/yaml")


pytestmark = pytest.mark.usefixtures("keep_test_connection")


@pytest.fixture
def acme_token(acme, alice) -> str:
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    return api_token_create(user=alice, name="schemathesis", expires_in_days=1).raw


@schema.include(path_regex=r"/(flows|namespaces|plugins)").parametrize()
@fuzzed(max_examples=20)
def test_it_never_answers_500_or_breaks_its_schema(case, acme_token):
    if "tenant" in (case.path_parameters or {}):
        case.path_parameters["tenant"] = "acme"  # a real tenant, so requests reach the views
    case.call_and_validate(
        headers={"Authorization": f"Bearer {acme_token}"},
        checks=CHECKS,
    )
