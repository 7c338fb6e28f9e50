"""The queue item page: one item with its conversation and controls; saves come back to it,
"save and next" walks the reviewer's filtered list, a second reviewer finds it locked
(and their writes refused with 409), and opening it is audited once a session."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from conversations.review.models import AuditEntry, QueueItem, ReviewLock, Score, ScoreConfig
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db
ITEM = "/admin/review/queue/{}/"


@pytest.fixture
def second(django_user_model):
    """Another reviewer."""
    bob = django_user_model.objects.create_user(
        username="bob", password="pw-bob-123", is_staff=True
    )
    bob.groups.add(Group.objects.get(name="Reviewers"))
    return bob


def queued(user, n: int) -> list[QueueItem]:
    """n thumbs-down items, oldest first (the queue lists them newest first)."""
    for i in range(n):
        rate(chat(user, title=f"Chat {i}").current_leaf, "down", comment=f"bad {i}")
    return list(QueueItem.objects.order_by("pk"))


def decide(client, item, status, **extra):
    data = {"status": status, "item": item.pk, "then": "next", **extra}
    return client.post(f"/admin/review/transcript/{item.conversation_id}/queue/{item.pk}", data)


def test_the_item_page_shows_the_flagged_reply_the_users_words_and_the_keys(client, reviewer, user):
    [item] = queued(user, 1)
    client.force_login(reviewer)
    page = client.get(ITEM.format(item.pk)).content.decode()
    assert "answer 0" in page and "bad 0" in page
    assert f'id="m{item.message_id}"' in page and "rv-target" in page
    assert "Keyboard shortcuts" in page and "Resolve and next" in page
    assert '"allowEval":false' in page and '"includeIndicatorStyles":false' in page
    assert not re.search(r"hx-on[:-]", page) and "vendor/htmx.min" in page
    assert "You have this item open" in page


def test_a_reviewer_who_may_not_open_the_conversation_gets_404(client, staff, user):
    [item] = queued(user, 1)
    client.force_login(staff)
    assert client.get(ITEM.format(item.pk)).status_code in (403, 404)
    assert client.get(ITEM.format(item.pk + 100)).status_code in (403, 404)


def test_a_save_from_the_item_page_comes_back_to_it(client, reviewer, user):
    [item] = queued(user, 1)
    client.force_login(reviewer)
    client.get(ITEM.format(item.pk))
    config = ScoreConfig.objects.get(name="helpfulness")
    url = f"/admin/review/transcript/{item.conversation_id}/score"
    data = {"message": item.message_id, "config": config.pk, "value": "4", "item": item.pk}
    response = client.post(url, {**data, "_changelist_filters": "status__exact=open"})
    assert response["Location"] == (
        f"/admin/review/queue/{item.pk}/?_changelist_filters=status__exact%3Dopen"
    )
    assert Score.objects.get().value == 4
    # Saved in place by htmx: the page again, the address replaced rather than pushed.
    htmx = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{ITEM.format(item.pk)}"}
    page = client.get(ITEM.format(item.pk), headers=htmx)
    assert page["HX-Replace-Url"] == ITEM.format(item.pk)
    taken = client.post(
        f"/admin/review/transcript/{item.conversation_id}/queue/{item.pk}",
        {"assign": "me", "item": item.pk},
        follow=True,
    ).content.decode()
    assert f"Item #{item.pk} is yours." in taken and "Assign it to me" not in taken
    bad = client.post(url, {**data, "value": "9"}, follow=True).content.decode()
    assert '<p class="rv-error">helpfulness: give a number from 1 to 5.</p>' in bad


def test_save_and_next_walks_the_filtered_list_and_skips_others_items(
    client, reviewer, second, user
):
    first, middle, last = queued(user, 3)  # Listed newest first: last, middle, first.
    client.force_login(second)
    client.get(ITEM.format(middle.pk))  # Bob has the middle one open.
    client.force_login(reviewer)
    filters = "status__exact=open"
    response = decide(client, last, "resolved", note="ok", _changelist_filters=filters)
    # The middle one is Bob's: on to the first, with the way back to the last.
    assert response["Location"] == (
        f"/admin/review/queue/{first.pk}/?_changelist_filters=status__exact%3Dopen&prev={last.pk}"
    )
    last.refresh_from_db()
    assert last.status == "resolved" and last.resolution_note == "ok"
    page = client.get(response["Location"]).content.decode()
    assert f'href="/admin/review/queue/{last.pk}/?' in page  # Previous.
    # Nothing left that is open and free: it stays, saying so.
    response = decide(client, first, "dismissed", _changelist_filters=filters)
    assert response["Location"].startswith(f"/admin/review/queue/{first.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "No open item is left" in page


def test_a_second_reviewer_sees_who_has_it_and_cannot_write(client, reviewer, second, user):
    [item] = queued(user, 1)
    client.force_login(reviewer)
    client.get(ITEM.format(item.pk))
    client.force_login(second)
    page = client.get(ITEM.format(item.pk)).content.decode()
    assert "rita has this item open (until" in page
    assert '<fieldset class="rv-controls" disabled>' in page
    url = f"/admin/review/transcript/{item.conversation_id}/"
    config = ScoreConfig.objects.get(name="helpfulness")
    refused = client.post(
        url + "score", {"message": item.message_id, "config": config.pk, "value": "2"}
    )
    assert refused.status_code == 409 and "rita has this item open" in refused.content.decode()
    from_page = client.post(url + "note", {"text": "mine", "item": item.pk})
    assert from_page.status_code == 409 and "nothing was saved" in from_page.content.decode()
    assert decide(client, item, "resolved").status_code == 409
    item.refresh_from_db()
    assert item.status == "open" and not Score.objects.exists()
    # Once Rita's hold runs out, Bob takes it over without asking.
    ReviewLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(ITEM.format(item.pk)).content.decode()
    assert "You have this item open" in page
    assert ReviewLock.objects.get().holder == second
    assert decide(client, item, "resolved").status_code == 302


def test_the_poll_renews_the_lock_and_redraws_the_item_when_it_changes_hands(
    client, reviewer, second, user
):
    [item] = queued(user, 1)
    client.force_login(reviewer)
    client.get(ITEM.format(item.pk))
    ReviewLock.objects.update(expires_at=timezone.now() + timedelta(seconds=5))
    poll = f"/admin/review/queue/{item.pk}/lock"
    renewed = client.post(poll, {"held": "1"}, headers={"HX-Request": "true"})
    assert "You have this item open" in renewed.content.decode()
    assert ReviewLock.objects.get().expires_at > timezone.now() + timedelta(seconds=250)
    client.force_login(second)
    waiting = client.post(poll, {"held": "0"}, headers={"HX-Request": "true"})
    assert "rita has this item open" in waiting.content.decode()
    # Rita goes back to the queue: her lock is freed, and Bob's next poll gets the controls.
    client.force_login(reviewer)
    client.post(f"/admin/review/queue/{item.pk}/close", {"_changelist_filters": "q=x"})
    assert not ReviewLock.objects.exists()
    client.force_login(second)
    freed = client.post(poll, {"held": "0"}, headers={"HX-Request": "true"})
    assert freed["HX-Retarget"] == "#rv-item" and "Resolve and next" in freed.content.decode()
    assert ReviewLock.objects.get().holder == second


def test_filters_edited_by_hand_fall_back_to_the_whole_queue(client, reviewer, user):
    one, two = queued(user, 2)
    client.force_login(reviewer)
    for filters in ("conversation__owner__password__startswith=x", "p=99", "created_at__gte=x"):
        page = client.get(ITEM.format(two.pk), {"_changelist_filters": filters})
        assert page.status_code == 200
        assert f'href="/admin/review/queue/{one.pk}/?' in page.content.decode(), filters


def test_opening_another_item_frees_the_last(client, reviewer, user):
    one, two = queued(user, 2)
    client.force_login(reviewer)
    client.get(ITEM.format(one.pk))
    client.get(ITEM.format(two.pk))
    assert list(ReviewLock.objects.values_list("item_id", flat=True)) == [two.pk]


def test_an_item_is_audited_once_a_session(client, reviewer, user):
    one, two = queued(user, 2)
    client.force_login(reviewer)
    for _ in range(3):
        client.get(ITEM.format(one.pk))
        client.get(ITEM.format(one.pk), headers={"HX-Request": "true"})
    client.get(ITEM.format(two.pk))
    opened = AuditEntry.objects.filter(action="view_transcript")
    assert sorted(opened.values_list("queue_item_id", flat=True)) == [one.pk, two.pk]
    client.logout()
    client.force_login(reviewer)  # A new session records it again.
    client.get(ITEM.format(one.pk))
    assert opened.count() == 3
