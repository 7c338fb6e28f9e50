"""Review's side of the core's hooks: connected once, whatever asks again; a reply that
failed is queued; a page's replies carry their owner's rating; staff who wrote review
work are kept from deletion."""

import pytest
from django.db.models import ProtectedError

from conversations import hooks
from conversations.review import receivers
from conversations.review.models import QueueItem, ReviewNote
from tests import factories
from tests.review.builders import chat, rate, reply

pytestmark = pytest.mark.django_db


def test_connecting_again_adds_no_second_receiver():
    counts = [len(signal.receivers) for signal in (hooks.reply_finished, hooks.page_extras)]
    receivers.connect()
    receivers.connect()
    assert [len(s.receivers) for s in (hooks.reply_finished, hooks.page_extras)] == counts


def test_a_failed_reply_is_queued_when_the_core_says_it_ended(user):
    conversation = chat(user)
    failed = factories.message_finish(
        message_id=reply(conversation, conversation.current_leaf, "", sent=[]).pk,
        status="error",
        content="",
        error="The provider failed.",
    )
    assert QueueItem.objects.filter(message=failed, reason="error").exists()


def test_a_page_shows_its_owner_their_own_ratings(user, other_user):
    answer = chat(user).current_leaf
    rate(answer, "up")
    mine = hooks.extras_for_page(user_id=user.pk, message_ids=[answer.pk])["feedback"]
    assert mine[answer.pk]["rating"] == "up"
    others = hooks.extras_for_page(user_id=other_user.pk, message_ids=[answer.pk])
    assert others["feedback"].get(answer.pk) is None


def test_an_account_that_wrote_review_work_is_kept(user, reviewer):
    receivers.on_account_deleting(user=reviewer)  # Nothing written yet: it may go.
    ReviewNote.objects.create(conversation=chat(user), author=reviewer, text="Check this.")
    with pytest.raises(ProtectedError):
        hooks.account_deleting.send(sender=None, user=reviewer)
