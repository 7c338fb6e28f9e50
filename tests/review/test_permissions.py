"""Each permission boundary of review, checked through the real admin."""

import importlib
import io
import logging

import pytest
from django.contrib.auth.models import Group

from conversations.review.models import AuditEntry, QueueItem
from tests.review.builders import chat, grant, rate

pytestmark = pytest.mark.django_db


def transcript(conversation) -> str:
    return f"/admin/review/transcript/{conversation.pk}/"


def test_reviewers_group_has_exactly_what_review_needs():
    group = Group.objects.get(name="Reviewers")
    granted = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    migration = importlib.import_module("conversations.review.migrations.0002_reviewers_group")
    assert granted == {f"{app}.{codename}" for app, codename in migration.REVIEWER_PERMISSIONS}
    assert len(granted) == 14
    for forbidden in (
        "review.open_any_conversation",
        "review.export_datasets",
        "review.add_scoreconfig",
        "review.view_auditentry",
        "conversations.change_persona",
        "conversations.change_modelinfo",
        "conversations.delete_conversation",
        "conversations.view_message",
        "auth.change_user",
        "auth.view_user",
    ):
        assert forbidden not in granted


def test_staff_without_the_reviewers_group_cannot_open_transcripts(client, staff, user):
    conversation = chat(user)
    rate(conversation.current_leaf, "down")
    client.force_login(staff)
    assert client.get(transcript(conversation)).status_code == 403
    for url in (
        "/admin/review/dashboard/",
        "/admin/review/datasets/",
        "/admin/review/queueitem/",
        "/admin/conversations/conversation/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/admin/conversations/persona/").status_code == 200  # Their own job.
    assert not AuditEntry.objects.exists()


def test_a_reviewer_opens_queued_conversations_only(client, reviewer, user):
    queued, rated, private = (
        chat(user, title="Queued"),
        chat(user, title="Rated"),
        chat(user, title="Private"),
    )
    QueueItem.objects.create(conversation=queued, reason="error")
    rate(rated.current_leaf, "up")
    client.force_login(reviewer)
    for conversation in (queued, rated):
        response = client.get(transcript(conversation))
        assert response.status_code == 200
        assert "answer 0" in response.content.decode()
    missing = client.get("/admin/review/transcript/999999/")
    hidden = client.get(transcript(private))
    assert hidden.status_code == missing.status_code == 404
    assert "answer 0" not in hidden.content.decode()
    listing = client.get("/admin/conversations/conversation/").content.decode()
    assert "Queued" in listing and "Rated" in listing and "Private" not in listing
    # Searching message text finds nothing outside the queue either.
    search = client.get("/admin/conversations/conversation/", {"q": "answer"}).content.decode()
    assert "Private" not in search and "Queued" in search
    entries = AuditEntry.objects.filter(actor_id=reviewer.pk)
    assert sorted(entries.values_list("action", "conversation_id")) == sorted(
        [("view_transcript", queued.pk), ("view_transcript", rated.pk), ("search", None)]
    )


def test_opening_any_conversation_needs_its_own_permission_and_is_audited(client, reviewer, user):
    private = chat(user)
    grant(reviewer, "open_any_conversation")
    client.force_login(reviewer)
    assert client.get(transcript(private)).status_code == 200
    entry = AuditEntry.objects.get(action="view_transcript")
    assert (entry.conversation_id, entry.owner_id, entry.actor_id) == (
        private.pk,
        user.pk,
        reviewer.pk,
    )
    assert entry.detail["queued"] is False
    assert "Private" not in str(entry.detail) and "answer" not in str(entry.detail)


def test_reviewers_cannot_change_personas_models_users_or_read_the_audit_log(
    client, reviewer, user, boss
):
    conversation = chat(user)
    rate(conversation.current_leaf, "down")
    client.force_login(reviewer)
    for url in (
        "/admin/conversations/persona/",
        "/admin/conversations/persona/add/",
        "/admin/conversations/persona/1/change/",
        "/admin/conversations/modelinfo/",
        "/admin/auth/user/",
        f"/admin/auth/user/{user.pk}/change/",
        "/admin/auth/group/",
        "/admin/review/auditentry/",
        "/admin/conversations/message/",
        f"/admin/conversations/message/{conversation.current_leaf_id}/change/",
        f"/admin/conversations/conversation/{conversation.pk}/delete/",
        "/admin/review/scoreconfig/add/",
        "/admin/review/datasets/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/auth/user/{user.pk}/change/", {"is_staff": "on"}).status_code == 403
    # The list offers no bulk delete and no export to a reviewer.
    page = client.get("/admin/conversations/conversation/").content.decode()
    assert "delete_selected" not in page and "export_finetune" not in page
    assert "add_to_queue" in page
    response = client.post(
        "/admin/conversations/conversation/",
        {"action": "delete_selected", "_selected_action": [conversation.pk]},
    )
    assert conversation.__class__.objects.filter(pk=conversation.pk).exists()
    assert response.status_code in (200, 302)


def test_the_review_pages_are_read_only(client, reviewer, boss, user):
    conversation = chat(user)
    rate(conversation.current_leaf, "down")
    for who in (reviewer, boss):
        client.force_login(who)
        # The old change page leads to the transcript; nothing there edits content or owner.
        change = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
        assert change.status_code == 302 and change["Location"] == transcript(conversation)
        client.post(
            f"/admin/conversations/conversation/{conversation.pk}/change/",
            {"title": "Renamed", "owner": who.pk, "pinned": "on"},
        )
        page = client.get(transcript(conversation)).content.decode()
        assert 'name="title"' not in page and 'name="owner"' not in page
        assert 'name="content"' in page  # Only the correction form writes text, beside the reply.
    conversation.refresh_from_db()
    assert conversation.title == "T" and conversation.owner == user and not conversation.pinned


def test_superusers_read_the_audit_log_but_nobody_edits_or_deletes_it(client, boss, user):
    conversation = chat(user)
    client.force_login(boss)
    client.get(transcript(conversation))
    entry = AuditEntry.objects.get()
    assert client.get("/admin/review/auditentry/").status_code == 200
    view = client.get(f"/admin/review/auditentry/{entry.pk}/change/")
    assert view.status_code == 200 and 'name="action"' not in view.content.decode()
    client.post(f"/admin/review/auditentry/{entry.pk}/change/", {"action": "export"})
    assert client.get(f"/admin/review/auditentry/{entry.pk}/delete/").status_code == 403
    client.post(f"/admin/review/auditentry/{entry.pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/review/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk]},
    )
    assert client.get("/admin/review/auditentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.action == "view_transcript"
    assert AuditEntry.objects.filter(action="view_transcript").count() == 1


def test_the_raw_message_admin_is_for_superusers_and_audited(client, boss, reviewer, user):
    conversation = chat(user)
    reply = conversation.current_leaf
    client.force_login(boss)
    assert client.get(f"/admin/conversations/message/{reply.pk}/change/").status_code == 200
    client.get("/admin/conversations/message/", {"q": "answer"})
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "message_id"))
    assert actions == [("view_message", reply.pk), ("search", None)]
    assert AuditEntry.objects.get(action="search").detail["shown"] == [conversation.pk]
    client.force_login(reviewer)
    assert client.get("/admin/conversations/message/").status_code == 403


def test_a_forbidden_admin_page_is_one_warning_line_without_a_traceback(client, reviewer):
    """What the server's console shows (its handler, formatter and filters as configured)."""
    console = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    written = io.StringIO()
    before = console.setStream(written)
    try:
        client.force_login(reviewer)
        assert client.get("/admin/auth/user/").status_code == 403
    finally:
        console.setStream(before)
    lines = [line for line in written.getvalue().splitlines() if line.strip()]
    assert lines == ["Forbidden (Permission denied): /admin/auth/user/"]
