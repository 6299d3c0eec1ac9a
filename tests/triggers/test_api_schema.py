"""Schemathesis against the triggers part of the OpenAPI document: whatever the input, the
triggers API never answers 500 and never breaks its own response schema."""

from __future__ import annotations

import pytest

from accounts.services import api_token_create
from flows.services import flow_create
from tests.schema_support import CHECKS, fuzzed, schema
from tests.triggers.support import DOWNSTREAM, SCHEDULED

pytestmark = pytest.mark.usefixtures("keep_test_connection")


@pytest.fixture
def acme_token(acme, alice) -> str:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return api_token_create(user=alice, name="schemathesis", expires_in_days=1).raw


@schema.include(path_regex=r"/triggers").parametrize()
@fuzzed(max_examples=25)
def test_it_never_answers_500_or_breaks_its_schema(case, acme_token):
    if "tenant" in (case.path_parameters or {}):
        case.path_parameters["tenant"] = "acme"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {acme_token}"},
        checks=CHECKS,
    )
