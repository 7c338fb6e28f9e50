"""Share links over HTTP: making and revoking them (the owner's alone), the shared page's
answers and headers, its files, and continuing it in another account."""

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from conversations.limits import rate_limits
from conversations.models import Conversation
from conversations.review.models import AuditEntry
from conversations.sharing import urls as sharing_urls
from conversations.sharing.models import ShareLink
from tests.sharing.helpers import HOSTILE, shared_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rates():
    rate_limits.reset()
    yield
    rate_limits.reset()


def make(client, conversation, **body):
    body = {"audience": "anyone", "include_instructions": False} | body
    return client.post(
        f"/api/conversations/{conversation.pk}/shares", body, content_type="application/json"
    )


def token_of(response) -> str:
    return response.json()["url"].rsplit("/s/", 1)[1]


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


def test_a_link_has_a_long_random_token_and_only_its_hash_is_stored(owner_client, user):
    conversation = shared_conversation(user)
    first = make(owner_client, conversation)
    second = make(owner_client, conversation)
    assert first.status_code == 201, first.content
    token = token_of(first)
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 256 bits, url-safe.
    assert token != token_of(second)
    link = ShareLink.objects.get(pk=first.json()["id"])
    assert token not in str(ShareLink.objects.filter(pk=link.pk).values().first())
    import hashlib

    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_lookup_compares_the_hash_in_constant_time(owner_client, user, monkeypatch):
    import hmac

    from conversations.sharing import selectors

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(
        selectors.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b)
    )
    token = token_of(make(owner_client, shared_conversation(user)))
    assert selectors.link_by_token(token=token) is not None
    assert calls and calls[0][0] == calls[0][1] == selectors.token_hash(token)


def test_the_shared_page_shows_the_snapshot_with_its_headers(owner_client, user, client):
    conversation = shared_conversation(user)
    token = token_of(make(owner_client, conversation))
    owner_client.logout()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "What is it?" in html and "<strong>42</strong>" in html and "calculator" in html
    assert '<meta name="robots" content="noindex">' in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "no-referrer"
    csp = page["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "<script" not in html
    assert "Be terse." not in html  # Neither the instructions nor a reply's request.
    assert "Continue in my account" not in html  # Signed out.


def test_instructions_are_shared_only_when_ticked(owner_client, user, client):
    conversation = shared_conversation(user)
    without = token_of(make(owner_client, conversation))
    with_them = token_of(make(owner_client, conversation, include_instructions=True))
    assert "Be terse." not in client.get(f"/s/{without}").content.decode()
    assert "Be terse." in client.get(f"/s/{with_them}").content.decode()
    snapshot = ShareLink.objects.get(include_instructions=False).snapshot
    assert "Be terse." not in str(snapshot)


def test_unknown_revoked_and_expired_links_answer_the_same_404(owner_client, user, client):
    conversation = shared_conversation(user)
    revoked = make(owner_client, conversation)
    expired = make(owner_client, conversation, expires_in_days=1)
    signed_in_only = make(owner_client, conversation, audience="signed_in")
    assert (
        owner_client.post(
            f"/api/shares/{revoked.json()['id']}/revoke", HTTP_ACCEPT="application/json"
        ).status_code
        == 200
    )
    ShareLink.objects.filter(pk=expired.json()["id"]).update(expires_at=timezone.now())
    owner_client.logout()
    answers = [
        client.get(f"/s/{token}")
        for token in (
            "x" * 43,
            token_of(revoked),
            token_of(expired),
            token_of(signed_in_only),
            "y" * 500,
        )
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert all(a["Cache-Control"] == "no-store" for a in answers)
    assert ShareLink.objects.get(pk=revoked.json()["id"]).snapshot == {}  # Nothing kept.


def test_a_signed_in_only_link_opens_for_another_signed_in_user(
    owner_client, user, other_user, client
):
    token = token_of(make(owner_client, shared_conversation(user), audience="signed_in"))
    client.force_login(other_user)
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "Continue in my account" in page.content.decode()


def test_the_deployment_can_forbid_links_open_to_anyone(owner_client, user, client, settings):
    conversation = shared_conversation(user)
    before = token_of(make(owner_client, conversation))
    settings.CHAT_SHARE_ANYONE = False
    refused = make(owner_client, conversation)
    assert refused.status_code == 400 and "signed-in users only" in refused.json()["error"]
    assert make(owner_client, conversation, audience="signed_in").status_code == 201
    owner_client.logout()
    assert client.get(f"/s/{before}").status_code == 404  # Signed in only, now.


def test_the_shared_pages_are_limited_per_address(owner_client, user, client, settings):
    settings.CHAT_SHARE_VIEWS_PER_MINUTE = 2
    token = token_of(make(owner_client, shared_conversation(user)))
    owner_client.logout()
    assert client.get(f"/s/{token}").status_code == 200
    assert client.get("/s/" + "z" * 43).status_code == 404  # Wrong guesses count too.
    limited = client.get(f"/s/{token}")
    assert limited.status_code == 429 and limited["Retry-After"]
    other_address = client.get(f"/s/{token}", REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 200


def test_files_are_served_only_through_the_links_own_urls(
    owner_client, user, other_user, client, tmp_path
):
    from conversations.files.models import Attachment

    conversation = shared_conversation(user, tmp_path)
    note = Attachment.objects.get(owner=user)
    (tmp_path / "other").mkdir()
    shared_conversation(other_user, tmp_path / "other")
    stranger = Attachment.objects.get(owner=other_user)
    token = token_of(make(owner_client, conversation))
    owner_client.logout()
    download = client.get(f"/s/{token}/files/{note.pk.hex}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"secret notes\n"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "sandbox"
    assert download["Referrer-Policy"] == "no-referrer"
    # Another file, even one that exists, is not the link's; nor is the owner's own URL open.
    assert client.get(f"/s/{token}/files/{stranger.pk.hex}").status_code == 404
    assert client.get(f"/files/{note.pk}").status_code == 302  # Sign-in first.
    # Not an image: no inline view.
    assert client.get(f"/s/{token}/files/{note.pk.hex}/view").status_code == 404


def test_another_user_can_neither_share_nor_revoke_nor_list_anothers(
    owner_client, user, other_user, client
):
    conversation = shared_conversation(user)
    made = make(owner_client, conversation)
    owner_client.logout()
    client.force_login(other_user)
    assert make(client, conversation).status_code == 404
    missing = make(client, Conversation(pk=999_999))
    assert make(client, conversation).json() == missing.json()
    link_id = made.json()["id"]
    assert (
        client.post(f"/api/shares/{link_id}/revoke", HTTP_ACCEPT="application/json").status_code
        == 404
    )
    assert client.delete(f"/api/shares/{link_id}").status_code == 404
    assert client.post(f"/api/shares/{link_id}/revoke").status_code == 404
    assert ShareLink.objects.get(pk=link_id).revoked_at is None
    settings_page = client.get("/settings/").content.decode()
    assert "Deep thought" not in settings_page


def test_settings_lists_ones_links_and_revokes_them(owner_client, user):
    made = make(owner_client, shared_conversation(user), expires_in_days=7)
    page = owner_client.get("/settings/").content.decode()
    assert 'id="share-links"' in page and "Deep thought" in page and "Anyone with the link" in page
    answer = owner_client.post(f"/api/shares/{made.json()['id']}/revoke")
    assert answer.status_code == 302 and answer["Location"].endswith("#share-links")
    assert owner_client.get(token_url := f"/s/{token_of(made)}").status_code == 404
    assert "Revoked" in owner_client.get("/settings/").content.decode()
    assert token_url


def test_making_and_revoking_are_audited(owner_client, user):
    conversation = shared_conversation(user)
    made = make(owner_client, conversation, audience="signed_in")
    owner_client.delete(f"/api/shares/{made.json()['id']}")
    owner_client.delete(f"/api/shares/{made.json()['id']}")  # Twice: recorded once.
    entries = list(AuditEntry.objects.order_by("id"))
    assert [e.action for e in entries] == ["share_create", "share_revoke"]
    assert all(e.conversation_id == conversation.pk and e.actor_id == user.pk for e in entries)
    assert entries[0].detail["audience"] == "signed_in"
    token = token_of(made)
    assert all(token not in str(e.detail) for e in entries)


def test_links_per_user_are_bounded(owner_client, user, settings):
    settings.CHAT_SHARE_MAX_LINKS = 2
    conversation = shared_conversation(user)
    first = make(owner_client, conversation)
    make(owner_client, conversation)
    refused = make(owner_client, conversation)
    assert refused.status_code == 409
    owner_client.delete(f"/api/shares/{first.json()['id']}")
    assert make(owner_client, conversation).status_code == 201  # The revoked one made room.
    assert ShareLink.objects.filter(owner=user).count() == 2


def test_a_snapshot_is_bounded(owner_client, user, settings):
    settings.CHAT_SHARE_MAX_BYTES = 200
    refused = make(owner_client, shared_conversation(user, reply="long " * 100))
    assert refused.status_code == 413 and not ShareLink.objects.exists()


def test_continue_copies_the_snapshot_into_the_viewers_account(
    owner_client, user, other_user, client, tmp_path
):
    conversation = shared_conversation(user, tmp_path)
    token = token_of(make(owner_client, conversation))
    owner_client.logout()
    assert client.post(f"/s/{token}/continue").status_code == 404  # Signed out.
    assert client.get(f"/s/{token}/continue").status_code == 404
    client.force_login(other_user)
    asked = client.get(f"/s/{token}/continue")
    assert asked.status_code == 200 and asked["Referrer-Policy"] == "same-origin"
    assert asked["Cache-Control"] == "no-store" and "4 of them" in asked.content.decode()
    answer = client.post(f"/s/{token}/continue")
    assert answer.status_code == 302
    copy = Conversation.objects.get(owner=other_user)
    assert answer["Location"] == f"/conversations/{copy.pk}/"
    roles = [m.role for m in copy.messages.order_by("id")]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert copy.current_leaf.content == "The answer is **42**."
    from conversations.files.models import Attachment

    copied = Attachment.objects.get(owner=other_user)
    assert copied.name == "notes.txt" and copied.messages.get().conversation == copy


def test_continue_respects_the_viewers_limits(
    owner_client, user, other_user, client, tmp_path, settings
):
    token = token_of(make(owner_client, shared_conversation(user, tmp_path)))
    owner_client.logout()
    client.force_login(other_user)
    settings.CHAT_MAX_FILE_BYTES_PER_USER = 5  # Less than the shared file.
    answer = client.post(f"/s/{token}/continue", follow=True)
    assert not Conversation.objects.filter(owner=other_user).exists()
    assert "each person may keep" in answer.content.decode()
    settings.CHAT_MAX_FILE_BYTES_PER_USER = 10_000_000
    settings.CHAT_BULK_PER_HOUR = 1
    rate_limits.reset()
    assert client.post(f"/s/{token}/continue").status_code == 302
    assert client.post(f"/s/{token}/continue").status_code == 429


class Elements(HTMLParser):
    """Every element of a page with its attributes, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    elements = Elements(html).found
    assert not [tag for tag, _ in elements if tag in {"script", "iframe", "object", "embed"}]
    assert not [a for _, attrs in elements for a in attrs if a.startswith("on")]
    links = [attrs.get("href") or "" for tag, attrs in elements if tag == "a"]
    assert not [h for h in links if h.lower().startswith(("javascript:", "data:"))]
    sources = [attrs.get("src") or "" for tag, attrs in elements if tag == "img"]
    assert all(src.startswith("/") and not src.startswith("//") for src in sources)


def test_hostile_output_is_inert_on_the_shared_page(owner_client, user, client):
    token = token_of(make(owner_client, shared_conversation(user, reply=HOSTILE)))
    html = client.get(f"/s/{token}").content.decode()
    assert "&lt;script&gt;window.__pwned=2" in html  # Shown as text.
    assert_inert(html)


def test_a_stored_snapshot_is_sanitised_again_when_shown(owner_client, user, client):
    token = token_of(make(owner_client, shared_conversation(user)))
    link = ShareLink.objects.get()
    link.snapshot["messages"][-1]["html"] = (
        "<p>x</p><script>alert(1)</script><img src=x onerror=alert(1)>"
    )
    link.save()
    html = client.get(f"/s/{token}").content.decode()
    assert_inert(html)


def test_deleting_the_conversation_or_the_account_removes_its_links(owner_client, user, client):
    from conversations.deletion import services as deletion

    conversation = shared_conversation(user)
    token = token_of(make(owner_client, conversation))
    deletion.conversation_delete(conversation=conversation)
    assert not ShareLink.objects.exists()
    assert client.get(f"/s/{token}").status_code == 404
    second = token_of(make(owner_client, shared_conversation(user)))
    deletion.account_delete(user=user)
    assert not ShareLink.objects.exists()
    assert client.get(f"/s/{second}").status_code == 404


def test_every_shared_page_lives_under_s_and_the_owners_under_api():
    routes = {str(p.pattern): p.name for p in sharing_urls.urlpatterns}
    assert all(r.startswith(("s/<str:token>", "api/")) for r in routes)
    assert {"shared-page", "shared-file", "shared-continue", "share-create"} <= set(routes.values())


def test_the_owners_endpoints_need_the_sites_csrf_token(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    conversation = shared_conversation(user)
    assert make(strict, conversation).status_code == 403
    assert not ShareLink.objects.exists()


def test_an_image_of_the_snapshot_shows_inline_and_the_page_points_to_it(
    owner_client, user, client, tmp_path
):
    from conversations.files import services as file_services
    from tests.files import samples
    from tests.files.helpers import attach

    conversation = shared_conversation(user)
    photo = attach(user, "photo.jpg", samples.jpeg_with_exif(), tmp_path)
    first = conversation.messages.order_by("id").first()
    file_services.attachments_link(message=first, attachments=[photo])
    token = token_of(make(owner_client, conversation))
    owner_client.logout()
    page = client.get(f"/s/{token}").content.decode()
    assert f'src="/s/{token}/files/{photo.pk.hex}/view"' in page
    shown = client.get(f"/s/{token}/files/{photo.pk.hex}/view")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown["Content-Disposition"].startswith("inline")
