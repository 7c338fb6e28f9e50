"""Reads behind the leaderboard: users' compare choices, filtered, and what the filters
may offer.

Two viewers: staff (viewer_id None) filter across every user's conversations, by tag and
project *names*; anyone else (the public leaderboard) filters by their own tags and
projects only, so no other user's tag or project name ever reaches them. A user's private
persona is never named to others, staff included (as on the review dashboard): its
replies rank as PRIVATE_PERSONA with their model. Temporary chats never count.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from .. import selectors as conversation_selectors
from ..personas.models import Persona
from ..projects.models import Project
from ..tags.models import Tag
from .leaderboard import Choice
from .models import CompareReply, Preference

MAX_OPTIONS = 500  # Names a filter's list offers at most.
PRIVATE_PERSONA = "private persona"


@dataclass(frozen=True)
class Filters:
    """What the leaderboard is narrowed to: blank or None is "any"."""

    persona: str = ""  # A persona's name: compares with a reply of it.
    tag: str = ""  # A tag's key (its casefolded name).
    project: str = ""  # A project's name (any case).
    since: dt.date | None = None  # Chosen on or after this UTC day.
    until: dt.date | None = None  # Chosen on or before this UTC day.
    blind_only: bool = False  # Only choices made with the names hidden (no brand bias).


def _visible_persona(viewer_id: int | None) -> Q:
    """Replies whose persona's name this viewer may see: a shared persona's, or the
    viewer's own. A deleted persona's owner is unknown: staff see the name it had (they
    may read its transcripts), others do not."""
    if viewer_id is None:
        return Q(persona__isnull=True) | Q(persona__owner__isnull=True)
    return Q(persona__isnull=False) & (
        Q(persona__owner__isnull=True) | Q(persona__owner_id=viewer_id)
    )


def _shown(viewer_id: int | None, persona_id: int | None, owner_id: int | None) -> bool:
    """_visible_persona, for one reply already read."""
    if persona_id is None:
        return viewer_id is None
    return owner_id is None or owner_id == viewer_id


def preferences(*, filters: Filters, viewer_id: int | None) -> QuerySet[Preference]:
    """The choices that count under these filters, newest first."""
    found = Preference.objects.filter(conversation__temporary=False)
    found = found.filter(
        conversation_selectors.within_days("created_at", since=filters.since, until=filters.until)
    )
    if filters.blind_only:
        found = found.filter(blind=True)
    if filters.persona:
        replies = CompareReply.objects.filter(
            _visible_persona(viewer_id), persona_name=filters.persona
        )
        found = found.filter(group_id__in=replies.values("group_id"))
    mine = Q() if viewer_id is None else Q(owner_id=viewer_id)
    if filters.tag:
        tags = Tag.objects.filter(mine, key=filters.tag)
        found = found.filter(conversation__tags__in=tags)
    if filters.project:
        projects = Project.objects.filter(mine, name__iexact=filters.project)
        found = found.filter(conversation__project__in=projects)
    return found.order_by("-created_at", "-id")


def choices_stamp(*, filters: Filters, viewer_id: int | None) -> tuple[int, str]:
    """How many choices match and when the newest changed: one aggregate query, which
    tells whether a table fitted before still holds."""
    found = preferences(filters=filters, viewer_id=viewer_id).aggregate(
        n=Count("id"), newest=Max("updated_at")
    )
    return found["n"], found["newest"].isoformat() if found["newest"] else ""


def choices(*, filters: Filters, viewer_id: int | None, limit: int) -> list[Choice]:
    """The newest `limit` choices under these filters, as the fit takes them (two
    queries)."""
    chosen = list(
        preferences(filters=filters, viewer_id=viewer_id).values_list(
            "group_id", "verdict", "chosen_id"
        )[:limit]
    )
    groups: dict[int, list[tuple[int, str]]] = {group: [] for group, _, _ in chosen}
    # Read by the same filter rather than by a list of ids: a list of 50,000 would pass
    # SQLite's bound on a query's parameters.
    newest = preferences(filters=filters, viewer_id=viewer_id).values("group_id")[:limit]
    replies = (
        CompareReply.objects.filter(group_id__in=newest)
        .order_by("group_id", "slot")
        .values_list("group_id", "pk", "model", "persona_name", "persona__owner_id", "persona_id")
    )
    for group, pk, model, persona_name, owner_id, persona_id in replies:
        if group not in groups:
            continue
        if persona_name and not _shown(viewer_id, persona_id, owner_id):
            persona_name = PRIVATE_PERSONA
        label = CompareReply(model=model, persona_name=persona_name).label
        groups[group].append((pk, label))
    found = []
    for group, verdict, chosen_id in chosen:
        replies_of = groups[group]
        if len(replies_of) < 2:
            continue
        ids = [pk for pk, _ in replies_of]
        winner = (
            ids.index(chosen_id)
            if verdict == Preference.Verdict.WINNER and chosen_id in ids
            else None
        )
        if verdict == Preference.Verdict.WINNER and winner is None:
            continue  # Its chosen reply was deleted since: no verdict left to count.
        found.append(Choice(contestants=tuple(label for _, label in replies_of), winner=winner))
    return found


def persona_options(*, viewer_id: int | None) -> list[str]:
    """Persona names the filter offers: those in compares that staff may see named, or
    the shared personas and the viewer's own."""
    if viewer_id is None:
        names = (
            CompareReply.objects.filter(_visible_persona(None))
            .exclude(persona_name="")
            .values_list("persona_name", flat=True)
            .distinct()
            .order_by("persona_name")
        )
    else:
        names = (
            Persona.objects.filter(Q(owner__isnull=True) | Q(owner_id=viewer_id))
            .values_list("name", flat=True)
            .distinct()
            .order_by("name")
        )
    return list(names[:MAX_OPTIONS])


def tag_options(*, viewer_id: int | None) -> list[tuple[str, str]]:
    """(key, name) of the tags the filter offers: any user's on conversations with
    choices (staff, one entry per name), or the viewer's own."""
    if viewer_id is None:
        tags = Tag.objects.filter(
            conversations__in=Preference.objects.values("conversation_id")
        ).distinct()
    else:
        tags = Tag.objects.filter(owner_id=viewer_id)
    keys: dict[str, str] = {}
    for key, name in tags.order_by("key", "pk").values_list("key", "name")[: MAX_OPTIONS * 4]:
        keys.setdefault(key, name)
    return list(keys.items())[:MAX_OPTIONS]


def project_options(*, viewer_id: int | None) -> list[str]:
    """Project names the filter offers: any user's with choices (staff), or the
    viewer's own."""
    if viewer_id is None:
        projects = Project.objects.filter(
            conversations__in=Preference.objects.values("conversation_id")
        )
    else:
        projects = Project.objects.filter(owner_id=viewer_id)
    names: dict[str, str] = {}
    for name in projects.order_by("name").values_list("name", flat=True)[: MAX_OPTIONS * 4]:
        names.setdefault(name.casefold(), name)
    return list(names.values())[:MAX_OPTIONS]
