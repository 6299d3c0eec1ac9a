"""User-facing Apps in front of flows (built by the Apps issue)."""
