"""Writes for personas: a user's own, or shared ones staff manage."""

from django.contrib.auth.models import AbstractBaseUser

from .models import Persona

# What a persona sends upstream: changing any of these makes a new version.
PERSONA_SENT_FIELDS = (
    "system_prompt",
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "tools",
    "tool_choice",
)


PERSONA_FIELDS = ("name", "description", *PERSONA_SENT_FIELDS)


def persona_create(*, owner: AbstractBaseUser | None, name: str, **fields) -> Persona:
    """Create a persona; owner None makes it shared."""
    unknown = set(fields) - set(PERSONA_FIELDS)
    if unknown:
        raise TypeError(f"not persona fields: {sorted(unknown)}")
    return Persona.objects.create(owner=owner, name=name, **fields)


def persona_update(*, persona: Persona, **fields) -> Persona:
    """Edit a persona (staff may also change its owner); its version goes up when what it
    sends changes."""
    changed = [name for name, value in fields.items() if getattr(persona, name) != value]
    unknown = set(fields) - {*PERSONA_FIELDS, "owner"}
    if unknown:
        raise TypeError(f"not persona fields: {sorted(unknown)}")
    if not changed:
        return persona
    for name in changed:
        setattr(persona, name, fields[name])
    update = [*changed, "updated_at"]
    if set(changed) & set(PERSONA_SENT_FIELDS):
        persona.version += 1
        update.append("version")
    persona.save(update_fields=update)
    return persona


def persona_duplicate(*, persona: Persona, owner: AbstractBaseUser) -> Persona:
    """Copy a persona (shared or one's own) into a new one the user owns."""
    fields = {name: getattr(persona, name) for name in PERSONA_FIELDS if name != "name"}
    return persona_create(owner=owner, name=f"{persona.name} (copy)"[:100], **fields)


def persona_delete(*, persona: Persona) -> None:
    """Delete a persona; conversations that used it keep their history and lose the link."""
    persona.delete()
