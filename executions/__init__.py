"""Executions: runs of flows, task runs and logs (the execution engine issue fills this in)."""
