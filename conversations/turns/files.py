"""A turn's files: those a new user message carries (the sender's own, or an edited
message's), and the branch's, read for the request only in a conversation that has any;
an image refused for a model that takes none. Called inside the start's transaction."""

from typing import TYPE_CHECKING

from .. import selectors
from ..errors import TurnRefused, not_found
from ..files import selectors as file_selectors
from ..files.models import Attachment
from ..models import Conversation, Message

if TYPE_CHECKING:  # Given by the caller, from the process's catalog (provider/).
    from ..provider.availability import ModelPolicy


def files_for(*, user, ids: list[str] | None, edit_id: int | None) -> list[Attachment]:
    """The files a new user message carries: the sender's own with these ids (any other
    is refused as missing), or an edited message's own when none are named."""
    if ids is None:
        if edit_id is None:
            return []
        found = file_selectors.attachments_by_message(message_ids=[edit_id])
        return found.get(edit_id, [])
    if not ids:
        return []
    files = file_selectors.attachments_own(user_id=user.pk, ids=ids)
    if files is None:
        raise not_found("file")
    return files


def with_files(
    conversation: Conversation, branch: list[Message], models: "ModelPolicy | None"
) -> None:
    """Give the branch's user messages their files (one query, and only in a conversation
    that has any); refuse an image for a model that takes none."""
    if not conversation.has_files:
        return
    file_selectors.with_attachments(branch)
    if models is None:
        return
    model = selectors.conversation_model(conversation)[0]
    if not models.takes_images(model) and any(
        f.kind == Attachment.Kind.IMAGE for m in branch for f in getattr(m, "files", ())
    ):
        raise TurnRefused(
            "bad_request",
            f"The model {model[:200]} does not take images, and this conversation has one. "
            "Pick a model that takes images.",
            field="model",
        )
