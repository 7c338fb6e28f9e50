"""Writes: reviewers' scores, internal notes and corrected replies, each audited.

Nothing here changes the reply itself: a correction is kept beside it.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ...models import Conversation, Message
from ..models import AuditEntry, Correction, ReviewNote, Score, ScoreConfig
from .audit import audit_record


class BadScore(ValueError):
    """A value that does not fit the score config."""


def parse_value(config: ScoreConfig, raw: str) -> tuple[float | None, str]:
    """(value, category) for a submitted score, or BadScore saying what fits."""
    raw = (raw or "").strip()
    if config.kind == ScoreConfig.Kind.NUMERIC:
        try:
            value = float(raw)
        except ValueError:
            raise BadScore(f"{config.name}: give a number.") from None
        if not config.min_value <= value <= config.max_value:
            raise BadScore(
                f"{config.name}: give a number from {config.min_value:g} to {config.max_value:g}."
            )
        return value, ""
    if config.kind == ScoreConfig.Kind.BOOLEAN:
        if raw not in ("yes", "no"):
            raise BadScore(f"{config.name}: answer yes or no.")
        return (1.0 if raw == "yes" else 0.0), ""
    if raw not in config.categories:
        raise BadScore(f"{config.name}: choose one of {', '.join(config.categories)}.")
    return None, raw


def score_set(
    *, author: AbstractBaseUser, message: Message, config: ScoreConfig, raw: str
) -> Score:
    """Score a reply against a config; the author's earlier score on it is replaced."""
    value, category = parse_value(config, raw)
    with transaction.atomic():
        score, _ = Score.objects.update_or_create(
            config=config,
            message=message,
            author=author,
            defaults={"value": value, "category": category, "conversation": message.conversation},
        )
        audit_record(
            actor=author,
            action=AuditEntry.Action.SCORE,
            message=message,
            detail={"config": config.name, "value": score.display},
        )
    return score


def score_clear(*, author: AbstractBaseUser, message: Message, config: ScoreConfig) -> bool:
    """Remove the author's own score; say whether there was one."""
    with transaction.atomic():
        deleted, _ = Score.objects.filter(config=config, message=message, author=author).delete()
        if deleted:
            audit_record(
                actor=author,
                action=AuditEntry.Action.SCORE_CLEAR,
                message=message,
                detail={"config": config.name},
            )
    return bool(deleted)


def note_add(
    *, author: AbstractBaseUser, conversation: Conversation, message: Message | None, text: str
) -> ReviewNote:
    """An internal note on the conversation, or on one reply of it."""
    with transaction.atomic():
        note = ReviewNote.objects.create(
            conversation=conversation, message=message, author=author, text=text
        )
        audit_record(
            actor=author,
            action=AuditEntry.Action.NOTE,
            conversation=conversation,
            message=message,
            detail={"note": note.pk},
        )
    return note


def correction_add(*, author: AbstractBaseUser, message: Message, content: str) -> Correction:
    """What the reply should have said; earlier corrections stay, the newest counts."""
    with transaction.atomic():
        correction = Correction.objects.create(
            conversation=message.conversation, message=message, author=author, content=content
        )
        audit_record(
            actor=author,
            action=AuditEntry.Action.CORRECTION,
            message=message,
            detail={"correction": correction.pk},
        )
    return correction
