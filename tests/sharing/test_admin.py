"""Staff see that a conversation was shared: its links in the admin (never their snapshots
or tokens' hashes), and a line on its review transcript."""

import pytest

from conversations.sharing import admin as sharing_admin
from conversations.sharing import services
from conversations.sharing.models import ShareLink
from tests.sharing.helpers import shared_conversation

pytestmark = pytest.mark.django_db


def test_the_admin_lists_links_without_what_they_show(client, boss, user):
    conversation = shared_conversation(user)
    services.link_create(
        owner=user,
        conversation=conversation,
        audience="anyone",
        include_instructions=False,
        expires_in_days=None,
    )
    client.force_login(boss)
    listing = client.get("/admin/conversations/sharelink/")
    assert listing.status_code == 200 and "Deep thought" in listing.content.decode()
    link = ShareLink.objects.get()
    page = client.get(f"/admin/conversations/sharelink/{link.pk}/change/").content.decode()
    assert "The answer is" not in page and link.token_hash not in page
    assert not sharing_admin.ShareLinkAdmin(ShareLink, None).has_add_permission(None)


def test_the_transcript_says_how_the_conversation_was_shared(client, boss, user):
    conversation = shared_conversation(user)
    client.force_login(boss)
    url = f"/admin/review/transcript/{conversation.pk}/"
    assert '<dd id="rv-shared">Never</dd>' in client.get(url).content.decode()
    for audience in ("anyone", "signed_in"):
        made = services.link_create(
            owner=user,
            conversation=conversation,
            audience=audience,
            include_instructions=False,
            expires_in_days=7,
        )
    services.link_revoke(owner=user, link_id=made.link.pk)
    page = client.get(url).content.decode()
    assert "2 links, 1 active (1 open to anyone with the link)" in page
