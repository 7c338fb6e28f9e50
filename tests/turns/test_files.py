"""A turn's files: the sender's own only, an edit's kept, and an image refused for a model
whose catalog row does not say it takes images (no row: none)."""

import pytest

from conversations import services as conversation_services
from conversations.catalog.models import ModelInfo
from conversations.errors import TurnRefused
from conversations.files import services as file_services
from conversations.provider import availability, catalog
from conversations.turns import files as turn_files
from tests import factories
from tests.files import samples
from tests.files.helpers import attach

pytestmark = pytest.mark.django_db


def conversation_with(user, attachment, model: str = "m"):
    conversation = conversation_services.conversation_create(
        owner=user, persona=None, model=model, title="T"
    )
    message = factories.message_append(
        conversation=conversation, role="user", content="see", parent=None
    )
    file_services.attachments_link(message=message, attachments=[attachment])
    conversation.refresh_from_db()
    return conversation, message


def test_only_the_senders_files_and_an_edits_own(user, other_user, tmp_path):
    mine = attach(user, "a.txt", b"a", tmp_path)
    theirs = attach(other_user, "b.txt", b"b", tmp_path)
    assert turn_files.files_for(user=user, ids=[str(mine.pk)], edit_id=None) == [mine]
    with pytest.raises(TurnRefused, match="That file does not exist"):
        turn_files.files_for(user=user, ids=[str(theirs.pk)], edit_id=None)
    _, message = conversation_with(user, mine)
    assert turn_files.files_for(user=user, ids=None, edit_id=message.pk) == [mine]
    assert turn_files.files_for(user=user, ids=[], edit_id=message.pk) == []


def test_an_image_needs_a_model_that_takes_images(user, tmp_path):
    image = attach(user, "a.png", samples.image("PNG"), tmp_path)
    conversation, message = conversation_with(user, image, model="vision/model")
    with pytest.raises(TurnRefused, match="does not take images"):
        turn_files.with_files(conversation, [message], availability.policy())
    ModelInfo.objects.create(model_id="vision/model", supports_images=True)
    catalog.forget_rows()  # Staff's change reaches every process once committed.
    turn_files.with_files(conversation, [message], availability.policy())
    assert message.files == [image]
