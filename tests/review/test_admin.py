"""The review queue and the audit log in the admin: actions that need a choice say so, an
item opens on its own page, and the log is found by a conversation's number."""

import pytest

from conversations.review import services as review
from conversations.review.models import AuditEntry, QueueItem
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db
QUEUE = "/admin/review/queueitem/"


@pytest.fixture
def item(user):
    rate(chat(user, title="Rated").current_leaf, "down")
    return QueueItem.objects.get()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_assigning_to_nobody_changes_nothing_and_says_so(client, reviewer, item):
    client.force_login(reviewer)
    response = client.post(
        QUEUE, {"action": "assign_to_chosen", "_selected_action": [item.pk]}, follow=True
    )
    assert "Choose a reviewer to assign to." in messages_of(response)
    item.refresh_from_db()
    assert item.assignee is None and item.status == "open"


def test_a_resolved_item_is_reopened_and_a_wrong_move_is_refused(client, reviewer, item):
    client.force_login(reviewer)
    resolve = {"action": "resolve", "note": "Fine.", "_selected_action": [item.pk]}
    client.post(QUEUE, resolve)
    response = client.post(
        QUEUE, {"action": "start_review", "_selected_action": [item.pk]}, follow=True
    )
    assert any(m.startswith("Nothing changed: ") for m in messages_of(response))
    response = client.post(QUEUE, {"action": "reopen", "_selected_action": [item.pk]}, follow=True)
    assert "1 item(s) now open." in messages_of(response)
    item.refresh_from_db()
    assert item.status == "open"


def test_an_item_opens_on_its_page_keeping_the_list_filters(client, reviewer, item):
    client.force_login(reviewer)
    response = client.get(f"{QUEUE}{item.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/review/queue/{item.pk}/"
    kept = client.get(f"{QUEUE}{item.pk}/change/?_changelist_filters=status__exact%3Dopen")
    assert kept["Location"] == (
        f"/admin/review/queue/{item.pk}/?_changelist_filters=status__exact%3Dopen"
    )
    assert client.get(QUEUE).context["title"] == "Review queue"


def test_the_audit_log_links_live_conversations_and_finds_them_by_number(client, boss, user):
    kept, gone = chat(user, title="Kept"), chat(user, title="Gone")
    for conversation in (kept, gone):
        review.queue_add(actor=boss, conversation=conversation, message=None)
    gone_id = gone.pk
    review.conversation_delete_by_staff(actor=boss, conversation=gone, request=None)
    client.force_login(boss)
    page = client.get("/admin/review/auditentry/").content.decode()
    assert f"#{gone_id} (deleted)" in page
    assert f'<a href="/admin/review/transcript/{kept.pk}/">#{kept.pk}</a>' in page
    found = client.get("/admin/review/auditentry/", {"q": str(kept.pk)}).context["cl"]
    assert found.result_list  # A conversation's number, or its owner's.
    assert all(kept.pk in (e.conversation_id, e.owner_id) for e in found.result_list)
    assert AuditEntry.objects.filter(conversation_id=gone_id).count() >= 2


def test_queue_rows_show_the_reply_the_users_words_and_the_holder_in_fixed_queries(
    client, reviewer, boss, user, django_assert_max_num_queries
):
    from conversations.models import Message
    from conversations.review.models import Report

    def add(n: int) -> None:
        for i in range(n):
            conversation = chat(user, title=f"Row {i}")
            Message.objects.filter(pk=conversation.current_leaf_id).update(
                content="<b>Bold</b> start of the answer\n\nand " + "more words " * 100
            )
            rate(conversation.current_leaf, "down", categories=["wrong"], comment=f"<i>no</i> {i}")

    add(2)
    client.force_login(reviewer)
    client.get(QUEUE)  # The session's and the admin's first reads.
    with django_assert_max_num_queries(40) as few:
        client.get(QUEUE)
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(QUEUE).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; start of the answer and more words" in page  # Escaped.
    assert "more words " * 20 not in page  # Cut near 160 characters.
    assert "Thumbs down (Wrong): “&lt;i&gt;no&lt;/i&gt; 7”" in page
    # A report on the whole conversation, and who has an item open.
    reported = chat(user, title="Reported")
    Report.objects.create(conversation=reported, user=user, categories=["privacy"], comment="Mine")
    item = review.queue_add(actor=boss, conversation=reported, message=None)
    review.lock_take(item=item, user=boss)
    row = client.get(QUEUE, {"q": ""}).content.decode()
    assert "Report (Privacy concern): “Mine”" in row and "(the whole conversation)" in row
    assert '<span class="rv-row-holder">boss</span>' in row
    assert f'href="/admin/review/queueitem/{item.pk}/change/' in row


def test_the_audit_log_names_owners_and_wraps_details(client, boss, user, django_user_model):
    kept = chat(user, title="Kept")
    review.queue_add(actor=boss, conversation=kept, message=None)
    gone_owner = django_user_model.objects.create_user(username="gone", password="x")
    gone_chat = chat(gone_owner, title="Gone")
    review.queue_add(actor=boss, conversation=gone_chat, message=None)
    gone_owner.delete()
    client.force_login(boss)
    page = client.get("/admin/review/auditentry/").content.decode()
    assert f"alice (#{user.pk})" in page
    assert "(deleted)" in page
    assert 'class="field-detail_text"><code>{' in page
    assert "review/review" in page  # Its stylesheet, where long details wrap.
