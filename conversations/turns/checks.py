"""What a turn may use, for the user who starts it: the model it will use (the catalog and
the access rules, as the caller's policy knows them) and its persona (a shared one may be
kept to some groups). Called inside the start's transaction; no query of its own."""

from typing import TYPE_CHECKING

from .. import selectors
from ..access import kinds
from ..access import policy as access_policy
from ..errors import TurnRefused, not_found
from ..models import Conversation
from ..personas import selectors as persona_selectors
from ..personas.models import Persona
from ..services import SettingsChange

if TYPE_CHECKING:  # Given by the caller, from the process's catalog (provider/).
    from ..provider.availability import ModelPolicy


def settings_persona(
    *, user, change: SettingsChange, access: access_policy.Snapshot | None = None
) -> Persona | None:
    """The persona a settings change names, checked as one the user may use: their own,
    or a shared one the access rules (`access`, else this process's) do not keep from them."""
    if "persona" not in change.given or change.persona is None:
        return None
    persona = persona_selectors.persona_get_seen(user=user, persona_id=change.persona)
    if persona is None:
        raise not_found("persona")
    check_persona(persona, user_id=user.pk, access=access or access_policy.current())
    return persona


def check_persona(persona: Persona, *, user_id: int, access: access_policy.Snapshot) -> None:
    """A shared persona kept to other groups is refused (`bad_request`, saying so)."""
    if persona.owner_id is None and not access.user(user_id).may(kinds.PERSONA, str(persona.pk)):
        raise TurnRefused(
            "bad_request",
            f"The persona {persona.name} is kept to other groups than yours. Pick another persona.",
            field="persona",
        )


def turn_check(
    models: "ModelPolicy | None", conversation: Conversation, change: SettingsChange, user_id: int
) -> None:
    """The model a turn will use must be usable, by this user; so must its persona. A model
    the send chose was checked against the catalog before (off the transaction); here
    against the user's groups."""
    if models is None:
        return
    if conversation.persona_id is not None:
        check_persona(conversation.persona, user_id=user_id, access=models.access)
    if change.chosen_model:
        models.check_chosen(change.chosen_model, user_id=user_id)
        return
    model, source = selectors.conversation_model(conversation)
    models.check_inherited(
        model, source="persona" if source == "persona" else "conversation", user_id=user_id
    )
