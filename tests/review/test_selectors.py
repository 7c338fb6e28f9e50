"""Each read of the review app (conversations/review/selectors/), straight against the
database: what it finds, what it leaves out, and in how many queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.review import selectors, transcript
from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    DailyActiveUser,
    DailyLatency,
    DailyStat,
    DatasetOptOut,
    Feedback,
    QueueItem,
    ScoreConfig,
)
from tests import factories
from tests.review.builders import chat, rate, reply

pytestmark = pytest.mark.django_db


def queries(call):
    """(what `call()` returned, how many queries it made)."""
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return result, len(ctx.captured_queries)


def config(name: str) -> ScoreConfig:
    return ScoreConfig.objects.get(name=name)


# Access: which conversations staff may find and open.


def test_reviewers_find_only_rated_or_queued_conversations(reviewer, boss, staff, user):
    rated, queued, private = chat(user), chat(user), chat(user)
    rate(rated.current_leaf, "up")
    review.queue_auto(conversation=queued, message=None, reason=QueueItem.Reason.REPORT)
    reviewable = set(Conversation.objects.filter(selectors.reviewable_q()))
    assert reviewable == {rated, queued}
    assert set(selectors.conversations_for(user=reviewer)) == {rated, queued}
    assert set(selectors.conversations_for(user=boss)) == {rated, queued, private}
    assert not selectors.conversations_for(user=staff).exists()
    narrowed = Conversation.objects.filter(pk=rated.pk)
    assert list(selectors.conversations_for(user=reviewer, queryset=narrowed)) == [rated]


def test_a_conversation_opens_for_review_as_its_rights_allow(reviewer, boss, staff, user):
    rated, private = chat(user), chat(user)
    rate(rated.current_leaf, "down")
    found, reviewable = selectors.conversation_for_review(user=reviewer, conversation_id=rated.pk)
    assert (found, reviewable) == (rated, True)
    assert found.owner == user  # Read with the conversation, for the page's header.
    closed = (None, False)
    assert selectors.conversation_for_review(user=reviewer, conversation_id=private.pk) == closed
    assert selectors.conversation_for_review(user=boss, conversation_id=private.pk) == (
        private,
        False,
    )
    assert selectors.conversation_for_review(user=staff, conversation_id=rated.pk) == closed
    assert selectors.conversation_for_review(user=boss, conversation_id=10**9) == closed


def test_message_count_and_a_message_with_its_conversation(user):
    first, second = chat(user, turns=2), chat(user, turns=1)
    assert selectors.message_count(conversations=[first]) == 4
    assert selectors.message_count(conversations=[first, second]) == 6
    assert selectors.message_count(conversations=[]) == 0
    leaf = first.current_leaf
    message, count = queries(lambda: selectors.message_with_conversation(message_id=leaf.pk))
    assert message == leaf and count == 1
    assert queries(lambda: message.conversation.owner_id)[1] == 0
    assert selectors.message_with_conversation(message_id=str(leaf.pk)) == leaf
    assert selectors.message_with_conversation(message_id=10**9) is None


# Users: their own feedback and reports, and what staff may read of theirs.


def test_feedback_and_report_data():
    assert selectors.feedback_data(None) is None
    assert selectors.report_data(None) is None


def test_users_read_their_own_feedback_and_reports(user, other_user):
    conversation, others = chat(user, turns=2), chat(other_user)
    first, last = conversation.current_leaf.parent.parent, conversation.current_leaf
    rate(last, "down", categories=["wrong"], comment="No.")
    rate(others.current_leaf, "up")
    mine = selectors.feedback_by_message(
        user_id=user.pk, message_ids=[first.pk, last.pk, others.current_leaf.pk]
    )
    assert list(mine) == [last.pk]
    assert mine[last.pk]["rating"] == "down" and mine[last.pk]["categories"] == ["wrong"]
    assert queries(lambda: selectors.feedback_by_message(user_id=user.pk, message_ids=[])) == (
        {},
        0,
    )
    assert selectors.own_feedback(message=last).comment == "No."
    assert selectors.own_feedback(message=first) is None
    assert selectors.own_report(conversation=conversation) is None
    review.report_set(user=user, conversation=conversation, categories=["wrong"], comment="")
    report = selectors.report_data(selectors.own_report(conversation=conversation))
    assert report["categories"] == ["wrong"] and report["comment"] == ""


def test_own_assistant_message_is_a_reply_of_ones_own(user, other_user):
    conversation = chat(user)
    answer = conversation.current_leaf
    assert selectors.own_assistant_message(user=user, message_id=answer.pk) == answer
    assert selectors.own_assistant_message(user=other_user, message_id=answer.pk) is None
    question = answer.parent
    assert selectors.own_assistant_message(user=user, message_id=question.pk) is None


def test_opted_out_and_what_staff_may_read(user, other_user):
    assert not selectors.opted_out(user=user)
    DatasetOptOut.objects.create(user=user)
    assert selectors.opted_out(user=user) and not selectors.opted_out(user=other_user)
    older, private, newer = chat(user, title="older"), chat(user), chat(user, title="newer")
    rate(older.current_leaf, "up")
    rate(newer.current_leaf, "up")
    rate(chat(other_user).current_leaf, "up")
    assert selectors.readable_by_staff(user=user) == [newer, older]
    assert selectors.readable_by_staff(user=user, limit=1) == [newer]
    assert private not in selectors.readable_by_staff(user=user)


# The queue.


def test_queue_counts_by_status_reason_and_mine(reviewer, user):
    conversation = chat(user)
    review.queue_auto(conversation=conversation, message=None, reason=QueueItem.Reason.REPORT)
    failed = review.queue_auto(
        conversation=conversation, message=None, reason=QueueItem.Reason.ERROR
    )
    done = review.queue_add(actor=reviewer, conversation=conversation)
    review.queue_assign(actor=reviewer, items=[failed], assignee=reviewer)
    review.queue_set_status(actor=reviewer, items=[done], status=QueueItem.Status.DISMISSED)
    counts, count = queries(lambda: selectors.queue_counts(user=reviewer))
    assert count == 1
    assert (counts["open"], counts["in_review"], counts["mine"]) == (1, 1, 1)
    assert counts["by_reason"] == {
        "thumbs_down": 0,
        "report": 1,
        "error": 1,
        "tool_error": 0,
        "manual": 0,
    }
    assert ("Reported", "report", 1) in counts["reasons"]


def test_assignees_are_active_staff_who_may_review(reviewer, boss, staff, django_user_model):
    gone = django_user_model.objects.create_user(username="gone", is_staff=True, is_active=False)
    gone.groups.set(reviewer.groups.all())
    assert list(selectors.assignees()) == [boss, reviewer]
    assert selectors.assignee_get(user_id=reviewer.pk) == reviewer
    assert selectors.assignee_get(user_id=str(boss.pk)) == boss
    assert selectors.assignee_get(user_id=staff.pk) is None
    assert selectors.assignee_get(user_id=gone.pk) is None
    assert selectors.assignee_get(user_id=None) is None


def test_queue_items_by_id_within_a_conversation_and_as_chosen(reviewer, user):
    conversation, other = chat(user), chat(user)
    item = review.queue_add(
        actor=reviewer, conversation=conversation, message=conversation.current_leaf
    )
    assert selectors.queue_item_get(item_id=item.pk) == item
    assert selectors.queue_item_get(item_id=str(item.pk)) == item
    assert selectors.queue_item_get(item_id=10**9) is None
    assert selectors.queue_item_in(conversation=conversation, item_id=item.pk) == item
    assert selectors.queue_item_in(conversation=other, item_id=item.pk) is None
    chosen, count = queries(lambda: selectors.queue_items_chosen(items=QueueItem.objects.all()))
    assert chosen == [item] and count == 1
    assert queries(lambda: (chosen[0].conversation.title, chosen[0].message.role))[1] == 0


# The transcript.


def regenerated(owner) -> tuple[Conversation, Message, Message]:
    """A conversation whose only reply has two versions: (it, the older, the newer)."""
    conversation = chat(owner)
    old = conversation.current_leaf
    new = reply(conversation, old.parent, "again", sent=[old.parent_id])
    return conversation, old, new


def test_latest_children_follow_the_version_shown_last(user):
    conversation, old, new = regenerated(user)
    assert selectors.latest_children(conversation=conversation) == {old.parent_id: new.pk}
    services.conversation_switch(conversation=conversation, leaf_id=old.pk)
    children, count = queries(lambda: selectors.latest_children(conversation=conversation))
    assert children == {old.parent_id: old.pk} and count == 1


def test_review_work_on_messages_by_message(boss, reviewer, user):
    conversation, old, new = regenerated(user)
    rate(new, "up")
    helpfulness, hallucination = config("helpfulness"), config("hallucination")
    review.score_set(author=reviewer, message=new, config=helpfulness, raw="4")
    review.score_set(author=boss, message=new, config=helpfulness, raw="5")
    review.score_set(author=boss, message=new, config=hallucination, raw="no")
    whole = review.note_add(author=boss, conversation=conversation, message=None, text="All.")
    on_old = review.note_add(author=boss, conversation=conversation, message=old, text="Old.")
    first = review.correction_add(author=boss, message=old, content="One.")
    second = review.correction_add(author=reviewer, message=old, content="Two.")
    ids = [old.pk, new.pk]

    feedback = selectors.feedback_for_messages(message_ids=ids)
    assert list(feedback) == [new.pk] and feedback[new.pk].rating == "up"
    scores, count = queries(lambda: selectors.scores_for_messages(message_ids=ids))
    assert count == 1 and list(scores) == [new.pk]
    assert [(s.config.name, s.author.username) for s in scores[new.pk]] == [
        ("hallucination", "boss"),
        ("helpfulness", "boss"),
        ("helpfulness", "rita"),
    ]
    assert selectors.notes_for_conversation(conversation=conversation) == {
        None: [whole],
        old.pk: [on_old],
    }
    corrections, count = queries(lambda: selectors.corrections_for_messages(message_ids=ids))
    assert corrections == {old.pk: [first, second]} and count == 1
    assert queries(lambda: corrections[old.pk][1].author.username)[1] == 0


def test_queue_items_and_score_configs_for_the_transcript(reviewer, user):
    conversation = chat(user)
    assert selectors.queue_items_for_conversation(conversation=conversation) == []
    first = review.queue_add(actor=reviewer, conversation=conversation)
    second = review.queue_auto(
        conversation=conversation, message=None, reason=QueueItem.Reason.REPORT
    )
    review.queue_assign(actor=reviewer, items=[second], assignee=reviewer)
    items = selectors.queue_items_for_conversation(conversation=conversation)
    assert items == [second, first]  # Newest first.
    assert queries(lambda: (items[0].assignee.username, items[1].created_by.username))[1] == 0
    retired = config("hallucination")
    retired.active = False
    retired.save()
    names = [c.name for c in selectors.score_configs_active()]
    assert names == ["good example", "helpfulness"]
    assert selectors.score_config_active(config_id=config("helpfulness").pk).name == "helpfulness"
    assert selectors.score_config_active(config_id=retired.pk) is None
    assert selectors.score_config_active(config_id=None) is None


# Datasets.


def test_conversations_of_users_who_opted_out_are_never_eligible(user, other_user):
    mine, _, also_mine = chat(user), chat(other_user), chat(user)
    DatasetOptOut.objects.create(user=other_user)
    everything = Conversation.objects.all()
    assert set(selectors.eligible_for_datasets(queryset=everything)) == {mine, also_mine}
    rows = selectors.dataset_rows(queryset=everything, limit=10)
    assert rows == [(mine.pk, user.pk), (also_mine.pk, user.pk)]
    assert selectors.dataset_rows(queryset=everything, limit=1) == [(mine.pk, user.pk)]
    assert selectors.dataset_opt_out_count() == 1


def test_dataset_conversations_by_days_model_and_persona(user):
    shared = Persona.objects.create(name="Shared", system_prompt="Hi.")
    Persona.objects.create(name="Own", owner=user, system_prompt="Hi.")
    old, new = chat(user, model="a"), chat(user, model="b")
    Conversation.objects.filter(pk=new.pk).update(persona=shared)
    day = dt.date(2024, 3, 10)
    at = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
    Conversation.objects.filter(pk=old.pk).update(
        created_at=at - dt.timedelta(days=5), updated_at=at - dt.timedelta(days=2)
    )
    Conversation.objects.filter(pk=new.pk).update(created_at=at, updated_at=at)
    assert set(selectors.dataset_conversations()) == {old, new}
    assert list(selectors.dataset_conversations(since=day)) == [new]
    assert list(selectors.dataset_conversations(until=day - dt.timedelta(days=1))) == [old]
    assert set(selectors.dataset_conversations(until=day)) == {old, new}  # The whole day.
    assert list(selectors.dataset_conversations(model="a")) == [old]
    assert list(selectors.dataset_conversations(persona=shared)) == [new]
    personas = set(selectors.dataset_personas())
    assert shared in personas and all(p.owner_id is None for p in personas)
    assert not Persona.objects.filter(owner=user).filter(pk__in=[p.pk for p in personas])


def test_replies_a_dataset_draws_on(boss, user):
    conversation, old, new = regenerated(user)
    other = chat(user, turns=2)
    scored = other.current_leaf
    liked = other.current_leaf.parent.parent
    rate(new, "up")
    rate(old, "down")
    rate(liked, "up")
    review.score_set(author=boss, message=scored, config=config("good example"), raw="yes")
    review.score_set(author=boss, message=old, config=config("good example"), raw="no")
    streaming = factories.message_append(
        conversation=conversation, role="assistant", parent=new.parent, status="streaming"
    )
    both = [conversation.pk, other.pk]
    assert selectors.good_replies(conversation_ids=both) == [new, liked, scored]
    ended = selectors.ended_replies(conversation_ids=[conversation.pk])
    assert ended == [old, new] and streaming not in ended
    ratings = selectors.ratings_by_message(message_ids=[old.pk, new.pk, scored.pk])
    assert ratings == {old.pk: "down", new.pk: "up"}
    found = selectors.messages_by_id(message_ids={old.parent_id, new.pk, 10**9})
    assert found == {old.parent_id: old.parent, new.pk: new}
    review.correction_add(author=boss, message=old, content="First.")
    newest = review.correction_add(author=boss, message=old, content="Second.")
    assert selectors.newest_corrections(message_ids=iter([old.pk, new.pk])) == {old.pk: newest}


def test_annotations_a_dataset_draws_on(boss, user):
    conversation, elsewhere = chat(user), chat(user)
    answer = conversation.current_leaf
    for c in (conversation, elsewhere):
        rate(c.current_leaf, "down")
        review.score_set(author=boss, message=c.current_leaf, config=config("helpfulness"), raw="2")
        review.note_add(author=boss, conversation=c, message=None, text="Off.")
        review.correction_add(author=boss, message=c.current_leaf, content="Better.")
    ids = [conversation.pk]
    for reader in (
        selectors.scores_in,
        selectors.notes_in,
        selectors.corrections_in,
        selectors.feedback_in,
    ):
        rows, count = queries(lambda reader=reader: list(reader(conversation_ids=ids)))
        assert [r.conversation_id for r in rows] == [conversation.pk] and count == 1
    score = selectors.scores_in(conversation_ids=ids).get()
    assert queries(lambda: (score.config.name, score.author.username, score.message.pk)) == (
        ("helpfulness", "boss", answer.pk),
        0,
    )


# The dashboard.

DAY = dt.date(2024, 5, 1)


def test_rollups_per_day_and_per_model():
    later = DAY + dt.timedelta(days=1)
    for day, model, persona, replies, errors in (
        (DAY, "a", 0, 3, 1),
        (DAY, "b", 0, 1, 0),
        (later, "a", 0, 2, 0),
        (DAY + dt.timedelta(days=9), "a", 0, 7, 7),  # Outside the days asked for.
    ):
        DailyStat.objects.create(
            day=day,
            model=model,
            persona_id=persona,
            messages=replies + 1,
            replies=replies,
            errors=errors,
            prompt_tokens=10 * replies,
            completion_tokens=replies,
        )
    totals = selectors.daily_totals(since=DAY, until=later)
    assert {d: (r["messages"], r["replies"], r["errors"]) for d, r in totals.items()} == {
        DAY: (6, 4, 1),
        later: (3, 2, 0),
    }
    tokens = selectors.daily_tokens_by_model(since=DAY, until=later)
    assert tokens == {"a": {DAY: 33, later: 22}, "b": {DAY: 11}}
    top = selectors.top_models(since=DAY, until=later)
    assert [(m["model"], m["replies"], m["errors"]) for m in top] == [("a", 5, 1), ("b", 1, 0)]
    assert len(selectors.top_models(since=DAY, until=later, limit=1)) == 1


def test_top_personas_name_shared_ones_only(user, other_user):
    shared = Persona.objects.create(name="Helper", system_prompt="Hi.")
    mine = Persona.objects.create(name="My divorce lawyer", system_prompt="Hi.", owner=user)
    theirs = Persona.objects.create(name="Therapist Tom", system_prompt="Hi.", owner=other_user)
    for model, persona_id, replies in [
        ("a", shared.pk, 2),
        ("a", mine.pk, 4),
        ("b", mine.pk, 1),
        ("a", theirs.pk, 3),
        ("a", 999_999, 5),  # Deleted: maybe someone's own.
        ("b", 0, 9),  # No persona.
    ]:
        DailyStat.objects.create(
            day=DAY, model=model, persona_id=persona_id, replies=replies, messages=replies
        )
    top, count = queries(lambda: selectors.top_personas(since=DAY, until=DAY))
    assert [(p["name"], p["replies"], p["messages"]) for p in top] == [
        ("Users' own personas", 8, 8),
        ("Deleted personas", 5, 5),
        ("Helper", 2, 2),
    ]
    assert count == 2
    assert [p["name"] for p in selectors.top_personas(since=DAY, until=DAY, limit=1)] == [
        "Users' own personas"
    ]


def test_active_users_latency_and_ratings(user, other_user):
    later = DAY + dt.timedelta(days=1)
    DailyActiveUser.objects.create(day=DAY, user_id=user.pk, messages=3)
    DailyActiveUser.objects.create(day=DAY, user_id=other_user.pk, messages=1)
    DailyActiveUser.objects.create(day=later, user_id=user.pk, messages=2)
    active = selectors.daily_active_users(since=DAY, until=later)
    assert {d: (r["users"], r["messages"]) for d, r in active.items()} == {
        DAY: (2, 4),
        later: (1, 2),
    }
    assert selectors.active_user_total(since=DAY, until=later) == 2
    assert selectors.active_user_total(since=later, until=later) == 1
    DailyLatency.objects.create(day=DAY, bucket_ms=120, count=4)
    DailyLatency.objects.create(day=DAY, bucket_ms=2300, count=1)
    latency = selectors.daily_latency(since=DAY, until=later)
    assert {d: sorted(h) for d, h in latency.items()} == {DAY: [(120, 4), (2300, 1)]}
    conversation = chat(user, turns=2)
    rate(conversation.current_leaf, "up")
    rate(conversation.current_leaf.parent.parent, "down")
    earlier = chat(user)
    rate(earlier.current_leaf, "up")
    Feedback.objects.filter(message=earlier.current_leaf).update(
        created_at=dt.datetime.combine(DAY, dt.time(23, 59), tzinfo=dt.UTC)
    )
    today = dt.datetime.now(dt.UTC).date()
    ratings = selectors.daily_ratings(since=DAY)
    assert {d: (r["up"], r["total"]) for d, r in ratings.items()} == {DAY: (1, 1), today: (1, 2)}
    assert list(selectors.daily_ratings(since=today)) == [today]


def test_first_reply_owners_count_a_message_once(user, other_user):
    _, old, new = regenerated(user)
    theirs = chat(other_user).current_leaf
    firsts = [(DAY, old.pk, old.parent_id), (DAY, theirs.pk, theirs.parent_id)]
    found, count = queries(lambda: selectors.first_reply_owners(firsts=firsts))
    assert sorted(found) == sorted([(DAY, user.pk), (DAY, other_user.pk)]) and count == 2
    # A version made later is not the first reply: its user was counted already.
    assert selectors.first_reply_owners(firsts=[(DAY, new.pk, new.parent_id)]) == []
    # Both versions ended before the counts were written: the first still counts.
    both = [(DAY, old.pk, old.parent_id), (DAY, new.pk, new.parent_id)]
    assert selectors.first_reply_owners(firsts=both) == [(DAY, user.pk)]


# The audit log.


def test_audit_log_marks_deleted_conversations_and_finds_by_id(boss, user, other_user):
    kept, gone = chat(user), chat(other_user)
    gone_id = gone.pk
    review.audit_record(actor=boss, action=AuditEntry.Action.NOTE, conversation=kept)
    review.conversation_delete_by_staff(actor=boss, conversation=gone)
    entries = {e.conversation_id: e.conversation_exists for e in selectors.audit_log()}
    assert entries == {kept.pk: True, gone_id: False}
    everything = list(selectors.audit_log())
    for number in (kept.pk, other_user.pk):
        about = selectors.audit_log_about(queryset=selectors.audit_log(), object_id=number)
        expected = {e.pk for e in everything if number in (e.conversation_id, e.owner_id)}
        assert {e.pk for e in about} == expected
    about = selectors.audit_log_about(queryset=selectors.audit_log(), object_id=other_user.pk)
    assert gone_id in {e.conversation_id for e in about}  # By its owner, though it is gone.


def test_a_tool_calls_arguments_show_indented_or_as_sent(user):
    conversation = chat(user)
    calls = [
        {"id": "a", "name": "calculator", "arguments": '{"expression": "1 + 1"}'},
        {"id": "b", "name": "calculator", "arguments": '{"expression": '},
        # A model's arguments nested past the parser's depth: shown as sent, not a 500.
        {"id": "c", "name": "calculator", "arguments": "[" * 100_000 + "]" * 100_000},
    ]
    Message.objects.filter(pk=conversation.current_leaf_id).update(tool_calls=calls)
    page = transcript.build(conversation=conversation, leaf_id=None)
    shown = [call["arguments"] for call in page.entries[-1].tool_calls]
    assert shown == ['{\n  "expression": "1 + 1"\n}', calls[1]["arguments"], calls[2]["arguments"]]
