"""Triggers: the evaluation state of every flow trigger (Schedule, Flow, Webhook), the
scheduler's claims, Flow-trigger preconditions and their windows, backfills."""
