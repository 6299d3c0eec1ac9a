"""Users, tenant membership, login and API tokens."""
