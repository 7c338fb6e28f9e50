"""Reads of share links: by token (for anyone who has it), and a user's own."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..files.models import Attachment
from .models import ShareLink
from .snapshot import file_ids

MAX_TOKEN_CHARS = 100  # Ours are 43; anything much longer is not one of ours.


def token_hash(token: str) -> str:
    """What is stored of a token: random, so a plain SHA-256 is enough (no salt, no
    slowness: there is nothing to guess from)."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_by_token(*, token: str) -> ShareLink | None:
    """The link this token opens, whatever its state; None for an unknown token.

    Looked up by the token's hash (indexed), then the hash compared in constant time."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    wanted = token_hash(token)
    found = ShareLink.objects.filter(token_hash=wanted).select_related("conversation").first()
    if found is None or not hmac.compare_digest(found.token_hash, wanted):
        return None
    return found


def audience_now(link: ShareLink) -> str:
    """Who may open it now: a link open to anyone is for signed-in users only while the
    deployment forbids links open to anyone (CHAT_SHARE_ANYONE=false)."""
    if link.audience == ShareLink.Audience.ANYONE and not settings.CHAT_SHARE_ANYONE:
        return ShareLink.Audience.SIGNED_IN
    return link.audience


def is_active(link: ShareLink, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return link.revoked_at is None and (link.expires_at is None or link.expires_at > now)


def link_visible(*, token: str, user: AbstractBaseUser) -> ShareLink | None:
    """The link when this viewer may see it: live (not revoked, not expired) and open to
    them; else None, the same for every reason."""
    link = link_by_token(token=token)
    if link is None or not is_active(link):
        return None
    if audience_now(link) == ShareLink.Audience.SIGNED_IN and not user.is_authenticated:
        return None
    return link


def shared_file(*, link: ShareLink, attachment_id: str) -> Attachment | None:
    """A file the link's snapshot carries (by its hex id); None for any other."""
    wanted = attachment_id.replace("-", "").lower()
    if wanted not in file_ids(link.snapshot):
        return None
    return Attachment.objects.filter(pk=wanted).first()


def links_own(*, user: AbstractBaseUser) -> QuerySet[ShareLink]:
    """The user's links, newest first, without their snapshots."""
    return (
        ShareLink.objects.filter(owner=user)
        .select_related("conversation")
        .defer("snapshot")
        .order_by("-created_at", "-id")
    )


def link_own(*, user: AbstractBaseUser, link_id: int) -> ShareLink | None:
    """The user's link with this id, or None (also when it is someone else's)."""
    return ShareLink.objects.filter(owner=user, pk=link_id).defer("snapshot").first()


def count_own(*, user_id: int) -> int:
    return ShareLink.objects.filter(owner_id=user_id).count()


@dataclass
class SharedSummary:
    """What a reviewer sees of a conversation's links (never their tokens or snapshots)."""

    count: int
    active: int
    anyone: int  # Active links open to anyone.
    newest: datetime | None


def summary(*, conversation_id: int) -> SharedSummary:
    """How a conversation was shared: its links, those live, and the newest (one query)."""
    now = timezone.now()
    rows = list(
        ShareLink.objects.filter(conversation_id=conversation_id).values(
            "audience", "expires_at", "revoked_at", "created_at"
        )
    )
    live = [
        r
        for r in rows
        if r["revoked_at"] is None and (r["expires_at"] is None or r["expires_at"] > now)
    ]
    return SharedSummary(
        count=len(rows),
        active=len(live),
        anyone=sum(1 for r in live if r["audience"] == ShareLink.Audience.ANYONE),
        newest=max((r["created_at"] for r in rows), default=None),
    )


def expired_or_revoked(*, user_id: int) -> Q:
    return Q(owner_id=user_id) & (Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))


SETTINGS_ROWS = 200  # More than CHAT_SHARE_MAX_LINKS allows by default; the list stays short.


@dataclass
class ShareRow:
    """One of the user's links as Settings lists it."""

    id: int
    title: str
    created_at: datetime
    expires_at: datetime | None
    audience: str
    status: str  # "active", "expired" or "revoked"


def share_rows(*, user: AbstractBaseUser) -> list[ShareRow]:
    now = timezone.now()
    rows = []
    for link in links_own(user=user)[:SETTINGS_ROWS]:
        if link.revoked_at is not None:
            status = "revoked"
        elif link.expires_at is not None and link.expires_at <= now:
            status = "expired"
        else:
            status = "active"
        rows.append(
            ShareRow(
                id=link.pk,
                title=link.title or "Untitled",
                created_at=link.created_at,
                expires_at=link.expires_at,
                audience=ShareLink.Audience(link.audience).label,
                status=status,
            )
        )
    return rows
