"""Writes for prompts: a user's own (bounded by CHAT_MAX_PROMPTS_PER_USER), or shared ones
staff publish in the admin."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import Prompt

PROMPT_FIELDS = ("command", "title", "text")


class PromptLimitReached(Exception):
    """The user keeps as many prompts of their own as they may."""

    def __init__(self) -> None:
        limit = settings.CHAT_MAX_PROMPTS_PER_USER
        super().__init__(f"You can keep at most {limit:,} prompts. Delete one to make another.")


def _check_room(owner: AbstractBaseUser | None, adding: int) -> None:
    if owner is None:
        return  # Shared prompts are staff's, and bounded where they are listed.
    # Lock the user's row: two saves at once cannot both take the last place.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    held = Prompt.objects.filter(owner=owner).count()
    if held + adding > settings.CHAT_MAX_PROMPTS_PER_USER:
        raise PromptLimitReached()


def prompt_create(*, owner: AbstractBaseUser | None, command: str, title: str, text: str) -> Prompt:
    """A new prompt (owner None: shared); PromptLimitReached past the user's bound. The
    caller has validated the fields (the model's validators: forms and the admin)."""
    with transaction.atomic():
        _check_room(owner, 1)
        return Prompt.objects.create(owner=owner, command=command, title=title, text=text)


def prompt_update(*, prompt: Prompt, command: str, title: str, text: str) -> Prompt:
    prompt.command, prompt.title, prompt.text = command, title, text
    prompt.save(update_fields=[*PROMPT_FIELDS, "updated_at"])
    return prompt


def prompt_delete(*, prompt: Prompt) -> None:
    prompt.delete()


def prompts_import(*, owner: AbstractBaseUser, prompts: list[dict]) -> int:
    """Add prompts from an export (each a dict of PROMPT_FIELDS, checked by the caller);
    one whose command the user already has is left out (an import never overwrites).
    All or none: PromptLimitReached if the new ones would pass the user's bound. How
    many were added."""
    with transaction.atomic():
        have = set(Prompt.objects.filter(owner=owner).values_list("command", flat=True))
        new: list[Prompt] = []
        for fields in prompts:
            if fields["command"] not in have:
                have.add(fields["command"])
                new.append(Prompt(owner=owner, **{f: fields[f] for f in PROMPT_FIELDS}))
        if new:
            _check_room(owner, len(new))
            Prompt.objects.bulk_create(new)
        return len(new)


def account_prompts_delete(*, user_id: int) -> int:
    """Every prompt of an account (the deletion registry calls this)."""
    return Prompt.objects.filter(owner_id=user_id).delete()[0]
