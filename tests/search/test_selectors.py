"""Search over HTTP: pages of 20, each conversation once, its newest matching message named."""

import pytest

from conversations import services
from conversations.search import selectors as search
from tests import factories

pytestmark = pytest.mark.django_db


def make(owner, title: str, *texts: str):
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title=title)
    parent = None
    messages = []
    for text in texts:
        parent = factories.message_append(
            conversation=conversation, role="user", content=text, parent=parent
        )
        messages.append(parent)
    return conversation, messages


def test_more_than_a_page_of_results_comes_in_pages(client, user, other_user):
    made = [
        make(user, f"Trip {i}", f"packing list {i} for the kayak", "kayak again")[0]
        for i in range(45)
    ]
    make(other_user, "Theirs", "kayak secrets")
    client.force_login(user)
    seen, offset, pages = [], 0, 0
    while offset is not None:
        data = client.get("/search.json", {"q": "kayak", "offset": offset}).json()
        assert len(data["results"]) <= 20
        seen += [hit["conversation"] for hit in data["results"]]
        offset = data["next_offset"]
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 45  # Each once, none of someone else's.
    assert seen == [c.pk for c in reversed(made)]  # Newest match first.
    assert client.get("/search.json", {"q": "kayak", "offset": "x"}).json()["next_offset"] == 20


def test_a_hit_names_its_newest_matching_message_even_past_many_matches(client, user):
    quiet, quiet_messages = make(user, "Quiet", "lentil salad")
    busy, messages = make(user, "Busy", *[f"lentil soup {i}" for i in range(120)], "no match")
    client.force_login(user)
    results = client.get("/search.json", {"q": "lentil"}).json()["results"]
    by_id = {hit["conversation"]: hit for hit in results}
    assert set(by_id) == {busy.pk, quiet.pk}  # A busy conversation does not crowd others out.
    assert by_id[busy.pk]["message"] == messages[119].pk
    assert "lentil" in by_id[busy.pk]["snippet"].lower()
    assert by_id[quiet.pk]["message"] == quiet_messages[0].pk


def test_title_hits_come_first_and_keep_a_message_when_one_matches(user):
    titled, _ = make(user, "Garden basil", "nothing here")
    both, messages = make(user, "Basil pesto", "basil and pine nuts")
    only_text, text_messages = make(user, "Dinner", "fresh basil")
    hits = search.conversation_search(user_id=user.pk, query="basil")
    assert [h["conversation"] for h in hits] == [both.pk, titled.pk, only_text.pk]
    assert hits[0]["message"] == messages[0].pk and hits[1]["message"] is None
    assert hits[2]["message"] == text_messages[0].pk and hits[2]["title"] == "Dinner"
    assert search.conversation_search(user_id=user.pk, query="basil", offset=2, limit=5) == [
        hits[2]
    ]
