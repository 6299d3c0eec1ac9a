"""Secrets of a tenant, per namespace. The only place that knows where secret values live.

Values are encrypted at rest (Fernet, a key from settings) and never leave this package in
clear except through `secret_resolve`, which the engine's `secret()` calls; listings show keys
only. The Vault backend of a later issue plugs in behind the same functions.
"""
