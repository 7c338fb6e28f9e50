"""Writes of share links: making one (the snapshot, and a token shown once), revoking one,
and copying a shared conversation into a viewer's own account."""

import secrets
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .. import hooks
from ..files import selectors as file_selectors
from ..files.models import Attachment
from ..models import Conversation, Message
from ..portability import attached, importing
from ..portability.schema import FileIn, NewConversation, NewMessage
from . import selectors, snapshot
from .models import ShareLink

TOKEN_BYTES = 32  # 256 random bits; the brief's floor is 128.
EXPIRY_DAYS = (1, 7, 30)  # What the dialog offers (or never).


class ShareRefused(ValueError):
    """A link cannot be made, or a shared chat cannot be continued, in words fit to show."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class MadeLink:
    link: ShareLink
    token: str  # Shown once; only its hash is stored.


def link_create(
    *,
    owner: AbstractBaseUser,
    conversation: Conversation,
    audience: str,
    include_instructions: bool,
    expires_in_days: int | None,
    request: HttpRequest | None = None,
) -> MadeLink:
    """Snapshot the conversation's active branch behind a new token.

    The conversation must be the owner's (the caller looked it up as theirs). At
    CHAT_SHARE_MAX_LINKS, revoked and expired links are removed to make room; with none
    of those, ShareRefused."""
    if audience not in ShareLink.Audience.values:
        raise ShareRefused("Choose who may open the link.")
    if audience == ShareLink.Audience.ANYONE and not settings.CHAT_SHARE_ANYONE:
        raise ShareRefused("This site shares links with its signed-in users only.")
    if expires_in_days is not None and expires_in_days not in EXPIRY_DAYS:
        raise ShareRefused("Choose when the link expires.")
    try:
        taken = snapshot.take(conversation=conversation, include_instructions=include_instructions)
    except snapshot.TooLarge:
        raise ShareRefused(
            f"This conversation is too long to share (more than "
            f"{settings.CHAT_SHARE_MAX_BYTES:,} bytes).",
            413,
        ) from None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        _make_room(owner.pk)
        link = ShareLink.objects.create(
            owner=owner,
            conversation=conversation,
            token_hash=selectors.token_hash(token),
            title=(conversation.title or "")[:200],
            snapshot=taken,
            include_instructions=include_instructions,
            audience=audience,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        hooks.share_changed.send(
            sender=None, link=link, action="create", actor=owner, request=request
        )
    return MadeLink(link, token)


def _make_room(user_id: int) -> None:
    """Keep the user's links within CHAT_SHARE_MAX_LINKS: the oldest revoked or expired
    go first; a user whose links are all live must revoke one."""
    most = settings.CHAT_SHARE_MAX_LINKS
    count = selectors.count_own(user_id=user_id)
    if count < most:
        return
    spent = ShareLink.objects.filter(selectors.expired_or_revoked(user_id=user_id))
    ids = list(spent.order_by("created_at", "id").values_list("id", flat=True)[: count - most + 1])
    ShareLink.objects.filter(pk__in=ids).delete()
    if count - len(ids) >= most:
        raise ShareRefused(
            f"You have {most:,} share links, the most you may keep: revoke one in Settings first.",
            409,
        )


def link_revoke(
    *, owner: AbstractBaseUser, link_id: int, request: HttpRequest | None = None
) -> ShareLink | None:
    """Revoke the owner's link at once, and drop its snapshot; None when there is no such
    link of theirs. Revoking a revoked link changes nothing (and records nothing)."""
    with transaction.atomic():
        link = ShareLink.objects.select_for_update().filter(owner=owner, pk=link_id).first()
        if link is None:
            return None
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.snapshot = {}
            link.save(update_fields=["revoked_at", "snapshot"])
            hooks.share_changed.send(
                sender=None, link=link, action="revoke", actor=owner, request=request
            )
    return link


def continue_copy(*, link: ShareLink, viewer: AbstractBaseUser) -> Conversation:
    """A new conversation of the viewer's own, with the snapshot's messages and copies of
    its files, saved as an import is (portability/): within the viewer's own limits (the
    bytes they may keep, an upload's checks for each file); ShareRefused otherwise."""
    messages, files = [], {}
    for position, item in enumerate(link.snapshot.get("messages", [])):
        fields = {
            "role": item["role"],
            "content": item.get("content", ""),
            "reasoning": item.get("reasoning", ""),
            "status": _saved_status(item.get("status")),
            "model": item.get("model", ""),
            "tool_calls": item.get("tool_calls") or None,
            "tool_call_id": item.get("tool_call_id", ""),
            "tool_name": item.get("tool_name", ""),
        }
        ids = []
        for file in item.get("files", ()):
            files[file["id"]] = file
            ids.append(file["id"])
        messages.append(
            NewMessage(parent=position - 1 if position else None, fields=fields, files=ids)
        )
    new = NewConversation(
        title=link.title or "Shared conversation",
        messages=messages,
        current=len(messages) - 1 if messages else None,
    )
    with attached.staging_folder() as folder:
        new.files = _stage(viewer, files, folder)
        for message in messages:
            message.files = [f for f in message.files if f in new.files]
        new.fingerprint = importing.conversation_fingerprint(new)
        try:
            saved = importing.save_checked(user=viewer, conversations=[new], folder=folder)
        except importing.ImportFailed as exc:
            raise ShareRefused(str(exc), exc.status) from None
    return saved[0]


def _saved_status(status: str | None) -> str:
    if status in (Message.Status.PENDING, Message.Status.STREAMING):
        return Message.Status.INTERRUPTED  # It can never finish in the copy.
    return status if status in Message.Status.values else Message.Status.COMPLETE


def _stage(viewer: AbstractBaseUser, files: dict[str, dict], folder: str) -> dict:
    """Copy the shared files' bytes to `folder` for the import's upload checks, once the
    viewer's room for them is known; files gone since the link was made are left out."""
    found = {a.pk.hex: a for a in Attachment.objects.filter(pk__in=list(files))}
    total = sum(a.size for a in found.values())
    used = file_selectors.bytes_used(user_id=viewer.pk)
    allowed = settings.CHAT_MAX_FILE_BYTES_PER_USER
    if found and used + total > allowed:
        raise ShareRefused(
            f"Its files take {total:,} bytes; with the {used:,} your files take already, "
            f"that passes the {allowed:,} bytes each person may keep."
        )
    staged = {}
    for file_id, attachment in found.items():
        try:
            with file_selectors.attachment_open(attachment) as source:
                with open(Path(folder, file_id), "wb") as target:
                    shutil.copyfileobj(source, target)
        except OSError:
            continue
        # Described as an export describes it (its id is `file_id`, the row's hex).
        staged[file_id] = FileIn.model_construct(**attached.file_entry(attachment))
    return staged
