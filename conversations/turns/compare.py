"""A compare's start: two to four replies to one user message, written at once.

Each reply has its own model and persona (checked as a turn's are) and its own view of
the conversation, which its request is planned from; all of them are saved, with their
compare, in the start's one transaction, and run under the conversation's one lease.
"""

import copy
import random
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .. import selectors
from ..access import policy as access_policy
from ..compare import selectors as compare_selectors
from ..compare import services as compare_services
from ..errors import not_found
from ..models import Conversation, Message
from ..personas import selectors as persona_selectors
from ..personas.models import Persona
from . import checks

if TYPE_CHECKING:
    from ..provider.availability import ModelPolicy


@dataclass(frozen=True)
class CompareSpec:
    """One reply of a compare, as the user asked for it: its model (None: the persona's,
    else the conversation's) and its persona (None: the conversation's)."""

    model: str | None = None
    persona: int | None = None


@dataclass
class CompareStart:
    """One reply of a compare: its placeholder, and the conversation as its request sees
    it (its persona and model in place of the conversation's)."""

    reply: Message
    view: Conversation


def _view(
    conversation: Conversation, spec: CompareSpec, *, user, models: "ModelPolicy | None"
) -> tuple[Conversation, str, Persona | None]:
    """The conversation as one entry's reply sees it, its model, and its persona."""
    view = copy.copy(conversation)
    persona = conversation.persona
    if spec.persona is not None:
        persona = persona_selectors.persona_get_seen(user=user, persona_id=spec.persona)
        if persona is None:
            raise not_found("persona")
        access = models.access if models is not None else access_policy.current()
        checks.check_persona(persona, user_id=user.pk, access=access)
        # A persona compared is the persona as it is: its prompt and parameters, not the
        # conversation's own choices over the conversation's persona.
        view.persona = persona
        view.system_prompt = ""
        view.temperature = view.top_p = view.max_tokens = None
    if spec.model:
        model = spec.model
        if models is not None:
            models.check_chosen(model, user_id=user.pk)
    elif spec.persona is not None and persona.model:
        model = persona.model
        if models is not None:
            models.check_inherited(model, source="persona", user_id=user.pk)
    else:  # The conversation's own model, which the turn's start checked (checks.turn_check).
        model = selectors.conversation_model(conversation)[0]
    view.model = model
    return view, model, persona


def compare_start(
    *,
    user,
    conversation: Conversation,
    prompt: Message,
    specs: list[CompareSpec],
    blind: bool | None,
    models: "ModelPolicy | None",
    now: datetime,
    placeholder,
) -> list[CompareStart]:
    """Check every entry, then save a placeholder per entry and the compare of them, in
    column order: in a blind compare the order is shuffled, so a column says nothing of
    which model writes it. `placeholder(model)` saves one reply's placeholder."""
    views = [_view(conversation, spec, user=user, models=models) for spec in specs]
    if blind is None:
        blind = compare_selectors.blind_by_default()
    if blind:
        random.SystemRandom().shuffle(views)
    started, compared = [], []
    for view, model, persona in views:
        reply = placeholder(model)
        started.append(CompareStart(reply, view))
        compared.append(compare_services.Compared(reply, model, persona))
    rows = compare_services.compare_create(
        conversation=conversation, prompt=prompt, replies=compared, blind=blind
    )
    for start, row in zip(started, rows, strict=True):
        start.reply.compare_info = compare_selectors.reply_info(
            row, count=len(rows), preference=None
        )
    return started
