"""Reads of users, API tokens and saved searches."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import ApiToken, Membership, SavedSearch, User
from accounts.services import token_hash
from config.ttl_cache import TtlCache
from tenants.models import Tenant


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def _auth_cache_seconds() -> float:
    return float(settings.AVIARY["AUTH_CACHE_SECONDS"])


# token hash -> the token row with its user, for a few seconds (config/ttl_cache.py)
active_tokens: TtlCache[ApiToken] = TtlCache(_auth_cache_seconds)


def api_token_find_active(*, raw: str) -> ApiToken | None:
    """The active token whose hash matches, with its user. Lookup is by hash, so timing
    reveals nothing about other tokens. Expiry is checked on every call, the row is read
    again once its cache entry is a few seconds old."""
    digest = token_hash(raw)
    token = active_tokens.get(digest)
    if token is None:
        token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=digest, revoked_at__isnull=True)
            .first()
        )
        if token is not None:
            active_tokens.put(digest, token)
    if token is None or token.is_expired or not token.user.is_active:
        return None
    return token


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__email")


def user_find_by_email(*, email: str) -> User | None:
    return User.objects.filter(email=email.strip().lower(), is_active=True).first()


def saved_search_list(*, tenant: Tenant, user: User, page: str) -> QuerySet[SavedSearch]:
    """`user`'s own saved searches of `page` in `tenant`, by name."""
    return SavedSearch.objects.for_tenant(tenant).filter(user=user, page=page).order_by("name")
