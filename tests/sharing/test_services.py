"""Making, revoking and continuing links, below the HTTP layer."""

import pytest

from conversations.models import Message
from conversations.sharing import services
from conversations.sharing.models import ShareLink
from tests.sharing.helpers import shared_conversation

pytestmark = pytest.mark.django_db


def make(user, conversation, **options):
    options = {
        "audience": "anyone",
        "include_instructions": False,
        "expires_in_days": None,
    } | options
    return services.link_create(owner=user, conversation=conversation, **options)


def test_refusals_say_why(user):
    conversation = shared_conversation(user)
    for options, words in (
        ({"audience": "everyone"}, "Choose who"),
        ({"expires_in_days": 3}, "Choose when"),
    ):
        with pytest.raises(services.ShareRefused, match=words):
            make(user, conversation, **options)
    assert not ShareLink.objects.exists()


def test_revoking_empties_the_snapshot_at_once(user, other_user):
    made = make(user, shared_conversation(user))
    assert services.link_revoke(owner=other_user, link_id=made.link.pk) is None
    revoked = services.link_revoke(owner=user, link_id=made.link.pk)
    assert revoked.revoked_at is not None
    assert ShareLink.objects.get().snapshot == {}


def test_a_reply_cut_off_while_streaming_is_copied_as_interrupted(user, other_user):
    conversation = shared_conversation(user)
    Message.objects.filter(pk=conversation.current_leaf_id).update(status=Message.Status.STREAMING)
    made = make(user, conversation)
    copy = services.continue_copy(link=made.link, viewer=other_user)
    assert copy.owner == other_user and copy.current_leaf.status == Message.Status.INTERRUPTED
    assert copy.current_leaf.request is None  # What the owner's model was sent stays theirs.
