"""The reviewer's work: the transcript, scores, notes, corrections, the queue, the audit
trail and what deleting a conversation leaves of it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.deletion import services as deletion
from conversations.models import Conversation, Message
from conversations.review.models import (
    AuditEntry,
    Correction,
    Feedback,
    QueueItem,
    ReviewNote,
    Score,
    ScoreConfig,
)
from tests import factories
from tests.review.builders import chat, rate, reply

pytestmark = pytest.mark.django_db

URL = "/admin/review/transcript/{}/"


def rich_conversation(owner) -> Conversation:
    """A conversation with Markdown and code, reasoning, a tool step, a failed tool and two
    versions of the last reply."""
    conversation = chat(owner, turns=1)
    first = conversation.current_leaf
    asked = factories.message_append(
        conversation=conversation, role="user", content="Compute   6*7\n  indented", parent=first
    )
    calling = reply(conversation, asked, "", sent=[asked.pk])
    Message.objects.filter(pk=calling.pk).update(
        tool_calls=[{"id": "call_1", "name": "calculator", "arguments": '{"expression":"6*7"}'}],
        reasoning="I should use the calculator.",
    )
    result = factories.message_append(
        conversation=conversation,
        role="tool",
        content="Error: ZeroDivisionError",
        parent=calling,
        tool_call_id="call_1",
        tool_name="calculator",
    )
    old = reply(
        conversation,
        result,
        "It is **42**.\n\n```python\ndef answer():\n    return 42\n```",
        sent=[asked.pk, calling.pk, result.pk],
        model="big-model",
    )
    new = reply(conversation, result, "Forty-two.", sent=[asked.pk, calling.pk, result.pk])
    conversation.refresh_from_db()
    assert conversation.current_leaf_id == new.pk
    conversation.old, conversation.new = old, new
    return conversation


def test_transcript_shows_the_conversation_as_the_user_saw_it(client, reviewer, user):
    conversation = rich_conversation(user)
    rate(conversation.new, "down", categories=["wrong"], comment="Too short an answer")
    client.force_login(reviewer)
    page = client.get(URL.format(conversation.pk)).content.decode()
    assert "Forty-two." in page and "It is" not in page  # The active version.
    assert "version 2/2" in page
    assert f'href="?leaf={conversation.old.pk}"' in page  # The switcher's previous version.
    assert "Compute   6*7\n  indented" in page  # User text kept as written (pre-wrap).
    assert "<summary>Reasoning</summary><pre>I should use the calculator.</pre>" in page
    assert "Called calculator" in page and "&quot;expression&quot;: &quot;6*7&quot;" in page
    assert "rv-tool-failed" in page  # The failed tool step, collapsed.
    assert "<summary>What was sent</summary>" in page and "Be brief." in page
    assert "120 ms" in page and "10 in / 5 out tokens" in page
    assert "Thumbs down" in page and "Too short an answer" in page
    assert 'href="/highlight.css"' in page
    old = client.get(URL.format(conversation.pk), {"leaf": conversation.old.pk}).content.decode()
    assert "It is <strong>42</strong>." in old
    assert '<span class="k">def</span>' in old and "    <span" in old  # Indentation kept.
    assert "version 1/2" in old and "not the version the user has on screen now" in old
    other = chat(user)
    assert (
        client.get(URL.format(conversation.pk), {"leaf": other.current_leaf_id}).status_code == 404
    )


def test_transcript_takes_the_same_queries_whatever_the_length(client, reviewer, user):
    counts = []
    for turns in (2, 30):
        conversation = chat(user, turns=turns)
        rate(conversation.current_leaf, "down")
        client.force_login(reviewer)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL.format(conversation.pk)).status_code == 200
        counts.append(len(ctx.captured_queries))
    # Two of them: how the conversation was shared; three: the session noting the opening.
    assert counts[0] == counts[1] <= 24


def test_model_output_in_the_transcript_is_inert(client, reviewer, user):
    conversation = chat(user)
    Message.objects.filter(pk=conversation.current_leaf_id).update(
        content='<script>alert(1)</script><img src=x onerror="alert(2)">'
    )
    rate(conversation.current_leaf, "down", comment="<b>bold</b>")
    client.force_login(reviewer)
    page = client.get(URL.format(conversation.pk)).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_score_note_and_correct_a_reply_all_audited(client, reviewer, user):
    conversation = chat(user)
    answer = conversation.current_leaf
    rate(answer, "down")
    helpfulness = ScoreConfig.objects.get(name="helpfulness")
    hallucination = ScoreConfig.objects.get(name="hallucination")
    tone = ScoreConfig.objects.create(name="tone", kind="categorical", categories=["curt", "kind"])
    client.force_login(reviewer)
    base = URL.format(conversation.pk)
    post = {"message": answer.pk}
    assert (
        client.post(base + "score", {**post, "config": helpfulness.pk, "value": "2"}).status_code
        == 302
    )
    client.post(base + "score", {**post, "config": hallucination.pk, "value": "yes"})
    client.post(base + "score", {**post, "config": tone.pk, "value": "curt"})
    client.post(base + "score", {**post, "config": helpfulness.pk, "value": "9"})  # Out of range.
    client.post(base + "score", {**post, "config": tone.pk, "value": "rude"})  # Not a category.
    scores = {s.config.name: s.display for s in Score.objects.select_related("config")}
    assert scores == {"helpfulness": "2", "hallucination": "yes", "tone": "curt"}
    client.post(base + "score", {**post, "config": helpfulness.pk, "value": "4"})  # Rescoring.
    assert Score.objects.get(config=helpfulness).value == 4
    client.post(base + "score", {**post, "config": tone.pk, "clear": "1"})
    assert not Score.objects.filter(config=tone).exists()

    client.post(base + "note", {**post, "text": "Answer invented a date."})
    client.post(base + "note", {"text": "Whole chat looks fine otherwise."})
    client.post(base + "correction", {**post, "content": "The answer is 42."})
    client.post(base + "correction", {**post, "content": "The answer is 42, exactly."})
    assert ReviewNote.objects.filter(message=answer).get().author == reviewer
    assert ReviewNote.objects.filter(message=None).exists()
    assert Correction.objects.count() == 2  # Kept, never overwritten.
    answer.refresh_from_db()
    assert answer.content == "answer 0"  # The reply itself is untouched.
    page = client.get(base).content.decode()
    assert "The answer is 42, exactly." in page and "newest of 2" in page
    assert "Answer invented a date." in page and "rita" in page

    actions = list(
        AuditEntry.objects.exclude(action="view_transcript")
        .order_by("id")
        .values_list("action", "message_id")
    )
    assert actions == [
        ("score", answer.pk),
        ("score", answer.pk),
        ("score", answer.pk),
        ("score", answer.pk),
        ("score_clear", answer.pk),
        ("note", answer.pk),
        ("note", None),
        ("correction", answer.pk),
        ("correction", answer.pk),
    ]
    for entry in AuditEntry.objects.all():
        text = str(entry.detail)
        # Never any text in the log (the note's and the corrections' words, not "42": ids
        # such as 2427 hold that too).
        assert "invented" not in text and "answer is 42" not in text
        assert entry.owner_id == user.pk and entry.conversation_id == conversation.pk


def test_users_never_see_reviewers_work(client, reviewer, user):
    conversation = chat(user)
    rate(conversation.current_leaf, "down")
    client.force_login(reviewer)
    client.post(
        URL.format(conversation.pk) + "note",
        {"message": conversation.current_leaf_id, "text": "secret-note-7"},
    )
    client.force_login(user)
    for url in (
        f"/conversations/{conversation.pk}/",
        f"/conversations/{conversation.pk}/export.json",
        f"/messages/{conversation.current_leaf_id}/feedback",
    ):
        assert "secret-note-7" not in client.get(url).content.decode()
    assert client.get(URL.format(conversation.pk)).status_code == 302  # Not staff: sign in.


def test_queue_workflow_from_the_list_and_the_transcript(client, reviewer, boss, user):
    first, second = chat(user, title="First"), chat(user, title="Second")
    rate(first.current_leaf, "down")
    failed = factories.message_finish(
        message_id=reply(second, second.current_leaf, "x", sent=[]).pk,
        status="error",
        content="",
        error="The provider failed.",
    )
    items = {i.reason: i for i in QueueItem.objects.all()}
    assert set(items) == {"thumbs_down", "error"} and items["error"].message == failed

    client.force_login(reviewer)
    index = client.get("/admin/").content.decode()
    assert 'id="review-open-count">2<' in index
    listing = client.get("/admin/review/queueitem/", {"reason__exact": "error"}).content.decode()
    assert "Second" in listing and "First" not in listing
    client.post(
        "/admin/review/queueitem/",
        {
            "action": "assign_to_chosen",
            "assignee": boss.pk,
            "_selected_action": [items["error"].pk],
        },
    )
    items["error"].refresh_from_db()
    assert items["error"].assignee == boss and items["error"].status == "in_review"
    client.post(
        "/admin/review/queueitem/",
        {
            "action": "resolve",
            "note": "Provider outage",
            "_selected_action": [i.pk for i in items.values()],
        },
    )
    for item in items.values():
        item.refresh_from_db()
        assert (item.status, item.resolution_note, item.resolved_by) == (
            "resolved",
            "Provider outage",
            reviewer,
        )
    assert 'id="review-open-count">0<' in client.get("/admin/").content.decode()
    # Resolved items may only be reopened.
    client.post(
        "/admin/review/queueitem/",
        {"action": "dismiss", "_selected_action": [items["error"].pk]},
    )
    items["error"].refresh_from_db()
    assert items["error"].status == "resolved"

    # From the transcript: add a reply by hand, take it, dismiss it.
    base = URL.format(first.pk)
    client.post(base + "queue", {"message": first.current_leaf_id})
    manual = QueueItem.objects.get(reason="manual")
    assert manual.created_by == reviewer and manual.message_id == first.current_leaf_id
    client.post(base + f"queue/{manual.pk}", {"assign": "me"})
    client.post(base + f"queue/{manual.pk}", {"status": "dismissed", "note": "Duplicate"})
    manual.refresh_from_db()
    assert (manual.assignee, manual.status, manual.resolution_note) == (
        reviewer,
        "dismissed",
        "Duplicate",
    )
    assert (
        client.post(URL.format(second.pk) + f"queue/{manual.pk}", {"assign": "me"}).status_code
        == 404
    )
    assert list(
        AuditEntry.objects.filter(queue_item_id=manual.pk)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["queue_add", "queue_assign", "queue_status"]


def test_deleting_a_conversation_leaves_only_content_free_tombstones(client, reviewer, boss, user):
    conversation = chat(user, title="Secret plans")
    answer = conversation.current_leaf
    rate(answer, "down", comment="secret comment")
    client.force_login(reviewer)
    base = URL.format(conversation.pk)
    client.get(base)
    client.post(
        base + "score",
        {"message": answer.pk, "config": ScoreConfig.objects.first().pk, "value": "yes"},
    )
    client.post(base + "note", {"message": answer.pk, "text": "secret note"})
    client.post(base + "correction", {"message": answer.pk, "content": "secret correction"})
    before, conversation_id = AuditEntry.objects.count(), conversation.pk

    deletion.conversation_delete(conversation=conversation)  # The user deletes it.
    for model in (Feedback, QueueItem, Score, ReviewNote, Correction, Message):
        assert not model.objects.exists(), model
    assert AuditEntry.objects.count() == before
    for entry in AuditEntry.objects.values():
        assert entry["conversation_id"] == conversation_id and entry["owner_id"] == user.pk
        assert "secret" not in str(entry) and "Secret" not in str(entry)
    client.force_login(boss)
    log = client.get("/admin/review/auditentry/").content.decode()
    assert f"#{conversation_id} (deleted)" in log and "Secret" not in log


def test_superuser_delete_from_the_admin_is_audited_and_leaves_no_title(client, boss, user):
    conversation = chat(user, title="Secret plans")
    conversation_id = conversation.pk
    client.force_login(boss)
    confirm = client.get(f"/admin/conversations/conversation/{conversation.pk}/delete/")
    assert confirm.status_code == 200 and "answer 0" not in confirm.content.decode()
    client.post(f"/admin/conversations/conversation/{conversation.pk}/delete/", {"post": "yes"})
    assert not Conversation.objects.exists()
    assert AuditEntry.objects.get(action="delete").conversation_id == conversation_id
    assert "Secret plans" not in client.get("/admin/").content.decode()  # Recent actions.
