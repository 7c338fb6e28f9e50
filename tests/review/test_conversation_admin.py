"""Conversations and messages in the admin, as review shows them: a search that matched
message text is audited without the words searched, a deletion asks without showing any
message, and each action is offered only to those it is for."""

import pytest

from conversations.review.models import AuditEntry
from tests.review.builders import chat, grant, rate

pytestmark = pytest.mark.django_db
LIST = "/admin/conversations/conversation/"


def test_a_search_of_messages_is_audited_without_its_words(client, boss, user):
    conversation = chat(user, title="Plans")
    chat(user, title="Other")
    client.force_login(boss)
    response = client.get("/admin/conversations/message/", {"q": "answer 0"})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SEARCH)
    assert entry.actor_username == "boss" and entry.detail["in"] == "messages"
    assert conversation.pk in entry.detail["shown"]
    assert "answer" not in str(entry.detail)
    client.get("/admin/conversations/message/")  # No search: nothing to record.
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH).count() == 1


def test_deleting_asks_with_counts_and_no_text(client, boss, user):
    conversation = chat(user, turns=2, title="Secret plans")
    client.force_login(boss)
    page = client.get(f"{LIST}{conversation.pk}/delete/").content.decode()
    assert f"Conversation #{conversation.pk}: 4 messages, their feedback and review" in page
    assert "question" not in page and "answer" not in page


def test_actions_are_offered_to_those_they_are_for(client, boss, reviewer, user):
    rate(chat(user).current_leaf, "down")  # Queued: reviewers see it.

    def offered(who) -> set[str]:
        client.force_login(who)
        form = client.get(LIST).context["action_form"]
        return {value for value, _ in form.fields["action"].choices if value}

    exports = {"export_finetune", "export_preference", "export_annotations"}
    assert "delete_selected" not in offered(boss)  # One at a time, never in bulk.
    assert exports | {"add_to_queue"} <= offered(boss)
    assert offered(reviewer) == {"add_to_queue"}
    grant(reviewer, "export_datasets")
    assert exports <= offered(reviewer)
