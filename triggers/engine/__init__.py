"""The pure part of triggers: cron ticks, schedule conditions, precondition windows and
filters. Plain data in, plain data out; no Django (see ARCHITECTURE.md)."""
