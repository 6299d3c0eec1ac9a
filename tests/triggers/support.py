"""Flows with triggers for the triggers page and API tests: a daily Schedule with inputs, a
Flow trigger with preconditions (two upstream flows and a `where` filter), a Webhook."""

from __future__ import annotations

from tests.conftest import flow_yaml

SCHEDULED = flow_yaml(
    "nightly",
    extra="""\
    inputs:
      - id: region
        type: STRING
        defaults: eu
      - id: size
        type: INT
        required: false
    triggers:
      - id: daily
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "0 0 * * *"
    """,
)

DOWNSTREAM = flow_yaml(
    "report",
    extra="""\
    triggers:
      - id: after-loads
        type: io.kestra.plugin.core.trigger.Flow
        preconditions:
          id: loads
          flows:
            - namespace: company.team
              flowId: load-a
              states: [SUCCESS]
            - namespace: company.team
              flowId: load-b
          where:
            - id: prod
              filters:
                - field: NAMESPACE
                  type: STARTS_WITH
                  value: company
      - id: hook
        type: io.kestra.plugin.core.trigger.Webhook
        key: s3cr3t-key
    """,
)
