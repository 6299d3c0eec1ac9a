"""Tenants and namespaces: the tenant-scoping base classes every tenant-owned model uses."""
