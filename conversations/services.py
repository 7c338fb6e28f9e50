"""Writes: every change the app makes to conversations, personas, messages and users."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .models import Conversation, Message
from .personas.models import Persona

TITLE_CHARS = 60


def title_from_text(text: str) -> str:
    """A first title from the opening message: its first line, shortened on a word.

    Made of its first few hundred characters (past its leading space), never all of it.
    """
    line = " ".join(text.lstrip()[: TITLE_CHARS * 8].split())
    if len(line) <= TITLE_CHARS:
        return line or "New chat"
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def conversation_create(
    *, owner: AbstractBaseUser, persona: Persona | None, model: str, title: str = ""
) -> Conversation:
    """Start a conversation."""
    return Conversation.objects.create(owner=owner, persona=persona, model=model, title=title)


# The settings a user may give one conversation, over its persona's.
PARAMETER_FIELDS = ("temperature", "top_p", "max_tokens", "system_prompt")


@dataclass(frozen=True)
class SettingsChange:
    """What a frame changes of a conversation's settings: only the fields named in `given`.

    A given `None` (or `""` for `model` and `system_prompt`) clears the user's own choice,
    so the persona's (else the default) applies again.
    """

    given: frozenset[str] = frozenset()
    persona: int | None = None
    model: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    system_prompt: str = ""

    @property
    def chosen_model(self) -> str:
        """The model this change picks, "" when it picks none (or clears the choice)."""
        return self.model if "model" in self.given else ""


def conversation_apply_settings(
    *, conversation: Conversation, change: SettingsChange, persona: Persona | None
) -> list[str]:
    """Apply a change to a conversation in memory (the caller saves); return what changed.

    `persona` is the persona `change.persona` names, already checked as the user's to use.
    A conversation given a different persona follows that persona's model from then on,
    unless the same change also chooses a model: choosing a persona chooses its model.
    """
    changed: list[str] = []
    if "persona" in change.given and (persona.pk if persona else None) != conversation.persona_id:
        conversation.persona = persona
        changed.append("persona")
        if "model" not in change.given and conversation.model:
            conversation.model = ""
            changed.append("model")
    if "model" in change.given and change.model != conversation.model:
        conversation.model = change.model
        changed.append("model")
    for name in PARAMETER_FIELDS:
        if name in change.given and getattr(change, name) != getattr(conversation, name):
            setattr(conversation, name, getattr(change, name))
            changed.append(name)
    return changed


def conversation_update_settings(
    *, conversation: Conversation, change: SettingsChange, persona: Persona | None
) -> list[str]:
    """Change a conversation's persona, model or parameters from its next reply on."""
    changed = conversation_apply_settings(conversation=conversation, change=change, persona=persona)
    if changed:
        conversation.save(update_fields=changed)
    return changed


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    """The user's own title, which automatic titles never overwrite."""
    conversation.title = title.strip()[:200] or "Untitled"
    conversation.title_source = Conversation.TitleSource.USER
    conversation.save(update_fields=["title", "title_source"])
    return conversation


def conversation_set_title_generated(*, conversation_id: int, title: str) -> bool:
    """Store a generated title unless the user has named the conversation; say if it was stored."""
    return bool(
        Conversation.objects.filter(
            pk=conversation_id, title_source=Conversation.TitleSource.FIRST_MESSAGE
        ).update(title=title[:200], title_source=Conversation.TitleSource.GENERATED)
    )


def conversation_set_flags(
    *, conversation: Conversation, pinned: bool | None = None, archived: bool | None = None
) -> Conversation:
    """Pin or unpin, archive or unarchive."""
    if pinned is not None:
        conversation.pinned = pinned
    if archived is not None:
        conversation.archived = archived
    conversation.save(update_fields=["pinned", "archived"])
    return conversation


def conversation_switch(*, conversation: Conversation, leaf_id: int) -> Conversation:
    """Make the branch ending at `leaf_id` the one the conversation shows and continues."""
    from .selectors import message_branch

    with transaction.atomic():
        conversation.current_leaf_id = leaf_id
        conversation.save(update_fields=["current_leaf"])
        path = [m.pk for m in message_branch(conversation=conversation, leaf_id=leaf_id)]
        Message.objects.filter(pk__in=path).update(selected_at=timezone.now())
    return conversation


def temporary_close(*, owner_id: int, conversation_ids: Iterable[int]) -> int:
    """Mark these temporary chats of the owner closed (its owner left them): the runner
    deletes them next (deletion/temporary.py). Anyone else's, or a saved one, is untouched."""
    return Conversation.objects.filter(
        owner_id=owner_id, pk__in=list(conversation_ids), temporary=True, closed_at__isnull=True
    ).update(closed_at=timezone.now())


def temporary_reopen(*, owner_id: int, conversation_id: int) -> int:
    """A closed temporary chat its owner opened again before the runner took it (the page
    reconnecting, say) is open again; its hours still count from its start."""
    return Conversation.objects.filter(
        owner_id=owner_id, pk=conversation_id, temporary=True, closed_at__isnull=False
    ).update(closed_at=None)
