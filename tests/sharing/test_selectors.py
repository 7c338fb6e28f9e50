"""Reading links: by token whatever their state, visible only while live and open to the
viewer, a user's own only, and a summary for reviewers."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from conversations.sharing import selectors, services
from conversations.sharing.models import ShareLink
from tests.sharing.helpers import shared_conversation

pytestmark = pytest.mark.django_db


def make(user, conversation, audience="anyone", days=None):
    return services.link_create(
        owner=user,
        conversation=conversation,
        audience=audience,
        include_instructions=False,
        expires_in_days=days,
    )


def test_visible_while_live_and_open_to_the_viewer(user, settings):
    conversation = shared_conversation(user)
    anyone, signed_in = make(user, conversation), make(user, conversation, "signed_in")
    nobody = AnonymousUser()
    assert selectors.link_visible(token=anyone.token, user=nobody) == anyone.link
    assert selectors.link_visible(token=signed_in.token, user=nobody) is None
    assert selectors.link_visible(token=signed_in.token, user=user) == signed_in.link
    settings.CHAT_SHARE_ANYONE = False
    assert selectors.link_visible(token=anyone.token, user=nobody) is None
    assert selectors.link_visible(token=anyone.token, user=user) == anyone.link
    ShareLink.objects.filter(pk=anyone.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert selectors.link_visible(token=anyone.token, user=user) is None
    assert selectors.link_by_token(token=anyone.token) == anyone.link  # Whatever its state.
    assert selectors.link_by_token(token="") is None
    assert selectors.link_by_token(token="a" * 101) is None


def test_ones_own_links_only(user, other_user):
    made = make(user, shared_conversation(user))
    assert selectors.link_own(user=user, link_id=made.link.pk) == made.link
    assert selectors.link_own(user=other_user, link_id=made.link.pk) is None
    assert list(selectors.links_own(user=other_user)) == []
    assert selectors.share_rows(user=other_user) == []
    rows = selectors.share_rows(user=user)
    assert [(r.title, r.status, r.audience) for r in rows] == [
        ("Deep thought", "active", "Anyone with the link")
    ]


def test_the_summary_counts_links_active_and_open_to_anyone(user):
    conversation = shared_conversation(user)
    assert selectors.summary(conversation_id=conversation.pk).count == 0
    make(user, conversation)
    revoked = make(user, conversation, "signed_in")
    services.link_revoke(owner=user, link_id=revoked.link.pk)
    found = selectors.summary(conversation_id=conversation.pk)
    assert (found.count, found.active, found.anyone) == (2, 1, 1)
    assert found.newest == revoked.link.created_at
