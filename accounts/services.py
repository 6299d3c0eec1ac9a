"""Writes of users, memberships, API tokens and saved searches."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import ApiToken, Membership, SavedSearch, User
from tenants.errors import Conflict, NotFound, Unprocessable, Violation
from tenants.models import Tenant

TOKEN_PREFIX = "avy_"  # noqa: S105 - a public prefix, not a secret
MAX_TOKEN_DAYS = 3650


def token_hash(raw: str) -> str:
    """SHA-256 of the token. Tokens carry 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


def user_create(
    *, email: str, password: str | None, is_superuser: bool = False, name: str = ""
) -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise Conflict(f"a user with email {email} already exists", field="email")
    if is_superuser:
        return User.objects.create_superuser(email=email, password=password, first_name=name)
    return User.objects.create_user(email=email, password=password, first_name=name)


def membership_add(*, tenant: Tenant, user: User) -> Membership:
    membership, _ = Membership.objects.for_tenant(tenant).get_or_create(user=user)
    return membership


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int | None) -> IssuedToken:
    name = name.strip()
    problems = []
    if not name or len(name) > 100:
        problems.append(Violation(path="name", message="a name of 1 to 100 characters is required"))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        problems.append(
            Violation(
                path="expires_in_days",
                message=f"must be between 1 and {MAX_TOKEN_DAYS} days, got {expires_in_days}",
            )
        )
    if problems:
        raise Unprocessable("invalid API token", violations=problems)
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise Conflict(f"you already have an active token named '{name}'", field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], token_hash=token_hash(raw), expires_at=expires_at
    )
    return IssuedToken(token=token, raw=raw)


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("API token not found")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    from accounts.selectors import active_tokens  # the reads import this module

    active_tokens.discard(token.token_hash)
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use, at most once a minute: a busy script must not write on every request."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_token_purge(*, older_than: timedelta) -> int:
    """Delete tokens revoked or expired more than `older_than` ago (they can never work again)."""
    cutoff = timezone.now() - older_than
    dead = ApiToken.objects.filter(revoked_at__lt=cutoff) | ApiToken.objects.filter(
        expires_at__lt=cutoff
    )
    deleted, _ = dead.delete()
    return deleted


def session_purge_expired() -> int:
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


SAVED_SEARCH_NAME_MAX = 100
SAVED_SEARCH_QUERY_MAX = 2000
_NOT_FILTERS = frozenset({"page", "csrfmiddlewaretoken"})


def saved_search_query(raw: str) -> str:
    """`raw` as a saved search keeps it: a query string without `?`, paging, the CSRF token
    and empty values, so the same filters always give the same text."""
    params = QueryDict(raw.strip().lstrip("?"))
    pairs = [
        (key, value)
        for key, values in params.lists()
        if key not in _NOT_FILTERS
        for value in values
        if value.strip()
    ]
    return urlencode(pairs)


@transaction.atomic
def saved_search_save(
    *, tenant: Tenant, user: User, page: str, name: str, query: str, replace: bool = False
) -> tuple[SavedSearch, bool]:
    """Save `query` under `name` for `user` on `page`; True when created. A name the user
    already has on that page is a Conflict unless `replace`, which then updates it."""
    name = " ".join(name.split())
    query = saved_search_query(query)
    problems = []
    if not name:
        problems.append(Violation(path="name", message="a name is required"))
    elif len(name) > SAVED_SEARCH_NAME_MAX:
        problems.append(
            Violation(
                path="name",
                message=f"at most {SAVED_SEARCH_NAME_MAX} characters, got {len(name)}",
            )
        )
    if page not in SavedSearch.Page.values:
        expected = ", ".join(SavedSearch.Page.values)
        problems.append(Violation(path="page", message=f"expected {expected}, got '{page}'"))
    if not query:
        problems.append(Violation(path="query", message="set at least one filter to save"))
    elif len(query) > SAVED_SEARCH_QUERY_MAX:
        problems.append(
            Violation(
                path="query",
                message=f"the filters take at most {SAVED_SEARCH_QUERY_MAX} characters, "
                f"got {len(query)}",
            )
        )
    if problems:
        raise Unprocessable("invalid saved search", violations=problems)
    searches = SavedSearch.objects.for_tenant(tenant)
    existing = searches.select_for_update().filter(user=user, page=page, name=name).first()
    if existing is not None:
        if not replace:
            raise Conflict(f"you already have a saved search named '{name}'", field="name")
        existing.query = query
        existing.save(update_fields=["query", "updated_at"])
        return existing, False
    try:
        with transaction.atomic():  # a double click: the second insert meets the first
            created = searches.create(user=user, page=page, name=name, query=query)
    except IntegrityError:
        raise Conflict(f"you already have a saved search named '{name}'", field="name") from None
    return created, True


def saved_search_delete(*, tenant: Tenant, user: User, search_id: int) -> SavedSearch:
    """Delete one of `user`'s saved searches in `tenant`; anyone else's is a NotFound."""
    search = SavedSearch.objects.for_tenant(tenant).filter(user=user, pk=search_id).first()
    if search is None:
        raise NotFound("saved search not found")
    search.delete()
    return search
